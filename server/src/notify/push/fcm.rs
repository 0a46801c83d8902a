//! Firebase Cloud Messaging, HTTP v1: the server signs a JWT with its service account's
//! key (RS256), trades it for an OAuth access token (cached until shortly before it
//! expires), and posts one message per device token.

use super::{Push, Sent};
use crate::notify::channel::ChannelError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The fields of a Google service-account key file that FCM needs.
#[derive(Debug, Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// An FCM sender for one Firebase project.
pub struct Fcm {
    http: reqwest::Client,
    base: String,
    account: ServiceAccount,
    key: EncodingKey,
    token: tokio::sync::Mutex<Option<(String, SystemTime)>>,
}

/// Why push could not be configured.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PushConfigError(pub String);

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Fcm {
    /// From a service-account key file's JSON; `base` is `https://fcm.googleapis.com`.
    pub fn new(service_account_json: &str, base: &str) -> Result<Self, PushConfigError> {
        let account: ServiceAccount = serde_json::from_str(service_account_json)
            .map_err(|e| PushConfigError(format!("FCM service account: {e}")))?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| PushConfigError(format!("FCM service account private_key: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| PushConfigError(e.to_string()))?;
        Ok(Fcm {
            http,
            base: base.trim_end_matches('/').to_owned(),
            account,
            key,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// An OAuth access token, fetched again a minute before the cached one expires.
    async fn access_token(&self) -> Result<String, ChannelError> {
        let mut cached = self.token.lock().await;
        let now = SystemTime::now();
        if let Some((token, until)) = cached.as_ref()
            && *until > now
        {
            return Ok(token.clone());
        }
        let iat = epoch_secs(now);
        let claims = Claims {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: &self.account.token_uri,
            iat,
            exp: iat + 3600,
        };
        let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| ChannelError(format!("fcm: signing: {e}")))?;
        let answer = self
            .http
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| ChannelError(format!("fcm: token: {e}")))?;
        if !answer.status().is_success() {
            return Err(ChannelError(format!("fcm: token: {}", answer.status())));
        }
        let t: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| ChannelError(format!("fcm: token: {e}")))?;
        let until = now + Duration::from_secs(t.expires_in.saturating_sub(60));
        *cached = Some((t.access_token.clone(), until));
        Ok(t.access_token)
    }

    /// Sends one push to one device token.
    pub async fn send(&self, device: &str, push: Push<'_>) -> Result<Sent, ChannelError> {
        let token = self.access_token().await?;
        let body = match push {
            Push::Alert(alert) => serde_json::json!({"message": {
                "token": device,
                "notification": {"title": alert.title, "body": alert.body},
                "data": {
                    "kind": alert.kind, "entity": alert.entity, "entity_id": alert.entity_id,
                    "notification_id": alert.notification_id,
                },
                "android": {"priority": "high", "collapse_key": alert.kind},
            }}),
            // Data only: the app's messaging service wakes and syncs; nothing is shown.
            Push::SyncNow => serde_json::json!({"message": {
                "token": device,
                "data": {"sync": "now"},
                "android": {"priority": "high", "collapse_key": "sync"},
            }}),
        };
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.base, self.account.project_id
        );
        let r = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| ChannelError(format!("fcm: {e}")))?;
        let status = r.status();
        if status.is_success() {
            return Ok(Sent::Accepted);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The access token was revoked early: fetch a new one next time.
            *self.token.lock().await = None;
        }
        let text = r.text().await.unwrap_or_default();
        // UNREGISTERED (404), or a token FCM does not recognise (400 INVALID_ARGUMENT on
        // the token): the device is gone.
        if status == reqwest::StatusCode::NOT_FOUND || text.contains("UNREGISTERED") {
            return Ok(Sent::Gone);
        }
        Err(ChannelError(format!("fcm: {status}")))
    }
}
