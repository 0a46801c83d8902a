//! The extractor every protected handler takes: it turns `Authorization: Bearer …` into
//! the caller's identity, chapter and role, or answers 401.

use super::tokens::{Authenticated, authenticate};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Authenticated);

impl std::ops::Deref for Caller {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("sign in first: send `Authorization: Bearer <access token>`")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <access token>`")
            })?;
        let mut tx = state.db.read().await?;
        let found = authenticate(&mut tx, token, state.now()).await?;
        tx.rollback().await?;
        found.map(Caller).ok_or_else(|| {
            ApiError::unauthorized("the access token is invalid, expired or revoked; refresh it")
        })
    }
}
