//! Apple Push Notification service, token-based: the server signs a JWT with its APNs
//! key (ES256; refreshed every 50 minutes, within Apple's 20–60) and posts one request per
//! device over HTTP/2.

use super::fcm::PushConfigError;
use super::{Push, Sent};
use crate::notify::channel::ChannelError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one signed token is used.
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: u64,
}

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// The `.p8` key's PEM text.
    pub key_pem: String,
    /// The key's id (10 characters, from Apple).
    pub key_id: String,
    /// The team id.
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// `https://api.push.apple.com` (or the sandbox).
    pub base: String,
}

/// An APNs sender for one app.
pub struct Apns {
    http: reqwest::Client,
    config: ApnsConfig,
    key: EncodingKey,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl Apns {
    /// A sender; a plain `http://` base (a local relay or test) speaks HTTP/2 without TLS.
    pub fn new(config: ApnsConfig) -> Result<Self, PushConfigError> {
        let key = EncodingKey::from_ec_pem(config.key_pem.as_bytes())
            .map_err(|e| PushConfigError(format!("APNs key: {e}")))?;
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(20));
        if config.base.starts_with("http://") {
            http = http.http2_prior_knowledge();
        }
        let http = http.build().map_err(|e| PushConfigError(e.to_string()))?;
        Ok(Apns {
            http,
            config: ApnsConfig {
                base: config.base.trim_end_matches('/').to_owned(),
                ..config
            },
            key,
            token: tokio::sync::Mutex::new(None),
        })
    }

    async fn bearer(&self) -> Result<String, ChannelError> {
        let mut cached = self.token.lock().await;
        if let Some((token, made)) = cached.as_ref()
            && made.elapsed() < TOKEN_LIFETIME
        {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.config.key_id.clone());
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.config.team_id,
            iat,
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| ChannelError(format!("apns: signing: {e}")))?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// Sends one push to one device token.
    pub async fn send(&self, device: &str, push: Push<'_>) -> Result<Sent, ChannelError> {
        let bearer = self.bearer().await?;
        // A background push (content-available, priority 5, its own push type) wakes the
        // app to sync without showing anything; Apple requires exactly that shape.
        let (body, push_type, priority, id) = match push {
            Push::Alert(alert) => (
                serde_json::json!({
                    "aps": {"alert": {"title": alert.title, "body": alert.body}, "sound": "default",
                            "thread-id": alert.kind},
                    "kind": alert.kind, "entity": alert.entity, "entity_id": alert.entity_id,
                    "notification_id": alert.notification_id,
                }),
                "alert",
                "10",
                uuid_of(&alert.notification_id),
            ),
            Push::SyncNow => (
                serde_json::json!({"aps": {"content-available": 1}, "sync": "now"}),
                "background",
                "5",
                uuid::Uuid::new_v4().to_string(),
            ),
        };
        let r = self
            .http
            .post(format!("{}/3/device/{device}", self.config.base))
            .header("authorization", format!("bearer {bearer}"))
            .header("apns-topic", &self.config.topic)
            .header("apns-push-type", push_type)
            .header("apns-priority", priority)
            .header("apns-id", id)
            .json(&body)
            .send()
            .await
            .map_err(|e| ChannelError(format!("apns: {e}")))?;
        let status = r.status();
        if status.is_success() {
            return Ok(Sent::Accepted);
        }
        let text = r.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::GONE
            || text.contains("BadDeviceToken")
            || text.contains("Unregistered")
        {
            return Ok(Sent::Gone);
        }
        if text.contains("ExpiredProviderToken") {
            *self.token.lock().await = None;
        }
        Err(ChannelError(format!("apns: {status} {text}")))
    }
}

/// APNs wants its `apns-id` as a canonical UUID; notification ids are UUIDs already.
fn uuid_of(id: &str) -> String {
    uuid::Uuid::parse_str(id).map_or_else(|_| uuid::Uuid::new_v4().to_string(), |u| u.to_string())
}
