//! A device registers the push token its platform gave it, so that notifications reach the
//! phone while the app is in the background (`crate::notify::push`).

use crate::api::extract::{Json, Path};
use crate::auth::Caller;
use crate::db::{Acting, q};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use mentorsync_protocol::{ErrorBody, ErrorCode, PushPlatform};
use serde::Deserialize;
use uuid::Uuid;

/// The most push devices one person keeps; registering another forgets their oldest.
pub const MAX_PUSH_DEVICES: i64 = 20;

/// A device's push registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// `fcm` (Android) or `apns` (iOS).
    pub platform: PushPlatform,
    /// The token the platform gave the app (FCM registration token, APNs device token).
    #[schema(min_length = 1, max_length = 4096, pattern = r"^[A-Za-z0-9_:.\-]+$")]
    pub token: String,
}

/// Registers (or replaces) the push token of the caller's device `client_id` (the id the
/// device syncs with; another person's device id is `403`). A token registered by another
/// device before is moved here.
#[utoipa::path(put, path = "/api/v1/devices/{client_id}/push", tag = "sync", security(("bearer" = [])),
    params(("client_id" = Uuid, Path, description = "the device's sync client id")), request_body = PushBody,
    responses((status = 204, description = "registered"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    caller: Caller,
    Path(client_id): Path<Uuid>,
    Json(b): Json<PushBody>,
) -> Result<StatusCode, ApiError> {
    let token = b.token.trim();
    let shaped = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c));
    if token.is_empty() || token.len() > 4096 || !shaped {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::VALIDATION_FAILED,
            "`token` must be 1 to 4096 characters of letters, digits and _ : . -",
        ));
    }
    let chapter = caller.actor.chapter_id.as_str();
    let client_id = client_id.to_string();
    let now = s.now();
    let mut tx = s.db.write_as(Acting::Chapter(chapter)).await?;
    tx.execute(
        q("DELETE FROM push_devices WHERE platform = $1 AND token = $2 AND client_id <> $3")
            .bind(b.platform.as_str())
            .bind(token)
            .bind(client_id.as_str()),
    )
    .await?;
    // A device id is one person's, as in sync (`SyncError::ClientNotYours`): someone
    // else's registration is refused, never taken over.
    let taken = tx
        .exists(
            q(
                "SELECT 1 FROM push_devices WHERE client_id = $1 AND user_id <> $2 \
               UNION ALL SELECT 1 FROM sync_clients WHERE client_id = $1 AND user_id <> $2",
            )
            .bind(client_id.as_str())
            .bind(caller.user_id.as_str()),
        )
        .await?;
    if taken {
        return Err(crate::sync::SyncError::ClientNotYours.into());
    }
    tx.execute(
        q("INSERT INTO push_devices (client_id, chapter_id, user_id, platform, token, created_at, updated_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (client_id) DO UPDATE SET platform = excluded.platform, \
           token = excluded.token, updated_at = excluded.updated_at")
        .bind(client_id.as_str())
        .bind(chapter)
        .bind(caller.user_id.as_str())
        .bind(b.platform.as_str())
        .bind(token)
        .bind(now),
    )
    .await?;
    tx.execute(
        q("DELETE FROM push_devices WHERE user_id = $1 AND client_id NOT IN (SELECT client_id FROM push_devices \
           WHERE user_id = $1 ORDER BY updated_at DESC, client_id LIMIT $2)")
        .bind(caller.user_id.as_str())
        .bind(MAX_PUSH_DEVICES),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets the push token of the caller's device (signing out, notifications turned off).
#[utoipa::path(delete, path = "/api/v1/devices/{client_id}/push", tag = "sync", security(("bearer" = [])),
    params(("client_id" = Uuid, Path, description = "the device's sync client id")),
    responses((status = 204, description = "forgotten (or was not registered)")))]
pub async fn unregister(
    State(s): State<AppState>,
    caller: Caller,
    Path(client_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx =
        s.db.write_as(Acting::Chapter(&caller.actor.chapter_id))
            .await?;
    tx.execute(
        q("DELETE FROM push_devices WHERE client_id = $1 AND user_id = $2")
            .bind(client_id.to_string())
            .bind(caller.user_id.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
