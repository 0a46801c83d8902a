#![doc = include_str!("../README.md")]

mod action;
mod client;
mod error;
mod live;
mod observe;
mod records;
mod tokens;
mod types;

pub use action::Action;
pub use client::{ChangeListener, MentorsyncClient, Topic};
pub use error::{MentorsyncError, RefusalCode};
pub use live::{LiveListener, LiveState};
pub use observe::*;
pub use records::*;
pub use tokens::{SessionTokens, TokenStore};
pub use types::*;

uniffi::setup_scaffolding!();
