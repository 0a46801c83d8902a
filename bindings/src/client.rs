//! The app's one object: sign in, issue actions offline, sync (once or live), read every
//! screen from the device, observe what changes.

use crate::action::{Action, Prepared};
use crate::error::Result;
use crate::live::{Live, LiveListener};
use crate::observe::*;
use crate::records::*;
use crate::tokens::{AppTokens, TokenStore};
use crate::types::{FlagStatus, PushPlatform, ms};
use mentorsync_core::Topic as Core;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

crate::types::mirror!(
    /// What changed, for [`ChangeListener`]s (the typed listeners say it with the value).
    Topic = mentorsync_core::Topic {
        /// Mentors, pauses, assignments.
        Roster,
        /// Mentees, cohorts, accounts.
        Mentees,
        /// Work items and submissions.
        WorkQueue,
        /// Sessions.
        Sessions,
        /// Risk flags.
        Flags,
        /// Dashboard figures.
        Dashboards,
        /// The person's inbox.
        Inbox,
        /// Queued and refused commands.
        Commands,
        /// Sync state.
        SyncStatus,
    }
);

/// Implemented by the app: told that `topic` changed (re-read it then), and once when
/// registered.
#[uniffi::export(foreign)]
pub trait ChangeListener: Send + Sync {
    /// `topic` changed.
    fn on_change(&self, topic: Topic);
}

/// The mentorsync client of this device. Thread-safe; keep one per database file.
#[derive(uniffi::Object)]
pub struct MentorsyncClient {
    inner: mentorsync_core::Client,
    live: Live,
}

fn all<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

