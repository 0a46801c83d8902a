//! REST endpoints that change things. Each builds a protocol [`Command`] and runs it
//! through [`domain::execute`] in one write transaction — the same path sync push takes.

use crate::api::extract::{Json, Path};
use crate::auth::Caller;
use crate::db::Acting;
use crate::domain::{self, Applied};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use mentorsync_protocol::command::*;
use mentorsync_protocol::{ErrorBody, FlagSeverity};
use serde::Deserialize;
use uuid::Uuid;

/// Runs one command in its own transaction and commits it. Its time is read once the
/// write transaction has begun, so it is never earlier than a command it waited for.
pub async fn run(
    state: &AppState,
    caller: &Caller,
    command: Command,
    expected_version: Option<i64>,
) -> Result<Json<Applied>, ApiError> {
    let chapter = caller.actor.chapter_id.as_str();
    let premerged = domain::premerge(&state.db, chapter, &command).await;
    let mut tx = state.db.write_as(Acting::Chapter(chapter)).await?;
    let now = state.now();
    let applied = domain::apply_premerged(
        &mut tx,
        &caller.actor,
        now,
        &command,
        expected_version,
        premerged,
    )
    .await?
    .with_row(&mut tx, chapter, now)
    .await?;
    tx.commit().await?;
    tracing::info!(command = command.name(), entity = %applied.entity, id = %applied.id, version = applied.version, "applied");
    Ok(Json(applied))
}

async fn created(
    state: &AppState,
    caller: &Caller,
    command: Command,
    v: Option<i64>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    run(state, caller, command, v)
        .await
        .map(|j| (StatusCode::CREATED, j))
}

/// Only the optimistic-lock version.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The version of the row you saw; if it changed since, you get 409 with the current row.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Pause a mentor.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// Why (shown to coordinators); up to 500 characters, not only spaces.
    #[schema(pattern = r"\S", max_length = 500)]
    pub reason: String,
    /// Epoch ms (between 2000 and 2200); absent or past means now.
    #[serde(default)]
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub starts_at: Option<i64>,
    /// Epoch ms (between 2000 and 2200); absent means until resumed.
    #[serde(default)]
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub ends_at: Option<i64>,
    /// Id for the new pause (UUID); generated when absent.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub pause_id: Option<String>,
    /// The mentor's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

impl PauseBody {
    fn into_args(self, mentor_id: Uuid) -> (PauseMentor, Option<i64>) {
        let args = PauseMentor {
            mentor_id: mentor_id.to_string(),
            reason: self.reason,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            pause_id: self.pause_id,
        };
        (args, self.expected_version)
    }
}

/// Pauses a mentor now, or from `starts_at` (coordinator, admin).
#[utoipa::path(post, path = "/api/v1/mentors/{id}/pause", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id")), request_body = PauseBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pause_mentor(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<PauseBody>,
) -> Result<Json<Applied>, ApiError> {
    let (args, v) = b.into_args(id);
    run(&s, &caller, Command::PauseMentor(args), v).await
}

/// A mentor asks for a pause for themselves.
#[utoipa::path(post, path = "/api/v1/mentors/{id}/pause-requests", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id (your own)")), request_body = PauseBody,
    responses((status = 201, body = Applied), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_pause(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<PauseBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let (args, v) = b.into_args(id);
    created(&s, &caller, Command::RequestPause(args), v).await
}

/// Status changes of a mentor that need no other input.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MentorTransition {
    /// Paused → active (coordinator, admin).
    Resume,
    /// Active or paused → inactive (coordinator, admin).
    Deactivate,
    /// Inactive → active, with a valid certification (admin).
    Reactivate,
}

/// Resumes, deactivates or reactivates a mentor.
#[utoipa::path(post, path = "/api/v1/mentors/{id}/{action}", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id"), ("action" = MentorTransition, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mentor_transition(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, MentorTransition)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = MentorRef {
        mentor_id: id.to_string(),
    };
    let command = match action {
        MentorTransition::Resume => Command::ResumeMentor(r),
        MentorTransition::Deactivate => Command::DeactivateMentor(r),
        MentorTransition::Reactivate => Command::ReactivateMentor(r),
    };
    run(&s, &caller, command, b.expected_version).await
}

/// Decisions on a pause.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PauseDecision {
    /// Requested → scheduled or active (coordinator, admin).
    Approve,
    /// Requested → declined (coordinator, admin).
    Decline,
    /// Open → cancelled (coordinator, admin; the mentor for their own request).
    Cancel,
}

