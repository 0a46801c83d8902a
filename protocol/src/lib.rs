#![doc = include_str!("../README.md")]

pub mod audit;
pub mod auth;
pub mod command;
pub mod dashboard;
pub mod error;
pub mod local_time;
pub mod machine;
pub mod model;
#[cfg(feature = "notes")]
pub mod notes;
pub mod role;
pub mod rules;
pub mod status;
pub mod sync;

pub use command::{Command, ReviewDecision};
pub use error::{ErrorBody, ErrorCode};
pub use machine::Refusal;
pub use role::Role;
pub use status::*;

/// The sync protocol versions this build of the protocol speaks.
pub const SUPPORTED_PROTOCOL_VERSIONS: &[u32] = &[1];
