//! The server's sync and sign-in endpoints, over reqwest (rustls; gzip, br, zstd).

use futures::{Stream, StreamExt};
use mentorsync_protocol::ErrorBody;
use mentorsync_protocol::auth::{LoginResponse, TokenPair};
use mentorsync_protocol::sync::{PROTOCOL_HEADER, PushRequest, PushResponse, SyncSet};
use reqwest::StatusCode;
use std::time::Duration;

/// How a request failed.
#[derive(Debug)]
pub enum ApiFailure {
    /// No answer (connection, timeout, cut body), or an answer that says "not now" (408,
    /// 502, 503, 504).
    Offline(String),
    /// 401: the access token is dead (or the refresh token, on refresh).
    Unauthorized(ErrorBody),
    /// Any other error answer.
    Status(u16, ErrorBody),
}

/// The server.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

fn offline(e: reqwest::Error) -> ApiFailure {
    ApiFailure::Offline(e.to_string())
}

async fn decode<T: serde::de::DeserializeOwned>(
    r: reqwest::Response,
) -> Result<(T, usize), ApiFailure> {
    let status = r.status();
    let bytes = r.bytes().await.map_err(offline)?;
    if status.is_success() {
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiFailure::Status(
                status.as_u16(),
                body("protocol", &format!("unreadable answer: {e}")),
            )
        })?;
        return Ok((value, bytes.len()));
    }
    let err: ErrorBody =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| body("http", &format!("HTTP {status}")));
    // The server (or a gateway before it) is there but cannot serve now — restarting, its
    // database busy or failing over, a request that ran out of time. Like no answer at all:
    // keep working offline and retry; nothing about the request was wrong.
    if matches!(
        status,
        StatusCode::REQUEST_TIMEOUT
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    ) {
        return Err(ApiFailure::Offline(format!(
            "server unavailable (HTTP {}): {}",
            status.as_u16(),
            err.message
        )));
    }
    Err(if status == StatusCode::UNAUTHORIZED {
        ApiFailure::Unauthorized(err)
    } else {
        ApiFailure::Status(status.as_u16(), err)
    })
}

fn body(code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        code: code.to_owned(),
        message: message.to_owned(),
        details: None,
    }
}

impl Api {
    /// A client for the server at `base` (e.g. `https://sync.example.org`).
    pub fn new(base: &str) -> Result<Api, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse, ApiFailure> {
        let r = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .map_err(offline)?;
        decode(r).await.map(|(v, _)| v)
    }

    /// Spends a refresh token for a new pair, as device `client_id` (which lets a retry
    /// after a lost answer through once).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
    ) -> Result<TokenPair, ApiFailure> {
        let r = self
            .http
            .post(self.url("/api/v1/auth/refresh"))
            .json(&serde_json::json!({"refresh_token": refresh_token, "client_id": client_id}))
            .send()
            .await
            .map_err(offline)?;
        decode(r).await.map(|(v, _)| v)
    }

    /// Ends the session on the server.
    pub async fn logout(&self, access: &str) -> Result<(), ApiFailure> {
        let r = self
            .http
            .post(self.url("/api/v1/auth/logout"))
            .bearer_auth(access)
            .send()
            .await
            .map_err(offline)?;
        if r.status().is_success() {
            Ok(())
        } else {
            decode::<serde_json::Value>(r).await.map(|_| ())
        }
    }

    /// Registers this device's push token (`Some`), or forgets it (`None`).
    pub async fn push_token(
        &self,
        access: &str,
        client_id: &str,
        token: Option<(mentorsync_protocol::PushPlatform, &str)>,
    ) -> Result<(), ApiFailure> {
        let url = self.url(&format!("/api/v1/devices/{client_id}/push"));
        let req = match token {
            Some((platform, token)) => self
                .http
                .put(url)
                .json(&serde_json::json!({"platform": platform, "token": token})),
            None => self.http.delete(url),
        };
        let r = req.bearer_auth(access).send().await.map_err(offline)?;
        if r.status().is_success() {
            Ok(())
        } else {
            decode::<serde_json::Value>(r).await.map(|_| ())
        }
    }

    /// One pull page; also returns the size of the (decompressed) body.
    #[allow(clippy::too_many_arguments)]
    pub async fn pull(
        &self,
        access: &str,
        client_id: &str,
        cursor: Option<&str>,
        limit: u32,
        ack: i64,
        set: SyncSet,
    ) -> Result<(crate::pull::Page, usize), ApiFailure> {
        let mut query = vec![
            ("client_id", client_id.to_owned()),
            ("limit", limit.to_string()),
            ("ack", ack.to_string()),
            ("set", set.as_str().to_owned()),
        ];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_owned()));
        }
        let r = self
            .http
            .get(self.url("/api/v1/sync/pull"))
            .bearer_auth(access)
            .header(PROTOCOL_HEADER, "1")
            .query(&query)
            .send()
            .await
            .map_err(offline)?;
        decode(r).await
    }

    /// Pushes a batch of the outbox.
    pub async fn push(&self, access: &str, req: &PushRequest) -> Result<PushResponse, ApiFailure> {
        let r = self
            .http
            .post(self.url("/api/v1/sync/push"))
            .bearer_auth(access)
            .header(PROTOCOL_HEADER, "1")
            .json(req)
            .send()
            .await
            .map_err(offline)?;
        decode(r).await.map(|(v, _)| v)
    }

    /// The events stream as a stream of poke positions. Ends when the connection does.
    pub async fn events(
        &self,
        access: &str,
        last_seen: Option<i64>,
    ) -> Result<impl Stream<Item = i64> + use<>, ApiFailure> {
        let mut req = self
            .http
            .get(self.url("/api/v1/sync/events"))
            .bearer_auth(access)
            .header(PROTOCOL_HEADER, "1")
            .timeout(Duration::from_secs(24 * 3600));
        if let Some(l) = last_seen {
            req = req.header("last-event-id", l.to_string());
        }
        let r = req.send().await.map_err(offline)?;
        if !r.status().is_success() {
            return Err(decode::<serde_json::Value>(r)
                .await
                .err()
                .unwrap_or(ApiFailure::Offline("events refused".into())));
        }
        let mut buf = String::new();
        Ok(r.bytes_stream()
            .take_while(|c| futures::future::ready(c.is_ok()))
            .filter_map(|c| futures::future::ready(c.ok()))
            .flat_map(move |chunk| {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                let mut pokes = Vec::new();
                while let Some(end) = buf.find("\n\n") {
                    let event: String = buf.drain(..end + 2).collect();
                    if event.lines().any(|l| l == "event: poke")
                        && let Some(p) = event
                            .lines()
                            .find_map(|l| l.strip_prefix("id: "))
                            .and_then(|p| p.trim().parse().ok())
                    {
                        pokes.push(p);
                    }
                }
                futures::stream::iter(pokes)
            }))
    }
}
