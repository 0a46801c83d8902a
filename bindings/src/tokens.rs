//! Where the session's tokens live: the app's secret store, behind a foreign trait.

use crate::error::Result;
use mentorsync_core::CoreError;
use std::sync::Arc;

/// A session's tokens, as the app's [`TokenStore`] keeps them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SessionTokens {
    /// Short-lived (15 minutes).
    pub access_token: String,
    /// Signs the device in for 60 days: keep it in the platform's secret store.
    pub refresh_token: String,
}

/// Implemented by the app: where the session's tokens live — the Android Keystore or the
/// iOS Keychain, not the app's files. Called on a background thread.
#[uniffi::export(foreign)]
pub trait TokenStore: Send + Sync {
    /// The stored tokens, if any.
    fn load(&self) -> Result<Option<SessionTokens>>;
    /// Replaces them; `None` when signed out.
    fn save(&self, tokens: Option<SessionTokens>) -> Result<()>;
}

/// The app's store, as the core sees it.
pub(crate) struct AppTokens(pub(crate) Arc<dyn TokenStore>);

impl mentorsync_core::TokenStore for AppTokens {
    fn load(&self) -> mentorsync_core::Result<Option<mentorsync_core::Tokens>> {
        let loaded = self
            .0
            .load()
            .map_err(|e| CoreError::Storage(format!("the app's token store: {e}")))?;
        Ok(loaded.map(|t| mentorsync_core::Tokens {
            access: t.access_token,
            refresh: t.refresh_token,
        }))
    }

    fn save(&self, tokens: Option<&mentorsync_core::Tokens>) -> mentorsync_core::Result<()> {
        self.0
            .save(tokens.map(|t| SessionTokens {
                access_token: t.access.clone(),
                refresh_token: t.refresh.clone(),
            }))
            .map_err(|e| CoreError::Storage(format!("the app's token store: {e}")))
    }
}
