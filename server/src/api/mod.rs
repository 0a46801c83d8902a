//! The HTTP surface: routes, the layers every request passes through, and the OpenAPI
//! document.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod commands;
pub mod dashboards;
pub mod devices;
pub mod extract;
pub mod health;
pub mod inbox;
pub mod middleware;
pub mod openapi;
pub mod preferences;
pub mod reads;
pub mod sync;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{get, patch, post, put};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API routes without layers (for the OpenAPI drift test and composition).
pub fn routes() -> Router<AppState> {
    request_routes().merge(stream_routes())
}

/// Long-lived event streams. They skip the compression layer: it never compresses
/// `text/event-stream`, yet its body wrapper, with every encoder's state inline, would
/// cost each open stream ~6 KB (30 MB for 5,000 streams).
fn stream_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/mentor/dashboard/stream",
            get(dashboards::mentor_dashboard_stream),
        )
        .route("/api/v1/sync/events", get(sync::events))
}

/// Every route that answers one request with one response.
fn request_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/openapi.json", get(openapi::serve))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route(
            "/api/v1/me/preferences",
            get(preferences::get_preferences).put(preferences::put_preferences),
        )
        .route("/api/v1/auth/password", post(auth::change_password))
        .route("/api/v1/auth/redeem", post(auth::redeem))
        .route(
            "/api/v1/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/api/v1/admin/users/{id}",
            get(admin::get_user).patch(admin::update_user),
        )
        .route("/api/v1/admin/users/{id}/role", post(admin::change_role))
        .route(
            "/api/v1/admin/users/{id}/sign-in-code",
            post(admin::sign_in_code),
        )
        .route(
            "/api/v1/admin/users/{id}/{action}",
            post(admin::account_action),
        )
        .route("/api/v1/admin/mentors/{id}", patch(admin::update_mentor))
        .route(
            "/api/v1/admin/mentors/{id}/certification",
            post(admin::renew_certification),
        )
        .route(
            "/api/v1/admin/mentors/{id}/coordinator",
            put(admin::assign_coordinator),
        )
        .route("/api/v1/admin/mentees/{id}", patch(admin::update_mentee))
        .route(
            "/api/v1/admin/mentees/{id}/cohort",
            put(admin::enrol_mentee),
        )
        .route(
            "/api/v1/admin/cohorts",
            get(admin::list_cohorts).post(admin::create_cohort),
        )
        .route("/api/v1/admin/cohorts/{id}", patch(admin::update_cohort))
        .route(
            "/api/v1/admin/cohorts/{id}/directors/{director_id}",
            put(admin::add_director).delete(admin::remove_director),
        )
        .route(
            "/api/v1/admin/import",
            post(admin::import).layer(DefaultBodyLimit::max(admin::IMPORT_MAX_BYTES)),
        )
        .route("/api/v1/admin/export", get(admin::export))
        .route("/api/v1/mentors/{id}", get(reads::get_mentor))
        .route(
            "/api/v1/mentors/{id}/history",
            get(audit::get_mentor_history),
        )
        .route("/api/v1/audit", get(audit::get_audit))
        .route("/api/v1/mentors/{id}/pause", post(commands::pause_mentor))
        .route(
            "/api/v1/mentors/{id}/pause-requests",
            post(commands::request_pause),
        )
        .route(
            "/api/v1/mentors/{id}/{action}",
            post(commands::mentor_transition),
        )
        .route(
            "/api/v1/pauses/{id}/{action}",
            post(commands::pause_decision),
        )
        .route("/api/v1/assignments", post(commands::assign_mentee))
        .route(
            "/api/v1/assignments/{id}/end",
            post(commands::end_assignment),
        )
        .route("/api/v1/mentor/sessions", post(commands::schedule_session))
        .route(
            "/api/v1/sessions/{id}/notes",
            post(commands::edit_session_notes),
        )
        .route(
            "/api/v1/sessions/{id}/{action}",
            post(commands::session_outcome),
        )
        .route("/api/v1/missions", post(commands::submit_mission))
        .route(
            "/api/v1/missions/{id}/resubmit",
            post(commands::resubmit_mission),
        )
        .route(
            "/api/v1/mentor/missions/{submission_id}/review",
            post(commands::review_mission),
        )
        .route("/api/v1/mentor/workqueue", get(reads::get_work_queue))
        .route(
            "/api/v1/workqueue/{id}/{action}",
            post(commands::work_item_step),
        )
        .route("/api/v1/mentor/flags", post(commands::raise_flag))
        .route("/api/v1/flags/{id}/{action}", post(commands::flag_step))
        .route("/api/v1/inbox", get(inbox::get_inbox))
        .route(
            "/api/v1/devices/{client_id}/push",
            put(devices::register).delete(devices::unregister),
        )
        .route("/api/v1/inbox/{id}/{action}", post(inbox::inbox_step))
        .route(
            "/api/v1/mentor/mentees/{mentee_id}/cockpit",
            get(reads::get_cockpit),
        )
        .route("/api/v1/coordinator/roster", get(reads::get_roster))
        .route(
            "/api/v1/coordinator/dashboard",
            get(dashboards::coordinator_dashboard),
        )
        .route(
            "/api/v1/mentor/dashboard",
            get(dashboards::mentor_dashboard),
        )
        .route(
            "/api/v1/director/dashboard/summary",
            get(dashboards::director_summary),
        )
        .route(
            "/api/v1/director/dashboard/cohorts",
            get(dashboards::director_cohorts),
        )
        .route(
            "/api/v1/director/dashboard/cohorts/{cohort_id}",
            get(dashboards::director_cohort),
        )
        .route(
            "/api/v1/director/dashboard/refresh",
            post(dashboards::director_refresh),
        )
        .route("/api/v1/sync/pull", get(sync::pull))
        .route("/api/v1/sync/push", post(sync::push))
}

/// The complete application: routes plus request ids, tracing, compression, body limit,
/// timeout and uniform JSON errors.
pub fn app(state: AppState) -> Router {
    let layers = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(middleware::plain_request_id))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .make_span_with(|req: &Request<_>| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::map_response(middleware::json_errors))
        .layer(axum::middleware::from_fn(middleware::close_if_body_unread))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, state.settings.request_timeout));
    // Below 1 KB (an empty pull, a verdict) compressing saves a few dozen bytes and costs
    // an encoder set-up per response.
    let worth_compressing = SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES);
    request_routes()
        .layer(CompressionLayer::new().compress_when(worth_compressing))
        .merge(stream_routes())
        .layer(DefaultBodyLimit::max(state.settings.body_limit_bytes))
        .layer(layers)
        .with_state(state)
}

/// The comment an idle event stream sends every `stream_heartbeat`.
fn heartbeat(settings: &crate::Settings) -> axum::response::sse::KeepAlive {
    axum::response::sse::KeepAlive::new()
        .interval(settings.stream_heartbeat)
        .text("heartbeat")
}
