//! Dashboard endpoints: the mentor's (live, and as a stream), the coordinator's (live),
//! and the director's (from the cache the scheduler refreshes, filled on demand).

use crate::api::extract::{Json, Path, Query, page_size};
use crate::api::reads::{RosterParams, roster_filter};
use crate::auth::Caller;
use crate::dashboard::{coordinator, store, stream};
use crate::db::Acting;
use crate::domain::access;
use crate::error::ApiError;
use crate::read::roster::{decode_cursor, encode_cursor, roster};
use crate::state::AppState;
use crate::sync::events::StreamSlot;
use crate::sync::scope::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::Sse;
use axum::response::{IntoResponse, Response};
use mentorsync_protocol::ErrorBody;
use mentorsync_protocol::dashboard::{
    CohortFigures, CohortPage, CoordinatorDashboard, DirectorSummary, MentorDashboard,
};
use serde::Deserialize;
use uuid::Uuid;

/// Undeliverable notifications and findings listed on the coordinator dashboard.
const LISTED: i64 = 50;

/// Which mentor, and whose day.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MentorDashboardParams {
    /// Coordinators and admins: the mentor to show (default: the caller, a mentor).
    pub mentor_id: Option<Uuid>,
    /// The viewer's offset from UTC in minutes (-840..=840), deciding "today".
    #[serde(default)]
    pub utc_offset_minutes: i64,
}

fn offset(minutes: i64) -> Result<i64, ApiError> {
    if (-840..=840).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(ApiError::bad_request(
            "`utc_offset_minutes` must be between -840 and 840",
        ))
    }
}

/// Whose dashboard the caller may see (`domain::access::mentor_dashboard_subject`).
async fn mentor_for(
    s: &AppState,
    caller: &Caller,
    asked: Option<Uuid>,
) -> Result<String, ApiError> {
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let asked = asked.map(|u| u.to_string());
    let subject = access::mentor_dashboard_subject(&mut tx, &caller.actor, asked).await;
    tx.rollback().await?;
    subject?.ok_or_else(|| ApiError::bad_request("name the mentor with `mentor_id`"))
}

/// The mentor dashboard, computed now: queue counts, today's sessions, mentees at risk,
/// weekly slots used.
#[utoipa::path(get, path = "/api/v1/mentor/dashboard", tag = "dashboards", security(("bearer" = [])),
    params(MentorDashboardParams),
    responses((status = 200, body = MentorDashboard), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn mentor_dashboard(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<MentorDashboardParams>,
) -> Result<Json<MentorDashboard>, ApiError> {
    let offset = offset(p.utc_offset_minutes)?;
    let id = mentor_for(&s, &caller, p.mentor_id).await?;
    stream::current(&s, &caller.actor.chapter_id, &id, offset)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("mentor"))
}

/// The day shown by the stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// The viewer's offset from UTC in minutes (-840..=840).
    #[serde(default)]
    pub utc_offset_minutes: i64,
}

/// Server-Sent Events: a `dashboard` event (a MentorDashboard) at once and whenever the
/// figures change; heartbeats every `stream_heartbeat` (15 s). Mentors only.
#[utoipa::path(get, path = "/api/v1/mentor/dashboard/stream", tag = "dashboards", security(("bearer" = [])),
    params(StreamParams),
    responses((status = 200, description = "text/event-stream of `dashboard` events"), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn mentor_dashboard_stream(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<StreamParams>,
) -> Result<Response, ApiError> {
    access::may_stream_dashboard(&caller.actor)?;
    let offset = offset(p.utc_offset_minutes)?;
    let max = s.settings.event_streams_per_user;
    let slot = StreamSlot::take(&s, &caller, max).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            mentorsync_protocol::ErrorCode::TOO_MANY_REQUESTS,
            format!("at most {max} open streams per user; close one first"),
        )
    })?;
    let viewer = Viewer {
        chapter_id: caller.actor.chapter_id.clone(),
        user_id: caller.user_id.clone(),
        role: caller.role,
    };
    let events = stream::follow(s.clone(), viewer, offset, slot).await?;
    Ok(Sse::new(events)
        .keep_alive(super::heartbeat(&s.settings))
        .into_response())
}

