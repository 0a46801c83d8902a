//! Why a command did not happen.

use mentorsync_protocol::Refusal;
use mentorsync_protocol::command::Entity;

/// A command's failure. Everything but `Database` is the caller's to act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that can never be valid (empty reason, malformed id, end before start).
    #[error("{0}")]
    Invalid(String),
    /// Within the rules' shape but past a size limit (named in the message).
    #[error("{0}")]
    TooLarge(String),
    /// No such row in the caller's chapter.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The caller may not do this to this row.
    #[error("{0}")]
    Forbidden(String),
    /// The row changed since the caller read it.
    #[error("the {entity} was changed by someone else (now at version {current_version})")]
    VersionConflict {
        /// Which entity.
        entity: Entity,
        /// Its version now.
        current_version: i64,
        /// Its current state, so the caller can show it and decide again.
        current: Option<serde_json::Value>,
    },
    /// A business rule refuses it (status machine, capacity, certification…).
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// A concurrent command won a uniqueness race (the database constraint caught it).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl DomainError {
    /// Shorthand for a business-rule refusal.
    pub fn refuse(code: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Refused(Refusal::new(code, reason))
    }
}

impl From<mentorsync_protocol::notes::NotesError> for DomainError {
    fn from(e: mentorsync_protocol::notes::NotesError) -> Self {
        use mentorsync_protocol::notes::NotesError;
        match e {
            NotesError::Invalid(m) => DomainError::Invalid(format!("invalid notes change: {m}")),
            NotesError::TooLarge(m) => DomainError::TooLarge(m),
        }
    }
}
