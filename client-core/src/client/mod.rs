//! The app-facing client: open a database, sign in, issue commands offline, sync, query,
//! observe. The sync engine (push, pull rounds, following the server) is `sync.rs`.

mod push;
mod screens;
mod sync;

pub use sync::{LiveState, SetStatus, SyncProgress, SyncReport, SyncStatus};

use crate::error::{CoreError, Result};
use crate::http::{Api, ApiFailure};
use crate::listeners::{Listeners, Subscription, Topic};
use crate::outbox::{self, PendingCommand, RejectedCommand};
use crate::query::{self, QueueStats, RosterFilter, RosterItem};
use crate::store::{self, Store};
use crate::tokens::{ClientOptions, TokenStore, Tokens};
use mentorsync_protocol::ErrorCode;
use mentorsync_protocol::command::*;
use mentorsync_protocol::model::{Cockpit, Me, Session, WorkItem};
use std::path::Path;
use std::sync::Arc;

struct Inner {
    store: Store,
    tokens: Option<Arc<dyn TokenStore>>,
    api: Api,
    listeners: Arc<Listeners>,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    sync_lock: tokio::sync::Mutex<()>,
    page_size: std::sync::atomic::AtomicU32,
    /// Told when a command is queued or the app says the network is back.
    outbox_ready: tokio::sync::Notify,
}

/// The mentorsync client of one device. Cheap to clone; every method takes `&self`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const PAGE: u32 = 500;

impl Client {
    /// Opens the device database at `db_path` for the server at `server_url`, keeping the
    /// tokens in the database (tools, tests; apps use [`Client::open_with`] and a
    /// [`TokenStore`] backed by the platform's secret store).
    pub fn open(db_path: &Path, server_url: &str) -> Result<Client> {
        Self::open_with(db_path, server_url, ClientOptions::default())
    }

    /// Opens the device database with `options`: where the tokens live, and whether a
    /// plain `http://` server off this machine is allowed (it is refused otherwise).
    pub fn open_with(db_path: &Path, server_url: &str, options: ClientOptions) -> Result<Client> {
        Self::open_inner(db_path, server_url, options, Box::new(system_now))
    }

