//! Delta sync: scoped, paginated, checkpointed pulls; exactly-once pushes; event pokes.
//! The protocol is described in docs/sync-protocol.md.

pub mod client;
pub mod compact;
pub mod cursor;
pub mod events;
pub mod pull;
pub mod push;
pub mod scope;

use crate::error::ApiError;
use axum::http::StatusCode;
use mentorsync_protocol::ErrorCode;

/// Why a sync request failed as a whole (per-mutation refusals are verdicts, not errors).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The cursor was not issued by this server.
    #[error("the cursor is not one this server issued; start again without a cursor")]
    BadCursor,
    /// The cursor belongs to another set than the one asked for.
    #[error(
        "this cursor was issued for {issued}, not for {asked}; use the cursor kept for {asked}, or start it without one"
    )]
    CursorSet {
        /// The set it was issued for.
        issued: &'static str,
        /// The set asked for.
        asked: &'static str,
    },
    /// The client id is not a UUID.
    #[error("`client_id` must be a UUID")]
    BadClientId,
    /// The caller already syncs from as many devices as allowed.
    #[error(
        "this account already syncs from {max} devices seen in the last 30 days; sign out on one of them, or wait for an unused one to lapse"
    )]
    TooManyDevices {
        /// The limit.
        max: i64,
    },
    /// The client id is registered to someone else.
    #[error("this client_id belongs to another user")]
    ClientNotYours,
    /// Mutation ids must continue where the server is.
    #[error("mutation ids must be contiguous and continue from {expected}")]
    Gap {
        /// The next mutation id the server expects.
        expected: i64,
    },
    /// A malformed push.
    #[error("{0}")]
    BadRequest(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let message = e.to_string();
        match e {
            SyncError::BadCursor | SyncError::BadClientId | SyncError::BadRequest(_) => {
                ApiError::bad_request(message)
            }
            SyncError::CursorSet { issued, asked } => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::CURSOR_SET_MISMATCH,
                message,
            )
            .with_details(serde_json::json!({"issued_for": issued, "asked_for": asked})),
            SyncError::ClientNotYours => ApiError::forbidden(message),
            SyncError::TooManyDevices { max } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TOO_MANY_REQUESTS,
                message,
            )
            .with_details(serde_json::json!({"max_devices": max})),
            SyncError::Gap { expected } => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::MUTATION_GAP, message)
                    .with_details(serde_json::json!({"expected_mutation_id": expected}))
            }
            SyncError::Database(e) => e.into(),
        }
    }
}
