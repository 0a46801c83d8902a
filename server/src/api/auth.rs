//! Sign-in endpoints.

use crate::api::extract::Json;
use crate::auth::tokens::{self, RefreshRefusal, TokenPair};
use crate::auth::{Caller, codes, password, throttle};
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
    disabled: bool,
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
            disabled: r.get::<String>("status")? == "disabled",
        })
    }
}

const USER_COLUMNS: &str = "id, chapter_id, role, display_name, email, password_hash, status";

/// The answer to a disabled account that proved who it is.
fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ACCOUNT_DISABLED,
        "this account is disabled; ask your chapter administrator",
    )
}

/// Runs Argon2 work off the async executor, a bounded number at once: it is deliberately
/// slow and large. Waiting more than 5 s for a turn answers 503.
async fn hashing<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
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
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(permit);
        out
    })
    .await
    .map_err(ApiError::internal)
}

/// The client's address, for throttling.
type Peer = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

/// Counts a sign-in attempt for `email` from the peer (429 when one of its keys failed too
/// often) and finds the account, in one write transaction: the failure is reserved before
/// any hashing, so parallel guesses cannot outrun the counter.
async fn reserve(
    state: &AppState,
    peer: Peer,
    email: &str,
    now: i64,
) -> Result<(throttle::Attempt, Option<UserRecord>), ApiError> {
    let address = peer.map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |p| {
        p.0.0.ip().to_canonical()
    });
    let mut tx = state.db.write().await?;
    let attempt = match throttle::reserve(&mut tx, email, address, now, &state.settings).await? {
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
        .fetch_optional(q(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1")).bind(email))
        .await?;
    tx.commit().await?;
    Ok((attempt, user))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 320 || req.password.len() > 1024 {
        return Err(ApiError::bad_request(
            "email and password are required (email ≤ 320, password ≤ 1024 bytes)",
        ));
    }
    let now = state.now();
    let (attempt, user) = reserve(&state, peer, &email, now).await?;

    let stored = user.as_ref().map_or_else(
        || password::dummy_hash().to_owned(),
        |u| u.password_hash.clone(),
    );
    let ok = hashing(&state, move || password::verify(&req.password, &stored)).await?;

    match user {
        Some(user) if ok && user.disabled => Err(disabled()),
        Some(user) if ok => {
            let mut tx = state.db.write().await?;
            throttle::succeeded(&mut tx, &attempt).await?;
            let tokens = tokens::issue_family(&mut tx, &user.me.id, now, &state.settings).await?;
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
        Err(RefreshRefusal::Revoked)
            if family_disabled(&state, req.refresh_token.trim()).await? =>
        {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::ACCOUNT_DISABLED,
                "this account was disabled; ask your chapter administrator",
            ))
        }
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

/// Whether the refresh token belongs to a disabled account (its families were revoked).
async fn family_disabled(state: &AppState, refresh_token: &str) -> Result<bool, ApiError> {
    let mut tx = state.db.read().await?;
    let disabled = tx
        .exists(
            q(
                "SELECT 1 FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id \
               JOIN users u ON u.id = f.user_id WHERE r.token_hash = $1 AND u.status = 'disabled'",
            )
            .bind(tokens::hash(refresh_token)),
        )
        .await?;
    tx.rollback().await?;
    Ok(disabled)
}

/// The shortest and longest password accepted.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 10..=1024;

fn new_password(p: &str) -> Result<(), ApiError> {
    if PASSWORD_LEN.contains(&p.len()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::VALIDATION_FAILED,
            "`new_password` must be 10 to 1,024 bytes",
        ))
    }
}

/// Hashes `password` and stores it as the user's.
async fn set_password(state: &AppState, user_id: &str, password: String) -> Result<(), ApiError> {
    let hash = hashing(state, move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)?;
    let mut tx = state.db.write().await?;
    tx.execute(
        q("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new password, proven with the current one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use now.
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// The new password, 10 to 1,024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// Changes your password. Your other sessions are signed out; this one stays.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    new_password(&req.new_password)?;
    if req.current_password.len() > *PASSWORD_LEN.end() {
        return Err(ApiError::unauthorized("the current password is wrong"));
    }
    let mut tx = state.db.read().await?;
    let stored: String = tx
        .fetch_one(q("SELECT password_hash FROM users WHERE id = $1").bind(caller.user_id.as_str()))
        .await?;
    tx.rollback().await?;
    let current = req.current_password;
    if !hashing(&state, move || password::verify(&current, &stored)).await? {
        return Err(ApiError::unauthorized("the current password is wrong"));
    }
    set_password(&state, &caller.user_id, req.new_password).await?;
    let mut tx = state.db.write().await?;
    let others: Vec<String> = tx
        .fetch_all(
            q("SELECT id FROM token_families WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL")
                .bind(caller.user_id.as_str())
                .bind(caller.family_id.as_str()),
        )
        .await?;
    for f in others {
        tokens::revoke_family(&mut tx, &f, state.now()).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time sign-in code and the password it sets.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// Sign-in email (case-insensitive).
    #[schema(pattern = r"\S", max_length = 320)]
    pub email: String,
    /// The code an administrator gave you (`XXXX-XXXX-XXXX`; case and dashes do not matter).
    #[schema(max_length = 64)]
    pub code: String,
    /// Your new password, 10 to 1,024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// Spends a one-time sign-in code: sets your password and signs you in. Throttled like a
/// sign-in; a wrong or expired code answers 401 `sign_in_code_invalid`.
#[utoipa::path(post, path = "/api/v1/auth/redeem", tag = "auth", request_body = RedeemRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn redeem(
    State(state): State<AppState>,
    peer: Peer,
    Json(req): Json<RedeemRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 320 || req.code.len() > 64 {
        return Err(ApiError::bad_request(
            "email and code are required (email ≤ 320, code ≤ 64 bytes)",
        ));
    }
    new_password(&req.new_password)?;
    let now = state.now();
    let (attempt, user) = reserve(&state, peer, &email, now).await?;
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SIGN_IN_CODE_INVALID,
            "the code is wrong, expired or used; ask your administrator for a new one",
        )
    };
    let Some(user) = user else {
        return Err(invalid());
    };
    let mut tx = state.db.write().await?;
    let spent = codes::spend(&mut tx, &user.me.id, &req.code, now).await?;
    tx.commit().await?;
    if !spent {
        return Err(invalid());
    }
    if user.disabled {
        return Err(disabled());
    }
    set_password(&state, &user.me.id, req.new_password).await?;
    let mut tx = state.db.write().await?;
    throttle::succeeded(&mut tx, &attempt).await?;
    let tokens = tokens::issue_family(&mut tx, &user.me.id, now, &state.settings).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.me.id, "sign-in code redeemed");
    Ok(Json(LoginResponse {
        tokens,
        user: user.me,
    }))
}
