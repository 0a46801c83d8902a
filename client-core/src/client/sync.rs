//! The sync engine: push the outbox, pull each set's round and publish it, follow the
//! server's pokes, and report where sync stands.

use super::Client;
use crate::error::{CoreError, Result};
use crate::http::ApiFailure;
use crate::listeners::Topic;
use crate::outbox;
use crate::pull;
use crate::store;
use mentorsync_protocol::model::Me;
use mentorsync_protocol::sync::{PushRequest, SyncSet};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const PUSH_BATCH: usize = 100;

/// Progress of a running sync, reported after every page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// Commands pushed so far.
    pub pushed: u64,
    /// Row changes received so far.
    pub rows: u64,
    /// Bytes received so far (decompressed).
    pub bytes: u64,
    /// Pages received so far.
    pub pages: u64,
}

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Totals.
    pub progress: SyncProgress,
    /// Commands the server refused in this sync.
    pub rejected: u64,
}

/// Where the background sync loop ([`Client::run_with`]) stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveState {
    /// Pushing queued commands and bringing the data up to date.
    Syncing,
    /// Up to date, and the server's event stream is open: changes arrive as they happen.
    Live,
    /// Up to date, without an event stream: checks again at `next_check_at` (epoch ms).
    Polling {
        /// Epoch ms.
        next_check_at: i64,
    },
    /// The last attempt failed; tries again at `retry_at` (epoch ms) or when woken.
    Retrying {
        /// Why it failed.
        error: String,
        /// Epoch ms.
        retry_at: i64,
    },
    /// Not running: stopped by the app, or the session ended (`error` says why).
    Stopped {
        /// Why it stopped, when not asked to.
        error: Option<String>,
    },
}

/// How fresh one kind of data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetStatus {
    /// `roster`, `queue` or `rest`.
    pub set: String,
    /// When it was last brought up to date (epoch ms).
    pub last_success_at: Option<i64>,
    /// Pages of an unfinished round waiting on this device.
    pub staged_pages: i64,
    /// The cursor of the last published round (opaque; for debugging).
    pub cursor: Option<String>,
}

/// The sync state the app shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The last attempt reached the server.
    pub online: bool,
    /// When a sync last completed (epoch ms).
    pub last_sync_at: Option<i64>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// Commands waiting for the server.
    pub pending: i64,
    /// Commands refused, kept for the app to show.
    pub rejected: i64,
    /// Freshness per kind of data.
    pub sets: Vec<SetStatus>,
    /// Someone is signed in.
    pub signed_in: bool,
}

impl Client {
    /// Pushes the outbox, then brings every set up to date (roster first, then the work
    /// queue, then the rest, each published as soon as its round completes).
    pub async fn sync(&self, progress: impl Fn(SyncProgress)) -> Result<SyncReport> {
        let _one_at_a_time = self.inner.sync_lock.lock().await;
        let result = self.sync_inner(&progress).await;
        let conn = self.inner.store.conn();
        match &result {
            Ok(_) => {
                store::set_meta(&conn, "last_sync_at", Some(&self.now().to_string()))?;
                store::set_meta(&conn, "last_error", None)?;
                store::set_meta(&conn, "online", Some("1"))?;
            }
            Err(e) => {
                store::set_meta(&conn, "last_error", Some(&e.to_string()))?;
                let online = if matches!(e, CoreError::Offline(_)) {
                    "0"
                } else {
                    "1"
                };
                store::set_meta(&conn, "online", Some(online))?;
            }
        }
        drop(conn);
        // Verdicts arrived and applied commands left the outbox.
        self.inner
            .listeners
            .notify(&[Topic::Commands, Topic::SyncStatus]);
        result
    }

