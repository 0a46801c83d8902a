//! Errors of the core. Callers act on the variant; the message is for logs and people.

use mentorsync_protocol::Refusal;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The server could not be reached, timed out, or answered that it cannot serve now
    /// (408, 502, 503, 504: restarting, its database busy). Work continues offline.
    #[error("offline: {0}")]
    Offline(String),
    /// Not signed in, or the session ended (refresh failed): sign in again.
    #[error("sign in required: {0}")]
    Unauthorized(String),
    /// The command cannot succeed (checked locally with the server's own rules).
    #[error("{reason}")]
    Rejected {
        /// Stable code (`invalid_transition`, `forbidden`, …).
        code: String,
        /// A sentence for the person.
        reason: String,
    },
    /// The server answered something this client does not understand, or refused the
    /// protocol version.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Signing in as someone else, or signing out, would lose commands queued on this
    /// device that the server has not confirmed: sync them first (as `owner`), or discard
    /// them explicitly with `Client::discard_pending`.
    #[error(
        "this device holds {count} command(s) of {owner} the server has not confirmed; sync them first, or discard them"
    )]
    PendingCommands {
        /// How many commands wait.
        count: u64,
        /// Whose they are (their email).
        owner: String,
    },
    /// The local database failed, or is newer than this app.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::Storage(format!("corrupt local row: {e}"))
    }
}

impl From<Refusal> for CoreError {
    fn from(r: Refusal) -> Self {
        CoreError::Rejected {
            code: r.code.to_owned(),
            reason: r.reason,
        }
    }
}

/// Results of the core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
