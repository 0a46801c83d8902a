//! Sign-in wire types.

use crate::model::Me;
use serde::{Deserialize, Serialize};

/// A fresh pair of tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Spend once at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// Tokens plus who signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// The new tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// The signed-in user.
    pub user: Me,
}
