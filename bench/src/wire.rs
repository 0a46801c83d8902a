//! Raw protocol calls, for workloads that time single requests.

use anyhow::Context;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The sync protocol header.
pub const PROTOCOL: (&str, &str) = ("x-mentorsync-protocol", "1");

/// A device pulling with its own cursors, one set at a time.
pub struct Puller {
    http: reqwest::Client,
    base: String,
    token: String,
    /// The device id.
    pub client_id: String,
    /// Each set's cursor: the sets are separate streams.
    cursors: HashMap<String, String>,
}

/// One pull page.
pub struct Page {
    /// Row changes in it.
    pub changes: usize,
    /// Whether more pages follow.
    pub has_more: bool,
    /// Request time.
    pub took: Duration,
}

impl Puller {
    /// A new device of the token's user.
    pub fn new(http: &reqwest::Client, base: &str, token: &str) -> Puller {
        Puller {
            http: http.clone(),
            base: base.to_owned(),
            token: token.to_owned(),
            client_id: uuid::Uuid::new_v4().to_string(),
            cursors: HashMap::new(),
        }
    }

    /// One request of `set`, continuing from the cursor.
    pub async fn pull(&mut self, set: &str, limit: u32) -> anyhow::Result<Page> {
        let mut url = format!(
            "{}/api/v1/sync/pull?client_id={}&set={set}&limit={limit}",
            self.base, self.client_id
        );
        if let Some(c) = self.cursors.get(set) {
            url.push_str(&format!("&cursor={c}"));
        }
        let started = Instant::now();
        let r = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header(PROTOCOL.0, PROTOCOL.1)
            .send()
            .await?;
        let status = r.status();
        let page: Value = r.json().await?;
        let took = started.elapsed();
        anyhow::ensure!(status.is_success(), "pull answered {status}: {page}");
        if let Some(c) = page["cursor"].as_str() {
            self.cursors.insert(set.to_owned(), c.to_owned());
        }
        Ok(Page {
            changes: page["changes"].as_array().map_or(0, Vec::len),
            has_more: page["has_more"].as_bool().unwrap_or(false),
            took,
        })
    }

    /// Pulls `set` until it is complete; returns the rows received.
    pub async fn pull_all(&mut self, set: &str) -> anyhow::Result<usize> {
        let mut rows = 0;
        loop {
            let p = self.pull(set, 500).await?;
            rows += p.changes;
            if !p.has_more {
                return Ok(rows);
            }
        }
    }
}

/// `raise_flag` on a mentee, as a command body.
pub fn flag(mentee_id: &str, n: usize) -> Value {
    json!({"name": "raise_flag", "args": {"mentee_id": mentee_id, "severity": "low", "reason": format!("bench {n}")}})
}

/// Pushes `commands` as mutations `first..` of device `client_id`; returns the verdicts
/// that were not applied.
pub async fn push(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client_id: &str,
    first: i64,
    commands: &[Value],
) -> anyhow::Result<usize> {
    let mutations: Vec<Value> = commands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut m = c.clone();
            m["mutation_id"] = json!(first + i as i64);
            m
        })
        .collect();
    let r = http
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(token)
        .header(PROTOCOL.0, PROTOCOL.1)
        .json(&json!({"client_id": client_id, "mutations": mutations}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await.context("push response")?;
    anyhow::ensure!(status.is_success(), "push answered {status}: {body}");
    Ok(body["verdicts"]
        .as_array()
        .map_or(0, |v| v.iter().filter(|v| v["status"] != "applied").count()))
}

/// Reads `poke` event ids from an event stream until the returned receiver is dropped.
pub async fn pokes(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<(Instant, i64)>> {
    use futures::StreamExt;
    let r = http
        .get(format!("{base}/api/v1/sync/events"))
        .bearer_auth(token)
        .header(PROTOCOL.0, PROTOCOL.1)
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "events answered {}", r.status());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = r.bytes_stream();
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(id) = block
                    .lines()
                    .find_map(|l| l.strip_prefix("id: ").or_else(|| l.strip_prefix("id:")))
                    .and_then(|v| v.trim().parse().ok())
                    && tx.send((Instant::now(), id)).is_err()
                {
                    return;
                }
            }
        }
    });
    Ok(rx)
}
