//! Response shaping that applies to every route, including the ones axum and tower-http
//! answer themselves (unknown path, wrong method, timeout, body limit): an error is always
//! JSON `{code, message}`.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mentorsync_protocol::{ErrorBody, ErrorCode};

/// Replaces any non-JSON error body with the standard error shape.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NOT_FOUND, "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::METHOD_NOT_ALLOWED,
            "this endpoint does not accept that method",
        ),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::TIMEOUT, "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type",
        ),
        s if s.is_server_error() => (ErrorCode::INTERNAL, "internal error"),
        _ => (ErrorCode::BAD_REQUEST, "bad request"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    let body = ErrorBody {
        code: code.to_owned(),
        message: message.to_owned(),
        details: None,
    };
    let mut fresh = (status, axum::Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let (fresh_parts, fresh_body) = fresh.into_parts();
    Response::from_parts(fresh_parts, Body::new(fresh_body))
}