    /// Like [`Client::open`], with a clock (tests).
    pub fn open_with_clock(
        db_path: &Path,
        server_url: &str,
        clock: Box<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<Client> {
        Self::open_inner(db_path, server_url, ClientOptions::default(), clock)
    }

    fn open_inner(
        db_path: &Path,
        server_url: &str,
        options: ClientOptions,
        clock: Box<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<Client> {
        crate::tokens::check_server_url(server_url, options.allow_insecure_http)?;
        let store = Store::open(db_path)?;
        if store.meta("client_id")?.is_none() {
            store.set_meta("client_id", Some(&uuid::Uuid::new_v4().to_string()))?;
        }
        store.set_meta("server_url", Some(server_url))?;
        // Tokens an earlier version kept in the database move to the app's store.
        if let Some(external) = &options.tokens
            && let (Some(access), Some(refresh)) =
                (store.meta("access_token")?, store.meta("refresh_token")?)
        {
            external.save(Some(&Tokens { access, refresh }))?;
            store.set_meta("access_token", None)?;
            store.set_meta("refresh_token", None)?;
        }
        let api = Api::new(server_url).map_err(CoreError::Protocol)?;
        Ok(Client {
            inner: Arc::new(Inner {
                store,
                tokens: options.tokens,
                api,
                listeners: Arc::new(Listeners::default()),
                clock,
                sync_lock: tokio::sync::Mutex::new(()),
                page_size: std::sync::atomic::AtomicU32::new(PAGE),
                outbox_ready: tokio::sync::Notify::new(),
            }),
        })
    }

    fn load_tokens(&self) -> Result<Option<Tokens>> {
        match &self.inner.tokens {
            Some(t) => t.load(),
            None => Ok(
                match (
                    self.inner.store.meta("access_token")?,
                    self.inner.store.meta("refresh_token")?,
                ) {
                    (Some(access), Some(refresh)) => Some(Tokens { access, refresh }),
                    _ => None,
                },
            ),
        }
    }

    fn save_tokens(&self, tokens: Option<&Tokens>) -> Result<()> {
        match &self.inner.tokens {
            Some(t) => t.save(tokens),
            None => {
                self.inner
                    .store
                    .set_meta("access_token", tokens.map(|t| t.access.as_str()))?;
                self.inner
                    .store
                    .set_meta("refresh_token", tokens.map(|t| t.refresh.as_str()))
            }
        }
    }

    fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Rows per pull page (1–1000; default 500). Smaller pages waste less on a link that
    /// drops often.
    pub fn set_page_size(&self, rows: u32) {
        self.inner
            .page_size
            .store(rows.clamp(1, 1000), std::sync::atomic::Ordering::Relaxed);
    }

    /// This device's id.
    pub fn client_id(&self) -> Result<String> {
        self.inner
            .store
            .meta("client_id")?
            .ok_or_else(|| CoreError::Storage("no client id".into()))
    }

    /// The signed-in user.
    pub fn me(&self) -> Result<Option<Me>> {
        Ok(self
            .inner
            .store
            .meta("me")?
            .map(|m| serde_json::from_str(&m))
            .transpose()?)
    }

    fn require_me(&self) -> Result<Me> {
        self.me()?
            .ok_or_else(|| CoreError::Unauthorized("sign in first".into()))
    }

    /// Signs in. Signing in as someone else clears this device's data first — but never
    /// commands the server has not confirmed: while any wait, signing in as another person
    /// is refused with [`CoreError::PendingCommands`] (how many, and whose) until they are
    /// synced or explicitly discarded ([`Client::discard_pending`]).
    pub async fn login(&self, email: &str, password: &str) -> Result<Me> {
        let r = self
            .inner
            .api
            .login(email, password)
            .await
            .map_err(Self::failure)?;
        let tokens = Tokens {
            access: r.tokens.access_token,
            refresh: r.tokens.refresh_token,
        };
        if let Some(previous) = self.me()?
            && previous.id != r.user.id
        {
            let count = self.unconfirmed()?;
            if count > 0 {
                // The session just opened is not kept: end it on the server too.
                let _ = self.inner.api.logout(&tokens.access).await;
                return Err(CoreError::PendingCommands {
                    count,
                    owner: previous.email,
                });
            }
            self.clear_data()?;
        }
        self.save_tokens(Some(&tokens))?;
        self.inner
            .store
            .set_meta("me", Some(&serde_json::to_string(&r.user)?))?;
        self.inner.listeners.notify(&[Topic::SyncStatus]);
        Ok(r.user)
    }

    /// Signs out here and on the server (if reachable), and clears what this device holds
    /// of the person's data. Refused with [`CoreError::PendingCommands`] while commands
    /// wait that the server has not confirmed: sync them first, or discard them.
    pub async fn logout(&self) -> Result<()> {
        if self.me()?.is_some() {
            let count = self.unconfirmed()?;
            if count > 0 {
                let owner = self.me()?.map(|m| m.email).unwrap_or_default();
                return Err(CoreError::PendingCommands { count, owner });
            }
        }
        if let Some(tokens) = self.load_tokens()? {
            let _ = self.inner.api.logout(&tokens.access).await;
        }
        self.forget()
    }

    /// Forgets the person on this device: tokens, rows, queued commands; every listener
    /// is told.
    fn forget(&self) -> Result<()> {
        self.save_tokens(None)?;
        self.clear_data()?;
        self.inner.listeners.notify(&Topic::ALL);
        Ok(())
    }

    /// Commands queued here that the server has not confirmed (not sent yet, or sent and
    /// not answered).
    fn unconfirmed(&self) -> Result<u64> {
        let n: i64 = self.inner.store.conn().query_row(
            "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sent')",
            [],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Drops every queued command and says how many the server had not confirmed. What
    /// the app shows goes back to the server's rows. A command already sent may still
    /// have been applied by the server; the next sync shows it. The device takes a new
    /// client id, so mutation ids start over without a gap.
    pub fn discard_pending(&self) -> Result<u64> {
        let count = self.unconfirmed()?;
        let me = self.me()?;
        let conn = self.inner.store.conn();
        let touched: Vec<String> = {
            let mut stmt = conn.prepare("SELECT touched FROM outbox")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?
        };
        // The journal's ids belong to the old client id, which the device gives up below.
        conn.execute_batch("DELETE FROM outbox; DELETE FROM journal;")?;
        let keys = touched.iter().flat_map(|t| outbox::parse_keys(t)).collect();
        match &me {
            Some(me) => outbox::rebase(&conn, me, self.now(), keys)?,
            None => {
                for (entity, id) in keys {
                    crate::rows::reset_view(&conn, entity, &id)?;
                }
            }
        }
        store::set_meta(&conn, "client_id", Some(&uuid::Uuid::new_v4().to_string()))?;
        store::set_meta(&conn, "next_mutation_id", None)?;
        store::set_meta(&conn, "acked_mutation_id", None)?;
        drop(conn);
        self.inner.listeners.notify(&Topic::ALL);
        Ok(count)
    }

    fn clear_data(&self) -> Result<()> {
        let conn = self.inner.store.conn();
        conn.execute_batch(
            "DELETE FROM server_rows; DELETE FROM view_rows; DELETE FROM outbox; DELETE FROM rejections; \
             DELETE FROM journal; DELETE FROM staged_rows; DELETE FROM sync_state; \
             DELETE FROM meta WHERE key IN ('me', 'acked_mutation_id');",
        )?;
        // A new user on this device gets a new client id: mutation ids start over.
        store::set_meta(&conn, "client_id", Some(&uuid::Uuid::new_v4().to_string()))?;
        store::set_meta(&conn, "next_mutation_id", None)?;
        Ok(())
    }

    fn failure(f: ApiFailure) -> CoreError {
        match f {
            ApiFailure::Offline(m) => CoreError::Offline(m),
            ApiFailure::Unauthorized(b) => CoreError::Unauthorized(b.message),
            ApiFailure::Status(_, b) => CoreError::Protocol(format!("{}: {}", b.code, b.message)),
        }
    }

    /// Runs a request with the access token, refreshing it once on 401.
    async fn authed<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiFailure>>,
    {
        let tokens = self
            .load_tokens()?
            .ok_or_else(|| CoreError::Unauthorized("sign in first".into()))?;
        match call(tokens.access).await {
            Err(ApiFailure::Unauthorized(_)) => {
                let client_id = self.client_id()?;
                let pair = match self.inner.api.refresh(&tokens.refresh, &client_id).await {
                    Ok(pair) => pair,
                    Err(ApiFailure::Unauthorized(b)) if b.code == ErrorCode::ACCOUNT_DISABLED => {
                        // The account was disabled: the person sees nothing any more, so the
                        // device forgets everything it held of theirs (commands they queued
                        // could never be applied).
                        self.forget()?;
                        return Err(CoreError::Unauthorized(b.message));
                    }
                    Err(f @ ApiFailure::Unauthorized(_)) => {
                        // The server ended the session (signed out elsewhere, revoked,
                        // expired): the tokens are dead, so the device is signed out. Its
                        // rows and queued commands stay for the next sign-in.
                        self.save_tokens(None)?;
                        self.inner.listeners.notify(&[Topic::SyncStatus]);
                        return Err(Self::failure(f));
                    }
                    Err(f) => return Err(Self::failure(f)),
                };
                self.save_tokens(Some(&Tokens {
                    access: pair.access_token.clone(),
                    refresh: pair.refresh_token,
                }))?;
                call(pair.access_token).await.map_err(Self::failure)
            }
            other => other.map_err(Self::failure),
        }
    }

    /// Issues a command: checked against the local view with the server's rules (refused
    /// at once when it cannot succeed), applied to what the app reads, queued for the
    /// server. Works offline. Returns its mutation id.
    pub fn execute(&self, command: Command) -> Result<i64> {
        Ok(self.issue(command)?.mutation_id)
    }

    /// [`Client::execute`], also saying which row the command creates (the new session's
    /// id, so the app can open it before the server has seen it).
    pub fn issue(&self, command: Command) -> Result<outbox::Queued> {
        let me = self.require_me()?;
        let queued = outbox::enqueue(&mut self.inner.store.conn(), &me, self.now(), command)?;
        let mut topics = Topic::of_all(queued.entities.iter().copied());
        topics.extend([Topic::Commands, Topic::SyncStatus]);
        self.inner.listeners.notify(&topics);
        // A running sync loop pushes it now rather than at its next wake-up.
        self.inner.outbox_ready.notify_one();
        Ok(queued)
    }

    /// Pauses a mentor now, until `until` (epoch ms) or until resumed.
    pub fn pause_mentor(&self, mentor_id: &str, reason: &str, until: Option<i64>) -> Result<i64> {
        self.execute(Command::PauseMentor(PauseMentor {
            mentor_id: mentor_id.to_owned(),
            reason: reason.to_owned(),
            starts_at: None,
            ends_at: until,
            pause_id: None,
        }))
    }

    /// Resumes a paused mentor.
    pub fn resume_mentor(&self, mentor_id: &str) -> Result<i64> {
        self.execute(Command::ResumeMentor(MentorRef {
            mentor_id: mentor_id.to_owned(),
        }))
    }

    /// Deactivates a mentor.
    pub fn deactivate_mentor(&self, mentor_id: &str) -> Result<i64> {
        self.execute(Command::DeactivateMentor(MentorRef {
            mentor_id: mentor_id.to_owned(),
        }))
    }

    /// Rewrites a session's shared notes to `text`. Works offline; when synced, the
    /// server merges this device's edit with everyone else's, so no edit is lost.
    pub fn edit_session_notes(&self, session_id: &str, text: &str) -> Result<i64> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let (session, _) = crate::rows::get_view::<mentorsync_protocol::model::Session>(
            &self.inner.store.conn(),
            Entity::Session,
            session_id,
        )?
        .ok_or_else(|| CoreError::Rejected {
            code: mentorsync_protocol::ErrorCode::NOT_FOUND.into(),
            reason: "session not found on this device".into(),
        })?;
        let stored = session
            .notes_doc
            .as_deref()
            .map(|d| b64.decode(d))
            .transpose()
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        let mut notes = mentorsync_protocol::notes::Notes::load(stored.as_deref())
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        let actor = uuid::Uuid::parse_str(&self.client_id()?)
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        let changes = notes
            .edit(actor.as_bytes(), text)
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        self.execute(Command::EditSessionNotes(EditSessionNotes {
            session_id: session_id.to_owned(),
            changes: b64.encode(changes),
        }))
    }

    /// A session's shared notes as this device shows them.
    pub fn session_notes(&self, session_id: &str) -> Result<Option<String>> {
        Ok(
            crate::rows::get_view::<mentorsync_protocol::model::Session>(
                &self.inner.store.conn(),
                Entity::Session,
                session_id,
            )?
            .map(|(s, _)| s.notes),
        )
    }

    /// A page of the roster.
    pub fn roster(&self, filter: &RosterFilter) -> Result<Vec<RosterItem>> {
        query::roster(&self.inner.store.conn(), filter, self.now())
    }

    /// The work queue of one mentor (or every item held).
    pub fn work_queue(&self, mentor_id: Option<&str>, limit: u32) -> Result<Vec<WorkItem>> {
        query::work_queue(&self.inner.store.conn(), mentor_id, self.now(), limit)
    }

    /// Work-queue counts; "today" ends at `day_end` (epoch ms, the app's local midnight).
    pub fn queue_stats(&self, mentor_id: Option<&str>, day_end: i64) -> Result<QueueStats> {
        query::queue_stats(&self.inner.store.conn(), mentor_id, self.now(), day_end)
    }

    /// Sessions in `[from, to)` (e.g. today in the app's time zone).
    pub fn sessions_between(&self, from: i64, to: i64) -> Result<Vec<Session>> {
        query::sessions_between(&self.inner.store.conn(), from, to)
    }

    /// One mentee on one screen.
    pub fn cockpit(&self, mentee_id: &str) -> Result<Option<Cockpit>> {
        query::cockpit(&self.inner.store.conn(), mentee_id, self.now())
    }

    /// Every dashboard held (of one kind, or all), with its computation time.
    pub fn dashboards(
        &self,
        kind: Option<mentorsync_protocol::dashboard::DashboardKind>,
    ) -> Result<Vec<mentorsync_protocol::dashboard::Dashboard>> {
        crate::dashboards::all(&self.inner.store.conn(), kind)
    }

    /// A mentor's dashboard as last computed by the server (default: the signed-in
    /// mentor's).
    pub fn mentor_dashboard(
        &self,
        mentor_id: Option<&str>,
    ) -> Result<Option<mentorsync_protocol::dashboard::MentorDashboard>> {
        let id = match mentor_id {
            Some(id) => id.to_owned(),
            None => match self.me()? {
                Some(me) => me.id,
                None => return Ok(None),
            },
        };
        crate::dashboards::mentor(&self.inner.store.conn(), &id)
    }

    /// The signed-in coordinator's figures as last computed by the server.
    pub fn coordinator_dashboard(
        &self,
    ) -> Result<Option<mentorsync_protocol::dashboard::CoordinatorFigures>> {
        match self.me()? {
            Some(me) => crate::dashboards::coordinator(&self.inner.store.conn(), &me.id),
            None => Ok(None),
        }
    }

    /// The cohorts' figures a director holds, by name.
    pub fn cohort_dashboards(&self) -> Result<Vec<mentorsync_protocol::dashboard::CohortFigures>> {
        crate::dashboards::cohorts(&self.inner.store.conn())
    }

    /// Commands waiting for the server.
    pub fn pending_commands(&self) -> Result<Vec<PendingCommand>> {
        outbox::list(&self.inner.store.conn())
    }

    /// Commands the server refused, with its reasons.
    pub fn rejected_commands(&self) -> Result<Vec<RejectedCommand>> {
        outbox::rejections(&self.inner.store.conn())
    }

    /// Calls `callback` whenever `topic` changes, until the subscription is dropped.
    pub fn observe(
        &self,
        topic: Topic,
        callback: impl Fn(Topic) + Send + Sync + 'static,
    ) -> Subscription {
        self.inner.listeners.add(topic, Arc::new(callback))
    }

    /// Every confirmed and visible row, `(entity, id, version, data)`, sorted (for
    /// comparing a device with the server).
    pub fn dump(&self, view: bool) -> Result<Vec<(String, String, i64, serde_json::Value)>> {
        let conn = self.inner.store.conn();
        let table = if view { "view_rows" } else { "server_rows" };
        let mut stmt = conn.prepare(&format!(
            "SELECT entity, id, version, data FROM {table} ORDER BY entity, id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (e, id, v, data) = row?;
            out.push((e, id, v, serde_json::from_str(&data)?));
        }
        Ok(out)
    }

    /// Explains why a row is or is not on this device (the debugging tool's `why`).
    pub fn explain(&self, entity: &str, id: &str) -> Result<String> {
        let conn = self.inner.store.conn();
        let one = |table: &str| -> Result<Option<(i64, String)>> {
            Ok(rusqlite::OptionalExtension::optional(conn.query_row(
                &format!("SELECT version, scopes FROM {table} WHERE entity = ?1 AND id = ?2"),
                [entity, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))?)
        };
        let server = one("server_rows")?;
        let view = one("view_rows")?;
        let touched_by: Vec<i64> = outbox::list(&conn)?
            .into_iter()
            .filter(|p| {
                p.command
                    .target()
                    .is_some_and(|(e, i)| e.as_str() == entity && i == id)
            })
            .map(|p| p.mutation_id)
            .collect();
        let held: std::collections::HashSet<String> = conn
            .query_row(
                "SELECT scopes FROM sync_state WHERE scopes IS NOT NULL LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let mut out = String::new();
        match &server {
            Some((v, s)) => out.push_str(&format!(
                "confirmed by the server at version {v}, scopes {s}\n"
            )),
            None => out.push_str("not among the confirmed rows\n"),
        }
        match &view {
            Some((v, _)) => out.push_str(&format!("shown to the app (based on version {v})\n")),
            None => out.push_str("not shown to the app\n"),
        }
        if !touched_by.is_empty() {
            out.push_str(&format!("pending commands on it: {touched_by:?}\n"));
        }
        if held.is_empty() {
            out.push_str("this device has not synced yet\n");
        } else if let Some((_, scopes)) = &server {
            let row: Vec<String> = serde_json::from_str(scopes).unwrap_or_default();
            let through: Vec<&String> = row.iter().filter(|s| held.contains(*s)).collect();
            out.push_str(&format!(
                "held through {through:?} (this device holds {} scopes)\n",
                held.len()
            ));
        } else {
            out.push_str(&format!(
                "a row reaches this device when one of its scopes (mentor:…, mentee:…) is among the {} held here\n",
                held.len()
            ));
        }
        Ok(out)
    }
}
