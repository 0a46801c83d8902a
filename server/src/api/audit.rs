//! Reading the audit trail: the chapter's for admins (operators' and integrators' window
//! into who changed what), one mentor's history for the people who manage that mentor.

use crate::api::extract::{Json, Path, Query, page_size};
use crate::auth::Caller;
use crate::db::Acting;
use crate::domain::{Ctx, access};
use crate::error::ApiError;
use crate::read::audit::{AuditFilter, chapter_trail, mentor_history};
use crate::state::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use mentorsync_protocol::ErrorBody;
use mentorsync_protocol::audit::AuditPage;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::Mentor;
use serde::Deserialize;
use uuid::Uuid;

/// Audit filters and paging. Times are RFC 3339; write UTC as `Z` (a `+` in a query
/// string means a space unless it is sent as `%2B`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only changes of this kind of row.
    pub entity: Option<Entity>,
    /// Only changes of this row.
    pub entity_id: Option<Uuid>,
    /// Only changes made by this person.
    pub actor_id: Option<Uuid>,
    /// Only changes at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only changes before this time.
    pub until: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The chapter's audit trail, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_audit(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    access::may_read_audit(&caller.actor)?;
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    if let (Some(since), Some(until)) = (p.since, p.until)
        && until <= since
    {
        return Err(ApiError::bad_request("`until` must be after `since`"));
    }
    let filter = AuditFilter {
        entity: p.entity,
        entity_id: p.entity_id.map(|i| i.to_string()),
        actor_id: p.actor_id.map(|i| i.to_string()),
        since: p.since.map(|t| t.timestamp_millis()),
        until: p.until.map(|t| t.timestamp_millis()),
        cursor: p.cursor,
        limit,
    };
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let page = chapter_trail(&mut tx, &caller.actor.chapter_id, &filter)
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(page))
}

/// Paging through a history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A mentor's history, newest first: their status changes, pauses and assignments, who
/// made each change and when (the mentor's coordinator, admins).
#[utoipa::path(get, path = "/api/v1/mentors/{id}/history", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id"), HistoryParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_mentor_history(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(p): Query<HistoryParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    let now = s.now();
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    {
        let mut ctx = Ctx::new(&mut tx, &caller.actor, now, None);
        let mentor: Mentor = ctx.load(Entity::Mentor, &id.to_string(), false).await?;
        crate::domain::require_manages_mentor(&mut ctx, &mentor.id).await?;
    }
    let page = mentor_history(
        &mut tx,
        &caller.actor.chapter_id,
        &id.to_string(),
        p.cursor.as_deref(),
        limit,
    )
    .await?
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(page))
}