/// Approves, declines or cancels a pause.
#[utoipa::path(post, path = "/api/v1/pauses/{id}/{action}", tag = "mentors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "pause id"), ("action" = PauseDecision, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pause_decision(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, PauseDecision)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = PauseRef {
        pause_id: id.to_string(),
    };
    let command = match action {
        PauseDecision::Approve => Command::ApprovePause(r),
        PauseDecision::Decline => Command::DeclinePause(r),
        PauseDecision::Cancel => Command::CancelPause(r),
    };
    run(&s, &caller, command, b.expected_version).await
}

/// Assign a mentee to a mentor.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The mentor.
    pub mentor_id: Uuid,
    /// The mentee.
    pub mentee_id: Uuid,
    /// Id for the new assignment; generated when absent.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub assignment_id: Option<String>,
    /// The mentor's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Assigns a mentee to a mentor (coordinator of that mentor, admin).
#[utoipa::path(post, path = "/api/v1/assignments", tag = "assignments", security(("bearer" = [])), request_body = AssignBody,
    responses((status = 201, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_mentee(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<AssignBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let args = AssignMentee {
        mentor_id: b.mentor_id.to_string(),
        mentee_id: b.mentee_id.to_string(),
        assignment_id: b.assignment_id,
    };
    created(&s, &caller, Command::AssignMentee(args), b.expected_version).await
}

/// Ends a mentee assignment.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/end", tag = "assignments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "assignment id")), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn end_assignment(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    run(
        &s,
        &caller,
        Command::EndAssignment(AssignmentRef {
            assignment_id: id.to_string(),
        }),
        b.expected_version,
    )
    .await
}

/// Schedule a session.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentor; defaults to you when you are a mentor.
    #[serde(default)]
    pub mentor_id: Option<Uuid>,
    /// Epoch ms (between 2000 and 2200), at most five minutes in the past.
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub scheduled_at: i64,
    /// 5 to 480.
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: i64,
    /// Video-call link (`http://` or `https://`).
    #[serde(default)]
    #[schema(pattern = "^(https?://.*)?$", max_length = 2000)]
    pub meeting_link: Option<String>,
    /// Id for the new session; generated when absent.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub session_id: Option<String>,
}

/// Schedules a session with a mentee (their mentor, the mentor's coordinator, admin).
#[utoipa::path(post, path = "/api/v1/mentor/sessions", tag = "sessions", security(("bearer" = [])), request_body = ScheduleBody,
    responses((status = 201, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn schedule_session(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<ScheduleBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let args = ScheduleSession {
        mentee_id: b.mentee_id.to_string(),
        mentor_id: b.mentor_id.map(|m| m.to_string()),
        scheduled_at: b.scheduled_at,
        duration_minutes: b.duration_minutes,
        meeting_link: b.meeting_link,
        session_id: b.session_id,
    };
    created(&s, &caller, Command::ScheduleSession(args), None).await
}

/// How a session ended.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SessionOutcome {
    /// It took place.
    Complete,
    /// Called off.
    Cancel,
    /// The mentee did not come.
    NoShow,
}

/// Completes, cancels or marks a session as a no-show.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/{action}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "session id"), ("action" = SessionOutcome, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn session_outcome(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, SessionOutcome)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = SessionRef {
        session_id: id.to_string(),
    };
    let command = match action {
        SessionOutcome::Complete => Command::CompleteSession(r),
        SessionOutcome::Cancel => Command::CancelSession(r),
        SessionOutcome::NoShow => Command::MarkNoShow(r),
    };
    run(&s, &caller, command, b.expected_version).await
}

/// Submit a mission (mentees).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The programme's mission reference (up to 100 characters, not only spaces).
    #[schema(pattern = r"\S", max_length = 100)]
    pub mission_ref: String,
    /// Short title (up to 200 characters, not only spaces).
    #[schema(pattern = r"\S", max_length = 200)]
    pub title: String,
    /// The work or a link to it (up to 20,000 characters, not only spaces).
    #[schema(pattern = r"\S", max_length = 20000)]
    pub content: String,
    /// Id for the new submission; generated when absent.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub submission_id: Option<String>,
}