    async fn sync_inner(&self, progress: &impl Fn(SyncProgress)) -> Result<SyncReport> {
        let me = self.require_me()?;
        let mut report = SyncReport::default();
        // A second round only when the first found that the server forgot commands.
        for _ in 0..2 {
            self.push_outbox(&me, &mut report, progress).await?;
            let client_id = self.client_id()?;
            // Everything applied so far is brought by the pulls below.
            let applied_upto: i64 = store::meta(&self.inner.store.conn(), "next_mutation_id")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
                - 1;
            // One set at a time, the roster first (it is the first screen): with one page
            // in flight, a cut connection wastes at most that page.
            let mut server_last = i64::MAX;
            for set in SyncSet::ALL {
                let rows_before = report.progress.rows;
                let last = self
                    .pull_set(&me, &client_id, set, &mut report, progress)
                    .await?;
                server_last = server_last.min(last);
                // Observers re-read only when the round brought something.
                if report.progress.rows > rows_before {
                    self.inner
                        .listeners
                        .notify(&Topic::of_all(set.entities().iter().copied()));
                }
            }
            {
                let mut conn = self.inner.store.conn();
                let tx = conn.transaction()?;
                let reset = outbox::prune_applied(&tx, applied_upto)?;
                outbox::rebase(&tx, &me, self.now(), reset)?;
                tx.commit()?;
            }
            if !self.server_forgot(&me, server_last)? {
                break;
            }
        }
        Ok(report)
    }

    /// Pushes the outbox in batches. A `mutation_gap` below what this device had
    /// acknowledged means the server was restored from a backup: the forgotten commands
    /// are queued again from the journal and pushed first.
    async fn push_outbox(
        &self,
        me: &Me,
        report: &mut SyncReport,
        progress: &impl Fn(SyncProgress),
    ) -> Result<()> {
        loop {
            let batch = outbox::unsent(&self.inner.store.conn(), PUSH_BATCH)?;
            if batch.is_empty() {
                return Ok(());
            }
            let ids: Vec<i64> = batch.iter().map(|m| m.mutation_id).collect();
            outbox::mark_sent(&self.inner.store.conn(), &ids)?;
            let mutations = batch
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?;
            let req = PushRequest {
                client_id: self.client_id()?,
                mutations,
                sent_at: Some(self.now()),
            };
            let outcome = self
                .authed(|access| {
                    let (api, req) = (self.inner.api.clone(), req.clone());
                    async move {
                        match api.push(&access, &req).await {
                            Ok(resp) => Ok(Ok(resp)),
                            Err(ApiFailure::Status(409, body))
                                if body.code == mentorsync_protocol::ErrorCode::MUTATION_GAP =>
                            {
                                let expected = body
                                    .details
                                    .as_ref()
                                    .and_then(|d| d["expected_mutation_id"].as_i64())
                                    .unwrap_or(1);
                                Ok(Err((expected - 1, body.message)))
                            }
                            Err(e) => Err(e),
                        }
                    }
                })
                .await?;
            let resp = match outcome {
                Ok(resp) => resp,
                Err((server_last, message)) => {
                    if self.server_forgot(me, server_last)? {
                        continue;
                    }
                    return Err(CoreError::Protocol(message));
                }
            };
            report.rejected += outbox::apply_verdicts(
                &mut self.inner.store.conn(),
                me,
                self.now(),
                &resp.verdicts,
            )? as u64;
            report.progress.pushed += resp.verdicts.len() as u64;
            progress(report.progress);
            // Verdicts move rows back to the server's truth wherever a command was refused.
            self.inner.listeners.notify(&Topic::ALL);
        }
    }

    /// Whether the server, whose newest verdict for this device is `server_last`, forgot
    /// commands the device had acknowledged; if so they are queued again (or, older than
    /// the journal keeps, the device continues under a new id).
    fn server_forgot(&self, me: &Me, server_last: i64) -> Result<bool> {
        let mut conn = self.inner.store.conn();
        match outbox::requeue_forgotten(&mut conn, me, self.now(), server_last)? {
            outbox::Forgotten::Requeued(0) => Ok(false),
            outbox::Forgotten::Requeued(n) => {
                tracing::warn!(
                    requeued = n,
                    "the server has no verdict for commands it had acknowledged (restored \
                     from a backup?); submitting them again"
                );
                Ok(true)
            }
            outbox::Forgotten::Beyond => {
                let (client_id, lost) = outbox::start_new_numbering(&mut conn, server_last)?;
                tracing::warn!(
                    lost,
                    client_id,
                    "the server forgot commands older than the journal; continuing under a \
                     new device id"
                );
                Ok(true)
            }
        }
    }

