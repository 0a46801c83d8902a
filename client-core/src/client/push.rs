//! Push registration: the app hands over the token its platform gave it (FCM on Android,
//! APNs on iOS), so the server can reach the phone while the app is in the background.

use super::Client;
use crate::error::Result;
use mentorsync_protocol::PushPlatform;

impl Client {
    /// Registers this device's push token with the server (online). Call it after signing
    /// in and whenever the platform gives the app a new token.
    pub async fn register_push(&self, platform: PushPlatform, token: &str) -> Result<()> {
        let client_id = self.client_id()?;
        self.authed(|access| {
            let client_id = client_id.clone();
            async move {
                self.inner
                    .api
                    .push_token(&access, &client_id, Some((platform, token)))
                    .await
            }
        })
        .await
    }

    /// Forgets this device's push token on the server (the person turned notifications
    /// off on this phone).
    pub async fn unregister_push(&self) -> Result<()> {
        let client_id = self.client_id()?;
        self.authed(|access| {
            let client_id = client_id.clone();
            async move { self.inner.api.push_token(&access, &client_id, None).await }
        })
        .await
    }
}
