//! Why a command did not happen.

use mentorsync_protocol::command::Entity;
use mentorsync_protocol::{ErrorCode, Refusal};

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
    #[error("the {entity} was changed {} (now at version {current_version})", changed_by.as_ref().map_or_else(|| "since you read it".to_owned(), |c| format!("by {c}")))]
    VersionConflict {
        /// Which entity.
        entity: Entity,
        /// Its version now.
        current_version: i64,
        /// Its current state, so the caller can show it and decide again.
        current: Option<serde_json::Value>,
        /// Who made the row's last recorded change, when it is known.
        changed_by: Option<ChangedBy>,
    },
    /// A business rule refuses it (status machine, capacity, certification…).
    #[error("{0}")]
    Refused(Refusal),
    /// A concurrent command won a uniqueness race (the database constraint caught it).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Who changed a row under a caller, in the caller's terms: a conflict with the scheduler or
/// with one's own other phone is not "someone else" and should not read like it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangedBy {
    /// A scheduled job of the server (pause start or end, certification expiry, …).
    Scheduler,
    /// The same person, from another device or session.
    YouElsewhere,
    /// An earlier command from this same device.
    ThisDevice,
    /// Another person of the chapter.
    SomeoneElse {
        /// Their display name.
        name: Option<String>,
    },
}

impl std::fmt::Display for ChangedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangedBy::Scheduler => f.write_str("a scheduled job"),
            ChangedBy::YouElsewhere => f.write_str("you, on another device"),
            ChangedBy::ThisDevice => f.write_str("an earlier command from this device"),
            ChangedBy::SomeoneElse { name: Some(n) } => write!(f, "{n}"),
            ChangedBy::SomeoneElse { name: None } => f.write_str("someone else"),
        }
    }
}

/// A rule book refusal in the shape its cause has on the server: bad input, a caller who
/// may not, a size limit, or a business rule. (A stale version goes through
/// `Ctx::decided`, which adds the current row.)
impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> Self {
        match r.code {
            ErrorCode::VALIDATION_FAILED => DomainError::Invalid(r.reason),
            ErrorCode::FORBIDDEN => DomainError::Forbidden(r.reason),
            ErrorCode::PAYLOAD_TOO_LARGE => DomainError::TooLarge(r.reason),
            _ => DomainError::Refused(r),
        }
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