    /// Pulls one set's round to its end and publishes it. The next page is requested as
    /// soon as a page arrives, before that page is stored, so the server prepares it while
    /// the device writes (docs/performance.md, W1).
    async fn pull_set(
        &self,
        me: &Me,
        client_id: &str,
        set: SyncSet,
        report: &mut SyncReport,
        progress: &impl Fn(SyncProgress),
    ) -> Result<i64> {
        let state = pull::state(&self.inner.store.conn(), set)?;
        let mut next = self.fetch(client_id, set, state.round_cursor.or(state.cursor))?;
        loop {
            let (page, bytes) = next.finish().await?;
            if page.has_more {
                next = self.fetch(client_id, set, Some(page.cursor.clone()))?;
            }
            let (rows, last) = (page.changes.len() as u64, !page.has_more);
            let server_last = page.last_mutation_id;
            let (this, me) = (self.clone(), me.clone());
            let rejected = blocking(move || {
                let conn = &mut this.inner.store.conn();
                pull::stage(conn, set, &page)?;
                let rejected = outbox::apply_verdicts(conn, &me, this.now(), &page.verdicts)?;
                if last {
                    pull::publish(conn, &me, this.now(), set)?;
                }
                Ok(rejected as u64)
            })
            .await?;
            report.rejected += rejected;
            report.progress.rows += rows;
            report.progress.bytes += bytes as u64;
            report.progress.pages += 1;
            progress(report.progress);
            if last {
                return Ok(server_last);
            }
        }
    }

    /// Starts fetching a page. The acknowledgement sent is what the device has stored
    /// durably, never a verdict still being written: the server may forget what is
    /// acknowledged, and a verdict sent twice is applied once.
    fn fetch(&self, client_id: &str, set: SyncSet, cursor: Option<String>) -> Result<Fetch> {
        let ack: i64 = self
            .inner
            .store
            .meta("acked_mutation_id")?
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let (this, client_id) = (self.clone(), client_id.to_owned());
        let limit = self
            .inner
            .page_size
            .load(std::sync::atomic::Ordering::Relaxed);
        Ok(Fetch(tokio::spawn(async move {
            this.authed(|access| {
                let (api, cursor, client_id) =
                    (this.inner.api.clone(), cursor.clone(), client_id.clone());
                async move {
                    api.pull(&access, &client_id, cursor.as_deref(), limit, ack, set)
                        .await
                }
            })
            .await
        })))
    }