impl MentorsyncClient {
    /// Delivers `read`'s value now, then after every change of `topics`. The listeners
    /// hold the client weakly: a handle the app forgets does not keep the client open.
    fn watch<T: 'static>(
        self: Arc<Self>,
        topics: &[Core],
        read: impl Fn(&MentorsyncClient) -> Result<T> + Send + Sync + 'static,
        deliver: impl Fn(T) + Send + Sync + 'static,
    ) -> Arc<ObserverHandle> {
        let this = Arc::downgrade(&self);
        // A value that cannot be read (the device database failed) is not delivered;
        // the next change tries again.
        let emit = Arc::new(move || {
            if let Some(Ok(v)) = this.upgrade().map(|c| read(&c)) {
                deliver(v)
            }
        });
        emit();
        let subscriptions = topics
            .iter()
            .map(|t| {
                let emit = emit.clone();
                self.inner.observe(*t, move |_| emit())
            })
            .collect();
        Arc::new(ObserverHandle {
            subscriptions: Mutex::new(subscriptions),
        })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl MentorsyncClient {
    /// Opens (creating if needed) the device database at `db_path`, for the server at
    /// `server_url` (e.g. `https://sync.example.org`), keeping the session's tokens in
    /// `tokens` (the platform's secret store). A plain `http://` server off this machine is
    /// refused unless `allow_insecure_http` (development only, e.g. an emulator reaching
    /// its host).
    #[uniffi::constructor]
    pub fn new(
        db_path: String,
        server_url: String,
        tokens: Arc<dyn TokenStore>,
        allow_insecure_http: bool,
    ) -> Result<Arc<Self>> {
        let options = mentorsync_core::ClientOptions {
            tokens: Some(Arc::new(AppTokens(tokens))),
            allow_insecure_http,
        };
        Ok(Arc::new(MentorsyncClient {
            inner: mentorsync_core::Client::open_with(
                std::path::Path::new(&db_path),
                &server_url,
                options,
            )?,
            live: Live::default(),
        }))
    }

    // --- session -----------------------------------------------------------------------

    /// Signs in. Signing in as someone else clears this device's data first; while that
    /// person's commands wait for the server it fails with `PendingCommands` (how many,
    /// whose) instead, so nothing is lost without the person deciding.
    pub async fn login(&self, email: String, password: String) -> Result<Me> {
        Ok(self.inner.login(&email, &password).await?.into())
    }

    /// Signs out here and on the server, and clears this device's rows. Fails with
    /// `PendingCommands` while commands wait: sync them, or `discard_pending()`.
    pub async fn logout(&self) -> Result<()> {
        self.live.stop();
        Ok(self.inner.logout().await?)
    }

    /// Registers the push token the platform gave the app (FCM on Android, APNs on iOS),
    /// so notifications reach this phone in the background. Online; call it after signing
    /// in and whenever the platform rotates the token.
    pub async fn register_push_token(&self, platform: PushPlatform, token: String) -> Result<()> {
        Ok(self.inner.register_push(platform.into(), &token).await?)
    }

    /// Forgets this phone's push token on the server (notifications turned off here).
    pub async fn unregister_push_token(&self) -> Result<()> {
        Ok(self.inner.unregister_push().await?)
    }

    /// Drops every queued command and returns how many the server had not confirmed.
    /// Ask the person first.
    pub fn discard_pending(&self) -> Result<u64> {
        Ok(self.inner.discard_pending()?)
    }

    /// The signed-in person, if any.
    pub fn me(&self) -> Result<Option<Me>> {
        Ok(self.inner.me()?.map(Me::from))
    }

    // --- acting ------------------------------------------------------------------------

    /// Does `action`: checked at once against the device's rows with the server's own
    /// rules (a refusal is `Rejected` with its code and reason), shown at once, queued
    /// durably, pushed by the next sync (at once while the live loop runs). Works
    /// offline.
    pub fn execute(&self, action: Action) -> Result<Issued> {
        match action.prepare() {
            Prepared::Command(command) => {
                let q = self.inner.issue(command)?;
                Ok(Issued {
                    mutation_id: q.mutation_id,
                    created_id: q.created_id,
                })
            }
            Prepared::Notes { session_id, text } => Ok(Issued {
                mutation_id: self.inner.edit_session_notes(&session_id, &text)?,
                created_id: None,
            }),
        }
    }

    // --- syncing -----------------------------------------------------------------------

    /// Pushes queued commands, then brings roster, work queue and the rest up to date
    /// (each shown as soon as it is complete). Reports progress after every page.
    pub async fn sync(&self, progress: Option<Arc<dyn ProgressListener>>) -> Result<SyncProgress> {
        let report = self
            .inner
            .sync(|p| {
                if let Some(l) = &progress {
                    l.on_progress(SyncProgress {
                        pushed: p.pushed,
                        rows: p.rows,
                        bytes: p.bytes,
                        pages: p.pages,
                        rejected: 0,
                    });
                }
            })
            .await?;
        let p = report.progress;
        Ok(SyncProgress {
            pushed: p.pushed,
            rows: p.rows,
            bytes: p.bytes,
            pages: p.pages,
            rejected: report.rejected,
        })
    }

    /// Starts the background sync loop (when the app comes to the foreground): it syncs,
    /// then follows the server's event stream, syncing on every poke and pushing every
    /// queued command at once; offline it retries with backoff. `listener` hears its
    /// state. Returns false when it was already running.
    pub fn start_live(&self, listener: Option<Arc<dyn LiveListener>>) -> Result<bool> {
        self.live.start(self.inner.clone(), listener)
    }

    /// Stops the loop (when the app goes to the background); safe to start again.
    /// Returns whether it was running.
    pub fn stop_live(&self) -> bool {
        self.live.stop()
    }

    /// Whether the loop runs.
    pub fn is_live(&self) -> bool {
        self.live.running()
    }

    /// The platform says the network is back: the loop syncs now instead of waiting out
    /// its backoff.
    pub fn network_available(&self) {
        self.inner.wake();
    }

    /// Rows per download page (1–1000).
    pub fn set_page_size(&self, rows: u32) {
        self.inner.set_page_size(rows);
    }

    // --- reading (from the device, in milliseconds) ------------------------------------

    /// A page of the roster.
    pub fn roster(&self, query: RosterQuery) -> Result<Vec<RosterItem>> {
        Ok(all(self.inner.roster(&query.into())?))
    }

    /// A page of mentees, by name.
    pub fn mentees(&self, query: MenteeQuery) -> Result<Vec<MenteeItem>> {
        Ok(all(self.inner.mentees(&query.into())?))
    }

    /// Everything about one mentee, if held.
    pub fn cockpit(&self, mentee_id: String) -> Result<Option<Cockpit>> {
        Ok(self.inner.cockpit(&mentee_id)?.map(Into::into))
    }

    /// The work queue (of one mentor, or everything held): overdue first, then priority,
    /// then due time. `limit` 0 means 50.
    pub fn work_queue(&self, mentor_id: Option<String>, limit: u32) -> Result<Vec<WorkItem>> {
        Ok(all(self.inner.work_queue(mentor_id.as_deref(), limit)?))
    }

    /// Sessions in `[from, to)`, soonest first.
    pub fn sessions_between(&self, from: SystemTime, to: SystemTime) -> Result<Vec<Session>> {
        Ok(all(self.inner.sessions_between(ms(from), ms(to))?))
    }

    /// Flags in these statuses (all when empty), of one mentee or all held: most serious
    /// first, then newest. `limit` 0 means 50.
    pub fn flags(
        &self,
        statuses: Vec<FlagStatus>,
        mentee_id: Option<String>,
        limit: u32,
    ) -> Result<Vec<Flag>> {
        let statuses: Vec<_> = statuses.into_iter().map(Into::into).collect();
        Ok(all(self.inner.flags(
            &statuses,
            mentee_id.as_deref(),
            limit,
        )?))
    }

    /// Pause requests waiting for a coordinator's decision, oldest first.
    pub fn pause_requests(&self) -> Result<Vec<Pause>> {
        Ok(all(self.inner.pause_requests()?))
    }

    /// Submissions waiting for review (of one mentor, or all held), oldest first.
    pub fn submissions_to_review(&self, mentor_id: Option<String>) -> Result<Vec<Submission>> {
        Ok(all(self
            .inner
            .submissions_to_review(mentor_id.as_deref())?))
    }

    /// The cohorts held.
    pub fn cohorts(&self) -> Result<Vec<Cohort>> {
        Ok(all(self.inner.cohorts()?))
    }

    /// The person's inbox, newest first, without dismissed items (only unread ones when
    /// `unread_only`), with the unread count. `Action::ReadInboxItem` and
    /// `Action::DismissInboxItem` work offline.
    pub fn inbox(&self, unread_only: bool, limit: u32) -> Result<Inbox> {
        Ok(Inbox {
            items: all(self.inner.inbox(unread_only, limit)?),
            unread: self.inner.unread_count()?,
        })
    }

    /// A mentor's dashboard (default: the signed-in mentor's), if held.
    pub fn mentor_dashboard(&self, mentor_id: Option<String>) -> Result<Option<MentorDashboard>> {
        Ok(self
            .inner
            .mentor_dashboard(mentor_id.as_deref())?
            .map(Into::into))
    }

    /// The signed-in coordinator's (or admin's) figures, if held.
    pub fn coordinator_dashboard(&self) -> Result<Option<CoordinatorDashboard>> {
        Ok(self.inner.coordinator_dashboard()?.map(Into::into))
    }

    /// The cohorts' figures a director holds, by name.
    pub fn cohort_dashboards(&self) -> Result<Vec<CohortDashboard>> {
        Ok(all(self.inner.cohort_dashboards()?))
    }

    /// Every dashboard of the signed-in person.
    pub fn dashboards(&self) -> Result<Dashboards> {
        let mine = match self.inner.me()? {
            Some(me) if me.role == mentorsync_core::protocol::Role::Mentor => {
                self.mentor_dashboard(None)?
            }
            _ => None,
        };
        Ok(Dashboards {
            mine,
            coordinator: self.coordinator_dashboard()?,
            cohorts: self.cohort_dashboards()?,
        })
    }

    /// Commands waiting, and those refused.
    pub fn commands(&self) -> Result<Commands> {
        Ok(Commands {
            pending: all(self.inner.pending_commands()?),
            rejected: all(self.inner.rejected_commands()?),
        })
    }

    /// Forgets a refusal once the person has seen it.
    pub fn dismiss_rejection(&self, mutation_id: i64) -> Result<bool> {
        Ok(self.inner.dismiss_rejection(mutation_id)?)
    }

    /// The sync state.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.inner.sync_status()?.into())
    }

    // --- observing ---------------------------------------------------------------------

    /// The roster page `query` asks for, now and after every change.
    pub fn observe_roster(
        self: Arc<Self>,
        query: RosterQuery,
        listener: Arc<dyn RosterListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Roster, Core::Flags],
            move |c| c.roster(query.clone()),
            move |v| listener.on_roster(v),
        )
    }

    /// The mentee page `query` asks for, now and after every change.
    pub fn observe_mentees(
        self: Arc<Self>,
        query: MenteeQuery,
        listener: Arc<dyn MenteesListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Mentees, Core::Roster, Core::Flags],
            move |c| c.mentees(query.clone()),
            move |v| listener.on_mentees(v),
        )
    }

    /// A work queue, now and after every change.
    pub fn observe_work_queue(
        self: Arc<Self>,
        mentor_id: Option<String>,
        limit: u32,
        listener: Arc<dyn WorkQueueListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::WorkQueue],
            move |c| c.work_queue(mentor_id.clone(), limit),
            move |v| listener.on_work_queue(v),
        )
    }

    /// Sessions in `[from, to)`, now and after every change.
    pub fn observe_sessions(
        self: Arc<Self>,
        from: SystemTime,
        to: SystemTime,
        listener: Arc<dyn SessionsListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Sessions],
            move |c| c.sessions_between(from, to),
            move |v| listener.on_sessions(v),
        )
    }

    /// Flags in these statuses (all when empty), now and after every change.
    pub fn observe_flags(
        self: Arc<Self>,
        statuses: Vec<FlagStatus>,
        listener: Arc<dyn FlagsListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Flags],
            move |c| c.flags(statuses.clone(), None, 0),
            move |v| listener.on_flags(v),
        )
    }

    /// The inbox (as [`MentorsyncClient::inbox`]), now and after every change.
    pub fn observe_inbox(
        self: Arc<Self>,
        unread_only: bool,
        limit: u32,
        listener: Arc<dyn InboxListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Inbox],
            move |c| c.inbox(unread_only, limit),
            move |v| listener.on_inbox(v),
        )
    }

    /// The dashboards, now and after every change.
    pub fn observe_dashboards(
        self: Arc<Self>,
        listener: Arc<dyn DashboardsListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Dashboards],
            |c| c.dashboards(),
            move |v| listener.on_dashboards(v),
        )
    }

    /// Queued and refused commands, now and after every change.
    pub fn observe_commands(
        self: Arc<Self>,
        listener: Arc<dyn CommandsListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::Commands],
            |c| c.commands(),
            move |v| listener.on_commands(v),
        )
    }

    /// The sync state, now and after every change.
    pub fn observe_sync_status(
        self: Arc<Self>,
        listener: Arc<dyn SyncStatusListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[Core::SyncStatus],
            |c| c.sync_status(),
            move |v| listener.on_sync_status(v),
        )
    }

    /// Told when `topic` changes (and once now), for screens the typed listeners do not
    /// cover (a cockpit, pause requests, submissions to review).
    pub fn observe(
        self: Arc<Self>,
        topic: Topic,
        listener: Arc<dyn ChangeListener>,
    ) -> Arc<ObserverHandle> {
        self.watch(
            &[topic.into()],
            |_| Ok(()),
            move |()| listener.on_change(topic),
        )
    }
}

impl Drop for MentorsyncClient {
    fn drop(&mut self) {
        self.live.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::SessionTokens;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct NoTokens;
    impl TokenStore for NoTokens {
        fn load(&self) -> Result<Option<SessionTokens>> {
            Ok(None)
        }
        fn save(&self, _: Option<SessionTokens>) -> Result<()> {
            Ok(())
        }
    }

    struct Count(AtomicUsize);
    impl RosterListener for Count {
        fn on_roster(&self, _: Vec<RosterItem>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A handle the app keeps (or forgets) does not keep the client, its database and its
    /// loop alive; the value arrives on registration.
    #[test]
    fn listeners_hold_the_client_weakly() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("phone.db").display().to_string();
        let client =
            MentorsyncClient::new(db, "http://127.0.0.1:9".into(), Arc::new(NoTokens), false)
                .unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let handle = client
            .clone()
            .observe_roster(RosterQuery::default(), count.clone());
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the current value at once"
        );
        let weak = Arc::downgrade(&client);
        drop(client);
        assert!(weak.upgrade().is_none(), "the handle kept the client");
        handle.cancel();
    }
}
