#![doc = include_str!("../README.md")]

mod client;
pub mod dashboards;
pub mod error;
pub mod http;
pub mod listeners;
pub mod lists;
pub mod optimistic;
pub mod outbox;
pub mod pull;
pub mod query;
pub mod rows;
pub mod store;
#[cfg(test)]
mod testing;
pub mod tokens;

pub use client::{Client, LiveState, SetStatus, SyncProgress, SyncReport, SyncStatus};
pub use error::{CoreError, Result};
pub use listeners::{Subscription, Topic};
pub use lists::{MenteeFilter, MenteeItem};
pub use mentorsync_protocol as protocol;
pub use outbox::{PendingCommand, Queued, RejectedCommand};
pub use query::{QueueStats, RosterFilter, RosterItem, RosterSort};
pub use tokens::{ClientOptions, FileTokens, TokenStore, Tokens};