    /// Keeps the device in sync until `stop` resolves (see [`Client::run_with`]).
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) -> Result<()> {
        self.run_with(stop, |_| {}).await
    }

    /// Keeps the device in sync until `stop` resolves, telling `on_state` where it stands.
    /// Syncs, then waits: for a poke while the server's event stream is open (no polling
    /// then), for a minute while it is not, and after a failure with exponential backoff
    /// and jitter (1 s doubling to 5 min). A queued command or [`Client::wake`] (the
    /// network is back) syncs at once and resets the backoff. Stops on a sign-in error.
    pub async fn run_with(
        &self,
        stop: impl std::future::Future<Output = ()>,
        on_state: impl Fn(LiveState),
    ) -> Result<()> {
        let poked = Arc::new(tokio::sync::Notify::new());
        let streaming = Arc::new(AtomicBool::new(false));
        let mut events = tokio::spawn(self.clone().follow_events(poked.clone(), streaming.clone()));
        // The follower ends only when the server refuses the session (signed out, account
        // disabled): sync at once, which then stops the loop with the reason.
        let mut following = true;
        tokio::pin!(stop);
        let mut backoff = Duration::from_secs(1);
        let outcome = loop {
            on_state(LiveState::Syncing);
            // Stopping does not wait for a sync to finish (the app is going to the
            // background): a sync cut at any point resumes where it was (docs/sync-protocol.md).
            let synced = tokio::select! {
                r = self.sync(|_| {}) => r,
                _ = &mut stop => break Ok(()),
            };
            let wait = match synced {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    if streaming.load(Ordering::SeqCst) {
                        on_state(LiveState::Live);
                        None
                    } else {
                        let wait = Duration::from_secs(60);
                        on_state(LiveState::Polling {
                            next_check_at: self.now() + wait.as_millis() as i64,
                        });
                        Some(wait)
                    }
                }
                Err(e @ CoreError::Unauthorized(_)) => break Err(e),
                Err(e) => {
                    let jitter = rand::random::<f64>() * 0.5 + 0.75;
                    let wait = backoff.mul_f64(jitter);
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                    on_state(LiveState::Retrying {
                        error: e.to_string(),
                        retry_at: self.now() + wait.as_millis() as i64,
                    });
                    Some(wait)
                }
            };
            let sleep = tokio::time::sleep(wait.unwrap_or(Duration::MAX));
            tokio::select! {
                _ = &mut stop => break Ok(()),
                _ = poked.notified() => {}
                _ = self.inner.outbox_ready.notified() => backoff = Duration::from_secs(1),
                _ = &mut events, if following => following = false,
                _ = sleep, if wait.is_some() => {}
            }
        };
        events.abort();
        on_state(LiveState::Stopped {
            error: outcome.as_ref().err().map(ToString::to_string),
        });
        outcome
    }

    /// Tells a running sync loop the network is back: it syncs now, without waiting out
    /// its backoff (call it from the platform's connectivity callback).
    pub fn wake(&self) {
        self.inner.outbox_ready.notify_one();
    }

    /// Follows the server's event stream, poking the loop on every poke, and on every
    /// connect and disconnect (what changed meanwhile was not announced).
    async fn follow_events(self, poked: Arc<tokio::sync::Notify>, streaming: Arc<AtomicBool>) {
        use futures::StreamExt;
        let mut last = None;
        let mut backoff = Duration::from_secs(1);
        loop {
            let stream = self
                .authed(|access| {
                    let api = self.inner.api.clone();
                    async move { api.events(&access, last).await }
                })
                .await;
            match stream {
                Ok(s) => {
                    backoff = Duration::from_secs(1);
                    streaming.store(true, Ordering::SeqCst);
                    poked.notify_one();
                    futures::pin_mut!(s);
                    while let Some(p) = s.next().await {
                        last = Some(p);
                        poked.notify_one();
                    }
                    streaming.store(false, Ordering::SeqCst);
                    poked.notify_one();
                }
                Err(CoreError::Unauthorized(_)) => return,
                Err(_) => {}
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(300));
        }
    }

    /// The sync state.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let signed_in = self.load_tokens()?.is_some();
        let conn = self.inner.store.conn();
        let pending: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        let rejected: i64 = conn.query_row("SELECT COUNT(*) FROM rejections", [], |r| r.get(0))?;
        let mut sets = Vec::new();
        for set in SyncSet::ALL {
            let s = pull::state(&conn, set)?;
            sets.push(SetStatus {
                set: set.as_str().to_owned(),
                last_success_at: s.last_success_at,
                staged_pages: s.staged_pages,
                cursor: s.cursor,
            });
        }
        Ok(SyncStatus {
            online: store::meta(&conn, "online")?.as_deref() != Some("0"),
            last_sync_at: store::meta(&conn, "last_sync_at")?.and_then(|v| v.parse().ok()),
            last_error: store::meta(&conn, "last_error")?,
            pending,
            rejected,
            sets,
            signed_in,
        })
    }
}

/// Runs database work off the async threads, so a page in flight keeps arriving.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Storage(format!("database work failed: {e}")))?
}

/// A page being fetched; dropping it (the sync failed meanwhile) cancels the request.
struct Fetch(tokio::task::JoinHandle<Result<(pull::Page, usize)>>);

impl Fetch {
    async fn finish(&mut self) -> Result<(pull::Page, usize)> {
        (&mut self.0)
            .await
            .map_err(|e| CoreError::Offline(format!("page request ended: {e}")))?
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}
