//! The one mapping from every internal failure to an HTTP status and a JSON
//! `{code, message, details}` body. It also decides the log level: 5xx are errors worth
//! waking someone for, 4xx are the caller's business.

use crate::db::{Failure, classify};
use crate::domain::DomainError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mentorsync_protocol::{ErrorBody, ErrorCode};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human-readable sentence.
    pub message: String,
    /// Structured context.
    pub details: Option<serde_json::Value>,
    /// Seconds after which a retry may succeed (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 400 with `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BAD_REQUEST, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::UNAUTHORIZED, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NOT_FOUND,
            format!("{what} not found"),
        )
    }

    /// 500; the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::INTERNAL,
            "internal error; it has been logged",
        )
    }

    /// The body this error sends.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone(),
            details: self.details.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, code = self.code, "request failed");
        } else {
            tracing::debug!(status = %self.status, code = self.code, message = %self.message, "request refused");
        }
        let retry_after = self.retry_after;
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            Failure::Unique => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::CONFLICT,
                "a concurrent change got there first (the row already exists or is already taken); reload and retry",
            ),
            Failure::Constraint => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::VALIDATION_FAILED,
                "the change would break a data rule of the database",
            ),
            Failure::Busy => {
                tracing::warn!(error = %e, "database busy");
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::UNAVAILABLE,
                    "the database is busy; retry shortly",
                );
                err.retry_after = Some(1);
                err
            }
            Failure::Other => ApiError::internal(e),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::VALIDATION_FAILED, m)
            }
            DomainError::TooLarge(m) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PAYLOAD_TOO_LARGE,
                m,
            ),
            DomainError::NotFound(entity) => ApiError::not_found(entity.as_str().replace('_', " ")),
            DomainError::Forbidden(m) => ApiError::forbidden(m),
            e @ DomainError::VersionConflict { .. } => {
                let message = e.to_string();
                let DomainError::VersionConflict {
                    entity,
                    current_version,
                    current,
                    changed_by,
                } = e
                else {
                    unreachable!()
                };
                ApiError::new(StatusCode::CONFLICT, ErrorCode::VERSION_CONFLICT, message).with_details(
                    serde_json::json!({"entity": entity, "current_version": current_version, "current": current,
                        "changed_by": changed_by}),
                )
            }
            // A taken email or key is a clash with an existing row, like a unique index.
            DomainError::Refused(r)
                if r.code == ErrorCode::EMAIL_TAKEN || r.code == ErrorCode::CONFLICT =>
            {
                ApiError::new(StatusCode::CONFLICT, r.code, r.reason)
            }
            DomainError::Refused(r) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code, r.reason)
            }
            DomainError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, ErrorCode::CONFLICT, m),
            DomainError::Database(e) => e.into(),
        }
    }
}
