#![doc = include_str!("../README.md")]

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod epoch;
pub mod error;
pub mod jobs;
pub mod memory;
pub mod notify;
pub mod operator;
pub mod read;
pub mod roster_file;
pub mod rows;
pub mod seed;
pub mod serve;
pub mod state;
pub mod sync;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use state::{AppState, Settings};
