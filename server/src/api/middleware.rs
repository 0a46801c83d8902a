//! Response shaping that applies to every route, including the ones axum and tower-http
//! answer themselves (unknown path, wrong method, timeout, body limit): an error is always
//! JSON `{code, message}`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mentorsync_protocol::{ErrorBody, ErrorCode};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Drops an `x-request-id` that is not a plain token (1–64 of `A–Z a–z 0–9 - _ . :`), so
/// that a fresh one is generated: the id is echoed and written into every log line of the
/// request, and a caller's control characters or quotes must not forge log fields.
pub async fn plain_request_id(mut req: Request, next: Next) -> Response {
    let plain = |v: &HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    };
    if req
        .headers()
        .get(super::REQUEST_ID)
        .is_some_and(|v| !plain(v))
    {
        req.headers_mut().remove(super::REQUEST_ID);
    }
    next.run(req).await
}

/// Closes the connection after a response whose request body was not read to its end (a
/// refusal before the handler took the body, e.g. a 403 on a POST with `{}`). The unread
/// bytes would otherwise be taken for the next request's start, so hyper drops the
/// connection without saying so and the client's next request on it fails; with
/// `Connection: close` the client knows to open a new one.
pub async fn close_if_body_unread(req: Request, next: Next) -> Response {
    let empty = http_body::Body::is_end_stream(req.body());
    if empty {
        return next.run(req).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(ReadToEnd {
        inner: body,
        read: read.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records when it has been read to its end.
struct ReadToEnd {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for ReadToEnd {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

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
