//! The one error shape every mentorsync endpoint returns, and its stable codes.

use serde::{Deserialize, Serialize};

/// The JSON body of every error response: `{code, message, details}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable, machine-readable code (see [`ErrorCode`]).
    pub code: String,
    /// A sentence a person can read; never contains personal data.
    pub message: String,
    /// Extra structured context, e.g. the current row on a version conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// Stable error codes. New codes may be added; existing ones never change meaning.
pub struct ErrorCode;

#[allow(missing_docs)]
impl ErrorCode {
    pub const BAD_REQUEST: &'static str = "bad_request";
    pub const VALIDATION_FAILED: &'static str = "validation_failed";
    pub const UNAUTHORIZED: &'static str = "unauthorized";
    pub const REFRESH_REUSED: &'static str = "refresh_token_reused";
    pub const FORBIDDEN: &'static str = "forbidden";
    pub const NOT_FOUND: &'static str = "not_found";
    pub const METHOD_NOT_ALLOWED: &'static str = "method_not_allowed";
    pub const VERSION_CONFLICT: &'static str = "version_conflict";
    pub const CONFLICT: &'static str = "conflict";
    pub const CURSOR_SET_MISMATCH: &'static str = "cursor_set_mismatch";
    pub const MUTATION_GAP: &'static str = "mutation_gap";
    pub const INVALID_TRANSITION: &'static str = "invalid_transition";
    pub const OPEN_PAUSE_EXISTS: &'static str = "open_pause_exists";
    pub const CAPACITY_EXCEEDED: &'static str = "capacity_exceeded";
    pub const CERTIFICATION_INVALID: &'static str = "certification_invalid";
    pub const MENTOR_NOT_ACTIVE: &'static str = "mentor_not_active";
    pub const MENTEE_ALREADY_ASSIGNED: &'static str = "mentee_already_assigned";
    pub const NOT_ASSIGNED: &'static str = "not_assigned";
    pub const WINDOW_PASSED: &'static str = "window_passed";
    pub const NOT_DUE: &'static str = "not_due";
    pub const BAD_COMMAND: &'static str = "bad_command";
    pub const EMAIL_TAKEN: &'static str = "email_taken";
    pub const ACCOUNT_DISABLED: &'static str = "account_disabled";
    pub const ROLE_CHANGE_INVALID: &'static str = "role_change_invalid";
    pub const WRONG_ROLE: &'static str = "wrong_role";
    pub const COHORT_FULL: &'static str = "cohort_full";
    pub const SIGN_IN_CODE_INVALID: &'static str = "sign_in_code_invalid";
    pub const IMPORT_INVALID: &'static str = "import_invalid";
    pub const PAYLOAD_TOO_LARGE: &'static str = "payload_too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &'static str = "unsupported_media_type";
    pub const TOO_MANY_REQUESTS: &'static str = "too_many_requests";
    pub const TIMEOUT: &'static str = "timeout";
    pub const UNAVAILABLE: &'static str = "unavailable";
    pub const INTERNAL: &'static str = "internal";
}
