//! The caller's own notification preferences: how far beyond their inbox a notification
//! reaches them (e-mail, which kinds, quiet hours). Read at dispatch
//! (`crate::notify::preferences`).

use crate::api::extract::Json;
use crate::auth::Caller;
use crate::db::{Acting, q};
use crate::error::ApiError;
use crate::notify::preferences;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use mentorsync_protocol::model::Preferences;
use mentorsync_protocol::{ErrorBody, ErrorCode};

/// The caller's preferences (the defaults until they choose).
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Preferences)))]
pub async fn get_preferences(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Preferences>, ApiError> {
    let mut tx =
        s.db.read_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    let me = preferences::recipient(&mut tx, &caller.user_id).await?;
    tx.rollback().await?;
    Ok(Json(me.map(|r| r.preferences).unwrap_or_default()))
}

/// Replaces the caller's preferences. `kinds` may name each kind once; quiet hours need
/// both ends.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "auth", security(("bearer" = [])),
    request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 400, body = ErrorBody)))]
pub async fn put_preferences(
    State(s): State<AppState>,
    caller: Caller,
    Json(p): Json<Preferences>,
) -> Result<Json<Preferences>, ApiError> {
    let invalid =
        |m: String| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::VALIDATION_FAILED, m);
    p.quiet_minutes().map_err(invalid)?;
    if let Some(kinds) = &p.kinds {
        let mut unique = kinds.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != kinds.len() {
            return Err(invalid("`kinds` names a kind twice".to_owned()));
        }
    }
    let kinds = p
        .kinds
        .as_ref()
        .map(|k| serde_json::to_string(k).unwrap_or_default());
    let chapter = caller.actor.chapter_id.as_str();
    let mut tx = s.db.write_as(Acting::Chapter(chapter)).await?;
    tx.execute(
        q("INSERT INTO notification_preferences (user_id, chapter_id, email, kinds, quiet_from, quiet_until, updated_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, \
           kinds = excluded.kinds, quiet_from = excluded.quiet_from, quiet_until = excluded.quiet_until, \
           updated_at = excluded.updated_at")
        .bind(caller.user_id.as_str())
        .bind(chapter)
        .bind(p.email.as_str())
        .bind(kinds)
        .bind(p.quiet_from.clone())
        .bind(p.quiet_until.clone())
        .bind(s.now()),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(p))
}
