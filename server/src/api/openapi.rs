//! The OpenAPI document, generated from the handlers' annotations. A copy is committed at
//! `docs/openapi.json`; a test fails when the two drift, and
//! `mentorsync-server openapi > docs/openapi.json` refreshes it.

use super::{auth, commands, dashboards, health, reads, sync};
use crate::domain::{Applied, Changed};
use axum::Json;
use mentorsync_protocol::model::*;
use mentorsync_protocol::sync as proto_sync;
use mentorsync_protocol::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The mentorsync REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "mentorsync", description = "Offline-first coordination of mentorship programmes: REST API for server consumers."),
    modifiers(&BearerAuth),
    paths(
        health::healthz, health::readyz,
        auth::login, auth::refresh, auth::logout, auth::me,
        reads::get_mentor, reads::get_roster, reads::get_work_queue, reads::get_cockpit,
        commands::pause_mentor, commands::request_pause, commands::mentor_transition, commands::pause_decision,
        commands::assign_mentee, commands::end_assignment,
        commands::schedule_session, commands::session_outcome, commands::edit_session_notes,
        commands::submit_mission, commands::resubmit_mission, commands::review_mission,
        commands::work_item_step, commands::raise_flag, commands::flag_step,
        sync::pull, sync::push, sync::events,
        dashboards::mentor_dashboard, dashboards::mentor_dashboard_stream, dashboards::coordinator_dashboard,
        dashboards::director_summary, dashboards::director_cohorts, dashboards::director_cohort,
        dashboards::director_refresh,
    ),
    components(schemas(
        ErrorBody, Applied, Changed, Mentor, Mentee, Pause, MenteeAssignment, Session, Submission, WorkItem, Flag,
        MentorStatus, PauseStatus, AssignmentStatus, SessionStatus, SubmissionStatus, WorkItemStatus, WorkItemKind,
        Priority, FlagStatus, FlagSeverity, Role,
        proto_sync::Change, proto_sync::ChangeOp, proto_sync::ScopeChange, proto_sync::Verdict,
        proto_sync::VerdictOutcome, proto_sync::ChangedRow, proto_sync::Mutation, proto_sync::Poke,
        dashboard::Dashboard, dashboard::DashboardKind,
    ))
)]
pub struct ApiDoc;

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