/// The coordinator dashboard, computed now: figures, a roster page (the roster endpoint's
/// filters), undeliverable notifications and open findings. Admins see the chapter.
#[utoipa::path(get, path = "/api/v1/coordinator/dashboard", tag = "dashboards", security(("bearer" = [])),
    params(RosterParams),
    responses((status = 200, body = CoordinatorDashboard), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn coordinator_dashboard(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<RosterParams>,
) -> Result<Json<CoordinatorDashboard>, ApiError> {
    let filter = roster_filter(&s, &caller, p)?;
    let chapter = caller.actor.chapter_id.as_str();
    let whose = match &filter.coordinator_id {
        Some(id) => coordinator::Whose::Coordinator(id),
        None => coordinator::Whose::Chapter,
    };
    let now = s.now();
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let mut figures = coordinator::compute(&mut tx, chapter, whose, now).await?;
    let key = filter
        .coordinator_id
        .clone()
        .unwrap_or_else(|| chapter.to_owned());
    let figures = figures
        .remove(&key)
        .ok_or_else(|| ApiError::not_found("coordinator"))?;
    let page = roster(&mut tx, chapter, &filter)
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let undeliverable =
        coordinator::undeliverable(&mut tx, chapter, filter.coordinator_id.as_deref(), LISTED)
            .await?;
    let findings =
        coordinator::open_findings(&mut tx, chapter, filter.coordinator_id.as_deref(), LISTED)
            .await?;
    tx.rollback().await?;
    Ok(Json(CoordinatorDashboard {
        figures,
        roster: page,
        undeliverable,
        findings,
    }))
}

/// Directors see the cohorts they direct; admins every cohort of the chapter.
fn director_scope(caller: &Caller) -> Result<Option<&str>, ApiError> {
    Ok(access::cohort_director(&caller.actor)?)
}

/// Computes cached figures for the viewer's cohorts that have none yet.
async fn fill_cache(s: &AppState, chapter: &str, director: Option<&str>) -> Result<(), ApiError> {
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let missing = store::uncached_cohorts(&mut tx, chapter, director).await?;
    tx.rollback().await?;
    if !missing.is_empty() {
        store::refresh(&s.db, chapter, s.now(), store::Subjects::Cohorts(&missing)).await?;
    }
    Ok(())
}

async fn summary(s: &AppState, caller: &Caller) -> Result<DirectorSummary, ApiError> {
    let director = director_scope(caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    fill_cache(s, chapter, director).await?;
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let all = store::cached_cohorts(&mut tx, chapter, director, None, None, i64::MAX).await?;
    tx.rollback().await?;
    Ok(crate::dashboard::cohort::summarize(&all))
}

/// The caller's cohorts added up, from the cache; `computed_at` is the oldest figure's.
#[utoipa::path(get, path = "/api/v1/director/dashboard/summary", tag = "dashboards", security(("bearer" = [])),
    responses((status = 200, body = DirectorSummary), (status = 403, body = ErrorBody)))]
pub async fn director_summary(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<DirectorSummary>, ApiError> {
    Ok(Json(summary(&s, &caller).await?))
}

/// Paging through cohorts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CohortParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The caller's cohorts by name, one page at a time, from the cache.
#[utoipa::path(get, path = "/api/v1/director/dashboard/cohorts", tag = "dashboards", security(("bearer" = [])),
    params(CohortParams),
    responses((status = 200, body = CohortPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn director_cohorts(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<CohortParams>,
) -> Result<Json<CohortPage>, ApiError> {
    let director = director_scope(&caller)?;
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    let after = p
        .cursor
        .as_deref()
        .map(decode_cursor)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let chapter = caller.actor.chapter_id.as_str();
    fill_cache(&s, chapter, director).await?;
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let mut cohorts = store::cached_cohorts(
        &mut tx,
        chapter,
        director,
        None,
        after,
        i64::from(limit) + 1,
    )
    .await?;
    tx.rollback().await?;
    let next_cursor = if cohorts.len() > limit as usize {
        cohorts.truncate(limit as usize);
        cohorts.last().map(|c| encode_cursor(&c.name, &c.cohort_id))
    } else {
        None
    };
    Ok(Json(CohortPage {
        cohorts,
        next_cursor,
    }))
}

/// One cohort's figures, from the cache.
#[utoipa::path(get, path = "/api/v1/director/dashboard/cohorts/{cohort_id}", tag = "dashboards", security(("bearer" = [])),
    params(("cohort_id" = Uuid, Path, description = "The cohort")),
    responses((status = 200, body = CohortFigures), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn director_cohort(
    State(s): State<AppState>,
    caller: Caller,
    Path(cohort_id): Path<Uuid>,
) -> Result<Json<CohortFigures>, ApiError> {
    let director = director_scope(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let id = cohort_id.to_string();
    fill_cache(&s, chapter, director).await?;
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let found = store::cached_cohorts(&mut tx, chapter, director, Some(&id), None, 1).await?;
    tx.rollback().await?;
    found
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::not_found("cohort"))
}

/// Figures computed this recently are fresh enough for a refresh.
pub const REFRESH_FLOOR_MS: i64 = 30_000;

/// Recomputes the caller's cohorts now (instead of waiting for the 5-minute refresh) and
/// returns the new summary. Cohorts computed in the last 30 seconds are not computed again.
#[utoipa::path(post, path = "/api/v1/director/dashboard/refresh", tag = "dashboards", security(("bearer" = [])),
    responses((status = 200, body = DirectorSummary), (status = 403, body = ErrorBody)))]
pub async fn director_refresh(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<DirectorSummary>, ApiError> {
    let director = director_scope(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let now = s.now();
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    // Only cohorts whose figures are older than the floor are computed again: a refresh
    // button pressed in a loop (or by 500 directors at once) costs one computation per
    // cohort per floor, not one per press.
    let ids: Vec<String> = tx
        .fetch_all(
            crate::db::q(
                "SELECT c.id FROM cohorts c WHERE c.chapter_id = $1 AND ($2 IS NULL OR c.id IN \
                 (SELECT cohort_id FROM cohort_directors WHERE director_id = $2)) AND NOT EXISTS \
                 (SELECT 1 FROM dashboards d WHERE d.kind = 'cohort' AND d.subject_id = c.id \
                 AND d.computed_at > $3)",
            )
            .bind(chapter)
            .bind(director)
            .bind(now - REFRESH_FLOOR_MS),
        )
        .await?;
    tx.rollback().await?;
    if !ids.is_empty() {
        store::refresh(&s.db, chapter, now, store::Subjects::Cohorts(&ids)).await?;
    }
    Ok(Json(summary(&s, &caller).await?))
}
