//! The core's error as a small typed hierarchy at the FFI edge: each case says what the
//! app can do about it, and a refusal carries a code the app can switch on.

use mentorsync_core::CoreError;
use mentorsync_core::protocol::ErrorCode;

/// Why a command is refused, for the app to act on (the reason is for the person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RefusalCode {
    /// An argument is malformed (the reason names it).
    ValidationFailed,
    /// The person may not do this, or not to this row.
    Forbidden,
    /// The row is not on this device or not on the server.
    NotFound,
    /// Someone changed the row first; look at it again.
    VersionConflict,
    /// Another row already holds this (an id, an external id).
    Conflict,
    /// The row's status does not allow this now.
    InvalidTransition,
    /// The mentor already has a pause requested, scheduled or running.
    OpenPauseExists,
    /// The mentor holds as many mentees as their capacity.
    CapacityExceeded,
    /// The mentor's certification has expired (or there is none).
    CertificationInvalid,
    /// The mentor is paused or inactive.
    MentorNotActive,
    /// The mentee already has a mentor.
    MenteeAlreadyAssigned,
    /// The mentee is not this mentor's.
    NotAssigned,
    /// The time for this has passed.
    WindowPassed,
    /// It is not due yet.
    NotDue,
    /// The email belongs to another account.
    EmailTaken,
    /// The account is disabled.
    AccountDisabled,
    /// The role cannot change that way.
    RoleChangeInvalid,
    /// The person does not have the role this needs (a mentor id that is no mentor).
    WrongRole,
    /// The cohort has no seat left.
    CohortFull,
    /// A code this app does not know yet (a newer server): show the reason.
    Other,
}

impl RefusalCode {
    /// The case of a wire code (a command refused now, or one the server refused later).
    pub(crate) fn parse(code: &str) -> RefusalCode {
        use RefusalCode::*;
        match code {
            ErrorCode::VALIDATION_FAILED | ErrorCode::BAD_COMMAND | ErrorCode::BAD_REQUEST => {
                ValidationFailed
            }
            ErrorCode::FORBIDDEN => Forbidden,
            ErrorCode::NOT_FOUND => NotFound,
            ErrorCode::VERSION_CONFLICT => VersionConflict,
            ErrorCode::CONFLICT => Conflict,
            ErrorCode::INVALID_TRANSITION => InvalidTransition,
            ErrorCode::OPEN_PAUSE_EXISTS => OpenPauseExists,
            ErrorCode::CAPACITY_EXCEEDED => CapacityExceeded,
            ErrorCode::CERTIFICATION_INVALID => CertificationInvalid,
            ErrorCode::MENTOR_NOT_ACTIVE => MentorNotActive,
            ErrorCode::MENTEE_ALREADY_ASSIGNED => MenteeAlreadyAssigned,
            ErrorCode::NOT_ASSIGNED => NotAssigned,
            ErrorCode::WINDOW_PASSED => WindowPassed,
            ErrorCode::NOT_DUE => NotDue,
            ErrorCode::EMAIL_TAKEN => EmailTaken,
            ErrorCode::ACCOUNT_DISABLED => AccountDisabled,
            ErrorCode::ROLE_CHANGE_INVALID => RoleChangeInvalid,
            ErrorCode::WRONG_ROLE => WrongRole,
            ErrorCode::COHORT_FULL => CohortFull,
            _ => Other,
        }
    }
}

/// What went wrong. Each case says what the app can do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MentorsyncError {
    /// The server could not be reached. Keep working: commands wait in the outbox.
    #[error("offline: {detail}")]
    Offline {
        /// Technical detail for logs.
        detail: String,
    },
    /// Sign in (again): no session, or it ended.
    #[error("sign in required: {detail}")]
    Unauthorized {
        /// Technical detail for logs.
        detail: String,
    },
    /// The command cannot succeed; show `reason` to the person.
    #[error("{reason}")]
    Rejected {
        /// What kind of refusal.
        code: RefusalCode,
        /// A sentence for the person (the server's own words).
        reason: String,
    },
    /// The server answered something this app does not understand: update the app.
    #[error("protocol: {detail}")]
    Protocol {
        /// Technical detail for logs.
        detail: String,
    },
    /// Signing in as someone else, or signing out, would lose commands the server has not
    /// confirmed: sync them first (as `owner`), or call `discard_pending()` after asking.
    #[error("{count} command(s) of {owner} are not confirmed by the server yet")]
    PendingCommands {
        /// How many commands wait.
        count: u64,
        /// Whose they are (email).
        owner: String,
    },
    /// The device database failed.
    #[error("storage: {detail}")]
    Storage {
        /// Technical detail for logs.
        detail: String,
    },
    /// Anything else (for example a listener of the app threw).
    #[error("{detail}")]
    Other {
        /// Technical detail for logs.
        detail: String,
    },
}

impl From<CoreError> for MentorsyncError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Offline(detail) => MentorsyncError::Offline { detail },
            CoreError::Unauthorized(detail) => MentorsyncError::Unauthorized { detail },
            CoreError::Rejected { code, reason } => MentorsyncError::Rejected {
                code: RefusalCode::parse(&code),
                reason,
            },
            CoreError::Protocol(detail) => MentorsyncError::Protocol { detail },
            CoreError::PendingCommands { count, owner } => {
                MentorsyncError::PendingCommands { count, owner }
            }
            CoreError::Storage(detail) => MentorsyncError::Storage { detail },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for MentorsyncError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        MentorsyncError::Other { detail: e.reason }
    }
}

/// The bindings' result.
pub type Result<T> = std::result::Result<T, MentorsyncError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code a command can be refused with has its own case; only codes a command
    /// never gets (transport, auth, limits) fall to `Other`.
    #[test]
    fn every_refusal_code_has_a_case() {
        for code in [
            ErrorCode::VALIDATION_FAILED,
            ErrorCode::FORBIDDEN,
            ErrorCode::NOT_FOUND,
            ErrorCode::VERSION_CONFLICT,
            ErrorCode::CONFLICT,
            ErrorCode::INVALID_TRANSITION,
            ErrorCode::OPEN_PAUSE_EXISTS,
            ErrorCode::CAPACITY_EXCEEDED,
            ErrorCode::CERTIFICATION_INVALID,
            ErrorCode::MENTOR_NOT_ACTIVE,
            ErrorCode::MENTEE_ALREADY_ASSIGNED,
            ErrorCode::NOT_ASSIGNED,
            ErrorCode::WINDOW_PASSED,
            ErrorCode::NOT_DUE,
            ErrorCode::EMAIL_TAKEN,
            ErrorCode::ACCOUNT_DISABLED,
            ErrorCode::ROLE_CHANGE_INVALID,
            ErrorCode::WRONG_ROLE,
            ErrorCode::COHORT_FULL,
        ] {
            assert_ne!(RefusalCode::parse(code), RefusalCode::Other, "{code}");
        }
        assert_eq!(RefusalCode::parse("something_new"), RefusalCode::Other);
    }
}
