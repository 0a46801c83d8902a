//! Sign-in endpoints.

use crate::api::extract::Json;
use crate::auth::tokens::{self, RefreshRefusal, TokenPair};
use crate::auth::{Caller, password, throttle};
use crate::db::{DbRow, FromDb, q};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use mentorsync_protocol::auth::LoginResponse;
use mentorsync_protocol::model::Me;
use mentorsync_protocol::{ErrorBody, ErrorCode};
use serde::Deserialize;

/// Email and password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in email (case-insensitive).
    #[schema(pattern = r"\S", max_length = 320)]
    pub email: String,
    /// Password (at most 1,024 bytes).
    #[schema(max_length = 1024)]
    pub password: String,
}

/// A refresh token to spend.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
    /// This device's id (a UUID, the sync `client_id`). A device that lost the answer to a
    /// refresh may present the same token once more, within a minute, only with the id it
    /// spent the token with; without one, presenting a spent token again signs the family
    /// out.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub client_id: Option<String>,
}

struct UserRecord {
    me: Me,
    password_hash: String,
}

impl FromDb for UserRecord {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(UserRecord {
            me: Me {
                id: r.get("id")?,
                chapter_id: r.get("chapter_id")?,
                role: r.parse("role")?,
                display_name: r.get("display_name")?,
                email: r.get("email")?,
            },
            password_hash: r.get("password_hash")?,
        })
    }
}

const USER_COLUMNS: &str = "id, chapter_id, role, display_name, email, password_hash";

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 320 || req.password.len() > 1024 {
        return Err(ApiError::bad_request(
            "email and password are required (email ≤ 320, password ≤ 1024 bytes)",
        ));
    }
    let address = peer.map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |p| {
        p.0.0.ip().to_canonical()
    });
    let s = state.settings.clone();
    let now = state.now();
    let mut tx = state.db.write().await?;
    let attempt = match throttle::reserve(&mut tx, &email, address, now, &s).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TOO_MANY_REQUESTS,
                format!("too many failed sign-ins; try again in {wait} s"),
            )
            .with_details(serde_json::json!({"retry_after_seconds": wait}));
            e.retry_after = Some(wait);
            return Err(e);
        }
    };
    let user: Option<UserRecord> = tx
        .fetch_optional(
            q(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1")).bind(email.as_str()),
        )
        .await?;
    tx.commit().await?;

    // Verify off the async executor, a bounded number at once: Argon2 is deliberately
    // slow and large.
    let stored = user.as_ref().map_or_else(
        || password::dummy_hash().to_owned(),
        |u| u.password_hash.clone(),
    );
    let permit = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.hashing.clone().acquire_owned(),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or_else(|| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UNAVAILABLE,
            "too many sign-ins at once; retry shortly",
        );
        e.retry_after = Some(1);
        e
    })?;
    let ok = tokio::task::spawn_blocking(move || {
        let ok = password::verify(&req.password, &stored);
        drop(permit);
        ok
    })
    .await
    .map_err(ApiError::internal)?;

    match user {
        Some(user) if ok => {
            let mut tx = state.db.write().await?;
            throttle::succeeded(&mut tx, &attempt).await?;
            let tokens = tokens::issue_family(&mut tx, &user.me.id, now, &s).await?;
            tx.commit().await?;
            tracing::info!(user_id = %user.me.id, "signed in");
            Ok(Json(LoginResponse {
                tokens,
                user: user.me,
            }))
        }
        _ => Err(ApiError::unauthorized("wrong email or password")),
    }
}

/// Spends a refresh token for a new pair. Reusing a spent one signs the family out.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let mut tx = state.db.write().await?;
    let client_id = req.client_id.as_deref().map(str::trim);
    if client_id.is_some_and(|c| uuid::Uuid::parse_str(c).is_err()) {
        return Err(ApiError::bad_request("`client_id` must be a UUID"));
    }
    let outcome = tokens::rotate(
        &mut tx,
        req.refresh_token.trim(),
        client_id,
        state.now(),
        &state.settings,
    )
    .await?;
    tx.commit().await?;
    match outcome {
        Ok(pair) => Ok(Json(pair)),
        Err(RefreshRefusal::Reused) => {
            tracing::warn!("refresh token reused; token family revoked");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::REFRESH_REUSED,
                "this refresh token was already used; for safety every session it belonged to is signed out",
            ))
        }
        Err(RefreshRefusal::Expired) => Err(ApiError::unauthorized(
            "the refresh token has expired; sign in again",
        )),
        Err(RefreshRefusal::Revoked) => Err(ApiError::unauthorized(
            "this session was signed out; sign in again",
        )),
        Err(RefreshRefusal::Unknown) => Err(ApiError::unauthorized(
            "unknown refresh token; sign in again",
        )),
    }
}

/// Signs out this session (its access and refresh tokens stop working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.write().await?;
    tokens::revoke_family(&mut tx, &caller.family_id, state.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let mut tx = state.db.read().await?;
    let user: UserRecord = tx
        .fetch_optional(
            q(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(caller.user_id.as_str()),
        )
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    Ok(Json(user.me))
}
