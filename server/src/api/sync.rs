//! The delta-sync endpoints. Every request states the protocol version it speaks.

use crate::api::extract::{Json, Query};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::{events, pull, push, scope::Viewer};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Sse;
use axum::response::{IntoResponse, Response};
use mentorsync_protocol::ErrorBody;
use mentorsync_protocol::SUPPORTED_PROTOCOL_VERSIONS;
use mentorsync_protocol::sync::{
    PROTOCOL_HEADER, PullResponse, PushRequest, PushResponse, SyncSet,
};
use serde::Deserialize;

/// Refuses a request whose protocol version (header, or `protocol` query parameter for
/// EventSource clients that cannot set headers) this server does not speak.
fn check_protocol(headers: &HeaderMap, query: Option<&str>) -> Result<(), ApiError> {
    let stated = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(query);
    let supported = serde_json::json!({"supported": SUPPORTED_PROTOCOL_VERSIONS});
    match stated.map(|s| s.trim().parse::<u32>()) {
        Some(Ok(v)) if SUPPORTED_PROTOCOL_VERSIONS.contains(&v) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_protocol_version",
            format!("this server speaks sync protocol versions {SUPPORTED_PROTOCOL_VERSIONS:?}; update the app"),
        )
        .with_details(supported)),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_protocol_version",
            format!("state the sync protocol version in the `{PROTOCOL_HEADER}` header (supported: {SUPPORTED_PROTOCOL_VERSIONS:?})"),
        )
        .with_details(supported)),
    }
}

fn viewer(c: &Caller) -> Viewer {
    Viewer {
        chapter_id: c.actor.chapter_id.clone(),
        user_id: c.user_id.clone(),
        role: c.role,
    }
}

/// Pull parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PullParams {
    /// This device's id (UUID).
    #[param(format = Uuid)]
    pub client_id: String,
    /// The cursor from the previous page or round; absent on first sync.
    pub cursor: Option<String>,
    /// Page size (default 500; 0 counts as 1, more than 1000 as 1000).
    pub limit: Option<u32>,
    /// Verdicts up to this mutation id have been applied; they are not sent again.
    pub ack: Option<i64>,
    /// One stream (`roster`, `queue`, `rest`) with its own cursor; all entities when absent.
    pub set: Option<SyncSet>,
}

/// One page of changes in the caller's scopes.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", security(("bearer" = [])), params(PullParams),
    responses((status = 200, body = PullResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn pull(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<PullParams>,
) -> Result<Json<PullResponse>, ApiError> {
    check_protocol(&headers, None)?;
    let req = pull::PullRequest {
        client_id: p.client_id,
        cursor: p.cursor,
        limit: p.limit,
        ack: p.ack,
        set: p.set,
    };
    Ok(Json(
        pull::pull(&s.db, &viewer(&caller), req, s.now()).await?,
    ))
}

/// Applies an outbox of commands exactly once, in order.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn push(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(req): Json<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    check_protocol(&headers, None)?;
    let clock = s.clock.clone();
    Ok(Json(
        push::push(&s.db, &caller.actor, &caller.user_id, req, move || {
            clock.now_ms()
        })
        .await?,
    ))
}

/// Events parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// The protocol version, for clients that cannot set headers.
    pub protocol: Option<String>,
}

/// Server-Sent Events: `poke` events (`{"position": n}`, id = n) when a change the caller
/// can see commits, on any server instance; heartbeats every `stream_heartbeat` (15 s).
#[utoipa::path(get, path = "/api/v1/sync/events", tag = "sync", security(("bearer" = [])), params(EventsParams),
    responses((status = 200, description = "text/event-stream of `poke` events"), (status = 400, body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<EventsParams>,
) -> Result<Response, ApiError> {
    check_protocol(&headers, p.protocol.as_deref())?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let max = s.settings.event_streams_per_user;
    let slot = events::StreamSlot::take(&s, &caller, max).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            mentorsync_protocol::ErrorCode::TOO_MANY_REQUESTS,
            format!("at most {max} open event streams per user; close one first"),
        )
    })?;
    let stream = events::follow(s.clone(), viewer(&caller), last_event_id, slot).await?;
    Ok(Sse::new(stream)
        .keep_alive(super::heartbeat(&s.settings))
        .into_response())
}