/// A mentee submits a mission; a high-priority review item lands in their mentor's queue.
#[utoipa::path(post, path = "/api/v1/missions", tag = "missions", security(("bearer" = [])), request_body = SubmitBody,
    responses((status = 201, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn submit_mission(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<SubmitBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let args = SubmitMission {
        mission_ref: b.mission_ref,
        title: b.title,
        content: b.content,
        submission_id: b.submission_id,
    };
    created(&s, &caller, Command::SubmitMission(args), None).await
}

/// Resubmit after changes were requested.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResubmitBody {
    /// The revised work (up to 20,000 characters, not only spaces).
    #[schema(pattern = r"\S", max_length = 20000)]
    pub content: String,
    /// The submission's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// A mentee resubmits a mission after changes were requested.
#[utoipa::path(post, path = "/api/v1/missions/{id}/resubmit", tag = "missions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "submission id")), request_body = ResubmitBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resubmit_mission(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<ResubmitBody>,
) -> Result<Json<Applied>, ApiError> {
    let args = ResubmitMission {
        submission_id: id.to_string(),
        content: b.content,
    };
    run(
        &s,
        &caller,
        Command::ResubmitMission(args),
        b.expected_version,
    )
    .await
}

/// A review decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// Approve or ask for changes.
    pub decision: ReviewDecision,
    /// Feedback for the mentee.
    #[serde(default)]
    pub feedback: Option<String>,
    /// The submission's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Reviews a submission and completes its work-queue item in the same transaction.
#[utoipa::path(post, path = "/api/v1/mentor/missions/{submission_id}/review", tag = "missions", security(("bearer" = [])),
    params(("submission_id" = Uuid, Path, description = "submission id")), request_body = ReviewBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review_mission(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<Applied>, ApiError> {
    let args = ReviewMission {
        submission_id: id.to_string(),
        decision: b.decision,
        feedback: b.feedback,
    };
    run(
        &s,
        &caller,
        Command::ReviewMission(args),
        b.expected_version,
    )
    .await
}

/// Steps of a work-queue item.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkItemStep {
    /// Open → in progress (the item's mentor).
    Claim,
    /// In progress → done (the item's mentor).
    Complete,
    /// Open or in progress → cancelled (mentor, coordinator, admin).
    Cancel,
}

/// Claims, completes or cancels a work-queue item.
#[utoipa::path(post, path = "/api/v1/workqueue/{id}/{action}", tag = "workqueue", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "work item id"), ("action" = WorkItemStep, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn work_item_step(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, WorkItemStep)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = WorkItemRef {
        item_id: id.to_string(),
    };
    let command = match action {
        WorkItemStep::Claim => Command::ClaimWorkItem(r),
        WorkItemStep::Complete => Command::CompleteWorkItem(r),
        WorkItemStep::Cancel => Command::CancelWorkItem(r),
    };
    run(&s, &caller, command, b.expected_version).await
}

/// Raise a risk flag.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    /// The mentee at risk.
    pub mentee_id: Uuid,
    /// How serious.
    pub severity: FlagSeverity,
    /// What was observed; up to 1,000 characters, not only spaces.
    #[schema(pattern = r"\S", max_length = 1000)]
    pub reason: String,
    /// Id for the new flag; generated when absent.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub flag_id: Option<String>,
}

/// Raises a risk flag on a mentee (their mentor, the mentor's coordinator, admin).
#[utoipa::path(post, path = "/api/v1/mentor/flags", tag = "flags", security(("bearer" = [])), request_body = FlagBody,
    responses((status = 201, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn raise_flag(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<FlagBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let args = RaiseFlag {
        mentee_id: b.mentee_id.to_string(),
        severity: b.severity,
        reason: b.reason,
        flag_id: b.flag_id,
    };
    created(&s, &caller, Command::RaiseFlag(args), None).await
}

/// Steps of a flag.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FlagStep {
    /// Open → acknowledged.
    Acknowledge,
    /// Acknowledged → resolved.
    Resolve,
}

/// Acknowledges or resolves a flag (coordinator of the mentee's mentor, admin).
#[utoipa::path(post, path = "/api/v1/flags/{id}/{action}", tag = "flags", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "flag id"), ("action" = FlagStep, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn flag_step(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, FlagStep)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = FlagRef {
        flag_id: id.to_string(),
    };
    let command = match action {
        FlagStep::Acknowledge => Command::AcknowledgeFlag(r),
        FlagStep::Resolve => Command::ResolveFlag(r),
    };
    run(&s, &caller, command, b.expected_version).await
}

/// Edits to a session's shared notes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesBody {
    /// Automerge changes (base64) made on top of the session's `notes_doc`.
    #[schema(format = Byte, min_length = 1)]
    pub changes: String,
}

/// Merges edits into a session's shared notes (the session's mentor, their coordinator,
/// admins). Concurrent edits all survive; there is no version check.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/notes", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "session id")), request_body = NotesBody,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn edit_session_notes(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<NotesBody>,
) -> Result<Json<Applied>, ApiError> {
    let args = EditSessionNotes {
        session_id: id.to_string(),
        changes: b.changes,
    };
    run(&s, &caller, Command::EditSessionNotes(args), None).await
}
