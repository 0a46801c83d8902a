//! The OpenAPI document, generated from the handlers' annotations. A copy is committed at
//! `docs/openapi.json`; a test fails when the two drift, and
//! `mentorsync-server openapi > docs/openapi.json` refreshes it.

use super::{
    admin, audit, auth, commands, dashboards, devices, health, inbox, preferences, reads, sync,
};
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

/// The answers every operation can give before its handler runs, added to each operation
/// that does not document them itself: 401 where a token is required, 400 for malformed
/// parameters, and for a JSON body 400 (unreadable), 413 (too large), 415 (not JSON) and
/// 422 (valid JSON of the wrong shape). Clients and schemathesis see every status the
/// server can send.
struct EdgeErrors;

impl Modify for EdgeErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |text: &str| {
            ResponseBuilder::new()
                .description(text)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let responses = &mut op.responses.responses;
                let mut add = |code: &str, text: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(text).into());
                };
                if secured {
                    add("401", "Missing, expired or revoked access token.");
                }
                if has_params || has_body {
                    add("400", "Malformed parameters or body.");
                }
                if has_body {
                    add("413", "Body larger than the limit.");
                    add("415", "Body is not `application/json`.");
                    add("422", "JSON of the wrong shape.");
                }
            }
        }
    }
}

/// The mentorsync REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "mentorsync", description = "Offline-first coordination of mentorship programmes: REST API for server consumers."),
    modifiers(&BearerAuth, &EdgeErrors),
    paths(
        health::healthz, health::readyz,
        auth::login, auth::refresh, auth::logout, auth::me, auth::change_password, auth::redeem,
        admin::create_user, admin::list_users, admin::get_user, admin::update_user, admin::change_role,
        admin::account_action, admin::sign_in_code, admin::update_mentor, admin::renew_certification,
        admin::assign_coordinator, admin::update_mentee, admin::enrol_mentee, admin::create_cohort,
        admin::list_cohorts, admin::update_cohort, admin::add_director, admin::remove_director,
        admin::import, admin::export,
        reads::get_mentor, reads::get_roster, reads::get_work_queue, reads::get_cockpit,
        audit::get_mentor_history, audit::get_audit,
        commands::pause_mentor, commands::request_pause, commands::mentor_transition, commands::pause_decision,
        commands::assign_mentee, commands::end_assignment,
        commands::schedule_session, commands::session_outcome, commands::edit_session_notes,
        commands::submit_mission, commands::resubmit_mission, commands::review_mission,
        commands::work_item_step, commands::raise_flag, commands::flag_step,
        inbox::get_inbox, inbox::inbox_step, preferences::get_preferences, preferences::put_preferences,
        devices::register, devices::unregister,
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
        dashboard::Dashboard, dashboard::DashboardKind, proto_sync::SyncSet,
        crate::api::commands::MentorTransition, crate::api::commands::PauseDecision,
        crate::api::commands::SessionOutcome, crate::api::commands::WorkItemStep,
        crate::api::commands::FlagStep, mentorsync_protocol::audit::AuditEntry,
        mentorsync_protocol::audit::AuditDevice, mentorsync_protocol::audit::AuditPage,
        mentorsync_protocol::audit::ActorRole, command::Entity, Account, Cohort, AccountStatus,
        admin::AccountAction, crate::roster_file::LineError, InboxItem, InboxPage, inbox::InboxStep,
        Preferences, EmailChoice, NotificationKind, PushPlatform, devices::PushBody,
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
