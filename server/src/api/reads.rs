//! REST endpoints that read: roster, work queue, mentee cockpit, a mentor.

use crate::api::extract::{Json, Path, Query, page_size};
use crate::auth::Caller;
use crate::db::Acting;
use crate::domain::{Ctx, access};
use crate::error::ApiError;
use crate::read::cockpit::cockpit;
use crate::read::roster::{RosterFilter, roster};
use crate::read::workqueue::work_queue;
use crate::state::AppState;
use axum::extract::State;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::{Cockpit, Mentee, Mentor, RosterPage, WorkQueue};
use mentorsync_protocol::{ErrorBody, MentorStatus};
use serde::Deserialize;
use uuid::Uuid;

/// Roster filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RosterParams {
    /// Only mentors in this status.
    pub status: Option<MentorStatus>,
    /// Only mentors whose certification expires within this many days (or has expired).
    pub certification_expiring_within_days: Option<u32>,
    /// Case-insensitive part of the mentor's name.
    pub q: Option<String>,
    /// Admins: the roster of this coordinator (default: the whole chapter).
    pub coordinator_id: Option<Uuid>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A coordinator's roster (admins: the chapter's, or a coordinator's), one query per page.
#[utoipa::path(get, path = "/api/v1/coordinator/roster", tag = "coordinator", security(("bearer" = [])), params(RosterParams),
    responses((status = 200, body = RosterPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_roster(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<RosterParams>,
) -> Result<Json<RosterPage>, ApiError> {
    let filter = roster_filter(&s, &caller, p)?;
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let page = roster(&mut tx, &caller.actor.chapter_id, &filter)
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(page))
}

/// Work-queue selection.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// Coordinators and admins: one mentor's queue.
    pub mentor_id: Option<Uuid>,
    /// How many items, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The work queue: overdue first, then priority, then SLA. Mentors see their own;
/// coordinators their roster's (or one mentor's); admins the chapter's (or one mentor's).
#[utoipa::path(get, path = "/api/v1/mentor/workqueue", tag = "workqueue", security(("bearer" = [])), params(QueueParams),
    responses((status = 200, body = WorkQueue), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_work_queue(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<QueueParams>,
) -> Result<Json<WorkQueue>, ApiError> {
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let asked = p.mentor_id.map(|m| m.to_string());
    let owner = access::work_queue_owner(&mut tx, &caller.actor, asked).await?;
    Ok(Json(
        work_queue(&mut tx, &caller.actor.chapter_id, &owner, s.now(), limit).await?,
    ))
}

/// One mentee on one screen (their mentor, the mentor's coordinator, admins).
#[utoipa::path(get, path = "/api/v1/mentor/mentees/{mentee_id}/cockpit", tag = "mentees", security(("bearer" = [])),
    params(("mentee_id" = Uuid, Path, description = "mentee id")),
    responses((status = 200, body = Cockpit), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_cockpit(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Cockpit>, ApiError> {
    access::may_open_cockpit(&caller.actor)?;
    let now = s.now();
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let mentee = {
        let mut ctx = Ctx::new(&mut tx, &caller.actor, now, None);
        let mentee: Mentee = ctx.load(Entity::Mentee, &id.to_string(), false).await?;
        crate::domain::require_mentee_access(&mut ctx, &mentee.id).await?;
        mentee
    };
    Ok(Json(cockpit(&mut tx, mentee, now).await?))
}

/// A mentor's profile and status (the mentor, their coordinator, admins).
#[utoipa::path(get, path = "/api/v1/mentors/{id}", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id")),
    responses((status = 200, body = Mentor), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_mentor(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Mentor>, ApiError> {
    let now = s.now();
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let mut ctx = Ctx::new(&mut tx, &caller.actor, now, None);
    let mentor: Mentor = ctx.load(Entity::Mentor, &id.to_string(), false).await?;
    crate::domain::require_mentor_or_manager(&mut ctx, &mentor.id).await?;
    Ok(Json(mentor))
}

/// The roster a caller asked for and may see: coordinators their own, admins the
/// chapter's or one coordinator's.
pub(crate) fn roster_filter(
    s: &AppState,
    caller: &Caller,
    p: RosterParams,
) -> Result<RosterFilter, ApiError> {
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    let coordinator_id =
        access::roster_owner(&caller.actor, p.coordinator_id.map(|c| c.to_string()))?;
    let now = s.now();
    let days = p.certification_expiring_within_days;
    if days.is_some_and(|d| d > 3650) {
        return Err(ApiError::bad_request(
            "`certification_expiring_within_days` must be at most 3650",
        ));
    }
    Ok(RosterFilter {
        coordinator_id,
        status: p.status,
        certification_expires_before: days.map(|d| now + i64::from(d) * 86_400_000),
        name: p.q.filter(|q| q.len() <= 200),
        cursor: p.cursor,
        limit,
    })
}
