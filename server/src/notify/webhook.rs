//! A channel that POSTs each message as JSON to a URL, signed so the receiver can tell it
//! came from this server and when: `X-Mentorsync-Timestamp: <unix seconds>` and
//! `X-Mentorsync-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with a
//! shared secret. The timestamp is signed, so a receiver that refuses old timestamps (five
//! minutes, say) cannot be fed a captured request again later; `X-Mentorsync-Delivery`
//! carries the notification id, so it can drop a message it has already seen.

use super::channel::{Channel, ChannelError, Message};
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Header with the body's signature.
pub const SIGNATURE_HEADER: &str = "x-mentorsync-signature";
/// Header with the signed send time (unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-mentorsync-timestamp";
/// Header with the notification id.
pub const DELIVERY_HEADER: &str = "x-mentorsync-delivery";

/// Posts messages to one URL.
#[derive(Clone)]
pub struct WebhookChannel {
    url: String,
    secret: Vec<u8>,
    http: reqwest::Client,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookChannel {
    /// The channel's name.
    pub const NAME: &'static str = "webhook";

    /// A channel posting to `url`, signing with `secret`.
    pub fn new(url: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Self, ChannelError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ChannelError(format!("webhook client: {e}")))?;
        Ok(WebhookChannel {
            url: url.into(),
            secret: secret.into(),
            http,
        })
    }
}

/// `sha256=<hex>` of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={:x}", mac.finalize().into_bytes())
}

impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn deliver<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let body =
                serde_json::to_vec(message).map_err(|e| ChannelError(format!("encoding: {e}")))?;
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let response = self
                .http
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(TIMESTAMP_HEADER, timestamp)
                .header(SIGNATURE_HEADER, signature(&self.secret, timestamp, &body))
                .header(DELIVERY_HEADER, message.notification_id.as_str())
                .body(body)
                .send()
                .await
                .map_err(|e| ChannelError(format!("webhook unreachable: {e}")))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(ChannelError(format!(
                    "webhook answered {}",
                    response.status()
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_the_timestamp() {
        // RFC 4231 test case 2, its message split as "<timestamp>.<body>".
        assert_eq!(
            signature(b"Jefe", 1_700_000_000, b"what do ya want for nothing?"),
            signature(b"Jefe", 1_700_000_000, b"what do ya want for nothing?")
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"7.what do ya want for nothing?");
        assert_eq!(
            signature(b"Jefe", 7, b"what do ya want for nothing?"),
            format!("sha256={:x}", mac.finalize().into_bytes())
        );
        assert_ne!(signature(b"Jefe", 7, b"x"), signature(b"Jefe", 8, b"x"));
    }
}
