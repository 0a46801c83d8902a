#![doc = include_str!("../README.md")]

use mentorsync_core::protocol::{self, Command, MentorStatus as CoreStatus, command as cmd};
use mentorsync_core::{CoreError, RosterFilter, RosterSort};
use std::sync::{Arc, Mutex};

uniffi::setup_scaffolding!();

/// What went wrong. Each case says what the app can do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MentorsyncError {
    /// The server could not be reached. Keep working: commands wait in the outbox.
    #[error("offline: {detail}")]
    Offline {
        /// Technical detail for logs.
        detail: String,
    },
    /// Sign in (again): no session, or it ended.
    #[error("sign in required: {detail}")]
    Unauthorized {
        /// Technical detail for logs.
        detail: String,
    },
    /// The command cannot succeed; show `reason` to the person.
    #[error("{reason}")]
    Rejected {
        /// Stable code (`invalid_transition`, `forbidden`, …).
        code: String,
        /// A sentence for the person.
        reason: String,
    },
    /// The server answered something this app does not understand: update the app.
    #[error("protocol: {detail}")]
    Protocol {
        /// Technical detail for logs.
        detail: String,
    },
    /// Signing in as someone else, or signing out, would lose commands the server has not
    /// confirmed: sync them first (as `owner`), or call `discard_pending()` after asking.
    #[error("{count} command(s) of {owner} are not confirmed by the server yet")]
    PendingCommands {
        /// How many commands wait.
        count: u64,
        /// Whose they are (email).
        owner: String,
    },
    /// The device database failed.
    #[error("storage: {detail}")]
    Storage {
        /// Technical detail for logs.
        detail: String,
    },
    /// Anything else (for example a listener of the app threw).
    #[error("{detail}")]
    Other {
        /// Technical detail for logs.
        detail: String,
    },
}

impl From<CoreError> for MentorsyncError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Offline(detail) => MentorsyncError::Offline { detail },
            CoreError::Unauthorized(detail) => MentorsyncError::Unauthorized { detail },
            CoreError::Rejected { code, reason } => MentorsyncError::Rejected { code, reason },
            CoreError::Protocol(detail) => MentorsyncError::Protocol { detail },
            CoreError::PendingCommands { count, owner } => {
                MentorsyncError::PendingCommands { count, owner }
            }
            CoreError::Storage(detail) => MentorsyncError::Storage { detail },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for MentorsyncError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        MentorsyncError::Other { detail: e.reason }
    }
}

type Result<T> = std::result::Result<T, MentorsyncError>;

/// A mentor's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MentorStatus {
    /// Available.
    Active,
    /// On a pause.
    Paused,
    /// Left the programme.
    Inactive,
}

impl From<CoreStatus> for MentorStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Active => MentorStatus::Active,
            CoreStatus::Paused => MentorStatus::Paused,
            CoreStatus::Inactive => MentorStatus::Inactive,
        }
    }
}

impl From<MentorStatus> for CoreStatus {
    fn from(s: MentorStatus) -> Self {
        match s {
            MentorStatus::Active => CoreStatus::Active,
            MentorStatus::Paused => CoreStatus::Paused,
            MentorStatus::Inactive => CoreStatus::Inactive,
        }
    }
}

/// The signed-in person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Me {
    /// User id.
    pub id: String,
    /// Their chapter.
    pub chapter_id: String,
    /// `admin`, `coordinator`, `mentor`, `mentee` or `director`.
    pub role: String,
    /// Display name.
    pub display_name: String,
}

impl From<protocol::model::Me> for Me {
    fn from(m: protocol::model::Me) -> Self {
        Me {
            id: m.id,
            chapter_id: m.chapter_id,
            role: m.role.as_str().to_owned(),
            display_name: m.display_name,
        }
    }
}

/// A mentor's open pause.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Pause {
    /// Pause id.
    pub id: String,
    /// `requested`, `scheduled` or `active`.
    pub status: String,
    /// Why.
    pub reason: String,
    /// Epoch ms.
    pub starts_at: i64,
    /// Epoch ms, if set.
    pub ends_at: Option<i64>,
}

/// One roster line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RosterItem {
    /// Mentor id.
    pub mentor_id: String,
    /// Display name.
    pub display_name: String,
    /// Status as shown (pending commands applied).
    pub status: MentorStatus,
    /// Certification expiry (epoch ms).
    pub certification_expires_at: Option<i64>,
    /// The open pause, if any.
    pub open_pause: Option<Pause>,
    /// Active mentees.
    pub mentee_count: i64,
    /// Unresolved flags on those mentees.
    pub open_flags: i64,
    /// A command about this mentor waits for the server.
    pub pending: bool,
    /// The confirmed version.
    pub version: i64,
}

/// Which mentors to list.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct RosterQuery {
    /// Only this status.
    pub status: Option<MentorStatus>,
    /// Only certifications expiring within this many days (or expired).
    pub certification_expiring_within_days: Option<u32>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    /// Soonest certification expiry first instead of by name.
    pub sort_by_expiry: bool,
    /// Page size (0 means 50).
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// A work-queue item.
#[derive(Debug, Clone, uniffi::Record)]
pub struct WorkItem {
    /// Item id.
    pub id: String,
    /// `mission_review`, `session_followup`, `risk_assessment`, `goal_feedback`.
    pub kind: String,
    /// `low`, `normal`, `high`, `urgent`.
    pub priority: String,
    /// `open` or `in_progress`.
    pub status: String,
    /// Epoch ms.
    pub sla_due_at: i64,
    /// Past its SLA.
    pub overdue: bool,
    /// The mentee it is about.
    pub mentee_id: Option<String>,
}

/// A session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// Mentor.
    pub mentor_id: String,
    /// Mentee.
    pub mentee_id: String,
    /// `scheduled`, `completed`, `cancelled`, `no_show`.
    pub status: String,
    /// Epoch ms.
    pub scheduled_at: i64,
    /// Minutes.
    pub duration_minutes: i64,
    /// Shared notes, merged.
    pub notes: String,
}

/// A command waiting for the server.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingCommand {
    /// Mutation id.
    pub mutation_id: i64,
    /// Command name.
    pub name: String,
    /// `pending`, `sent` or `applied`.
    pub state: String,
}

/// A command the server refused.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedCommand {
    /// Mutation id.
    pub mutation_id: i64,
    /// Command name.
    pub name: String,
    /// Stable code.
    pub code: String,
    /// The server's reason, for the person.
    pub reason: String,
}

/// Freshness of one kind of data.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SetStatus {
    /// `roster`, `queue` or `rest`.
    pub set: String,
    /// When it was last brought up to date (epoch ms).
    pub last_success_at: Option<i64>,
    /// Pages of an unfinished download on the device.
    pub staged_pages: i64,
}

/// The sync state to show.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    /// The last attempt reached the server.
    pub online: bool,
    /// When a sync last completed (epoch ms).
    pub last_sync_at: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Commands waiting.
    pub pending: i64,
    /// Commands refused.
    pub rejected: i64,
    /// Someone is signed in.
    pub signed_in: bool,
    /// Per kind of data.
    pub sets: Vec<SetStatus>,
}

/// Sync totals so far.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncProgress {
    /// Commands pushed.
    pub pushed: u64,
    /// Row changes received.
    pub rows: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Pages received.
    pub pages: u64,
    /// Commands refused (final report only).
    pub rejected: u64,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Topic {
    /// Mentors, pauses, assignments, flags.
    Roster,
    /// Work items.
    WorkQueue,
    /// Sync state.
    SyncStatus,
    /// Dashboard figures.
    Dashboards,
}

/// A dashboard as the server computed it. `figures_json` is the full figures object
/// (see docs/dashboards.md); the typed views below cover the common screens.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DashboardRow {
    /// `mentor:<id>`, `coordinator:<id>` or `cohort:<id>`.
    pub id: String,
    /// `mentor`, `coordinator` or `cohort`.
    pub kind: String,
    /// The mentor, coordinator or cohort.
    pub subject_id: String,
    /// The figures as JSON.
    pub figures_json: String,
    /// When the server computed them (epoch ms).
    pub computed_at: i64,
}

/// A mentor's home-screen figures.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MentorDashboard {
    /// The mentor.
    pub mentor_id: String,
    /// Open work items.
    pub open: i64,
    /// In-progress work items.
    pub in_progress: i64,
    /// Of those, past their SLA.
    pub overdue: i64,
    /// Due within the server's UTC day.
    pub due_today: i64,
    /// Sessions that day.
    pub today_sessions: i64,
    /// Mentees with unresolved flags.
    pub at_risk_mentees: i64,
    /// Active mentees.
    pub capacity_used: i64,
    /// Weekly slots.
    pub capacity_weekly: i64,
    /// "7/10 weekly slots".
    pub capacity_label: String,
    /// When the server computed them (epoch ms).
    pub computed_at: i64,
}

impl From<Topic> for mentorsync_core::Topic {
    fn from(t: Topic) -> Self {
        match t {
            Topic::Roster => mentorsync_core::Topic::Roster,
            Topic::WorkQueue => mentorsync_core::Topic::WorkQueue,
            Topic::SyncStatus => mentorsync_core::Topic::SyncStatus,
            Topic::Dashboards => mentorsync_core::Topic::Dashboards,
        }
    }
}

fn topic_back(t: mentorsync_core::Topic) -> Topic {
    match t {
        mentorsync_core::Topic::Roster => Topic::Roster,
        mentorsync_core::Topic::WorkQueue => Topic::WorkQueue,
        mentorsync_core::Topic::SyncStatus => Topic::SyncStatus,
        mentorsync_core::Topic::Dashboards => Topic::Dashboards,
    }
}

/// Implemented by the app: told when observed state changed (re-read it then). Called on
/// a background thread.
#[uniffi::export(foreign)]
pub trait ChangeListener: Send + Sync {
    /// `topic` changed.
    fn on_change(&self, topic: Topic);
}

/// Implemented by the app: sync progress, after every page. Called on a background thread.
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    /// Totals so far.
    fn on_progress(&self, progress: SyncProgress);
}

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
struct AppTokens(Arc<dyn TokenStore>);

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

/// Keeps a listener registered; `cancel()` or dropping it unregisters.
#[derive(uniffi::Object)]
pub struct ObserverHandle {
    subscription: Mutex<Option<mentorsync_core::Subscription>>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops the callbacks.
    pub fn cancel(&self) {
        if let Ok(mut s) = self.subscription.lock() {
            s.take();
        }
    }
}

/// The mentorsync client of this device. Thread-safe; keep one per database file.
#[derive(uniffi::Object)]
pub struct MentorsyncClient {
    inner: mentorsync_core::Client,
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
        }))
    }

    /// Signs in. Signing in as someone else clears this device's data first; while that
    /// person's commands wait for the server it fails with `PendingCommands` (how many,
    /// whose) instead, so nothing is lost without the person deciding.
    pub async fn login(&self, email: String, password: String) -> Result<Me> {
        Ok(self.inner.login(&email, &password).await?.into())
    }

    /// Signs out here and on the server, and clears this device's rows. Fails with
    /// `PendingCommands` while commands wait: sync them, or `discard_pending()`.
    pub async fn logout(&self) -> Result<()> {
        Ok(self.inner.logout().await?)
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

    /// Rows per download page (1–1000).
    pub fn set_page_size(&self, rows: u32) {
        self.inner.set_page_size(rows);
    }

    /// A page of the roster, from the device.
    pub fn roster(&self, query: RosterQuery) -> Result<Vec<RosterItem>> {
        let filter = RosterFilter {
            status: query.status.map(Into::into),
            certification_expiring_within_days: query.certification_expiring_within_days,
            name: query.name,
            sort: if query.sort_by_expiry {
                RosterSort::CertificationExpiry
            } else {
                RosterSort::Name
            },
            limit: query.limit,
            offset: query.offset,
        };
        Ok(self
            .inner
            .roster(&filter)?
            .into_iter()
            .map(|r| RosterItem {
                mentor_id: r.mentor.id,
                display_name: r.mentor.display_name,
                status: r.mentor.status.into(),
                certification_expires_at: r.mentor.certification_expires_at,
                open_pause: r.open_pause.map(|p| Pause {
                    id: p.id,
                    status: p.status.as_str().to_owned(),
                    reason: p.reason,
                    starts_at: p.starts_at,
                    ends_at: p.ends_at,
                }),
                mentee_count: r.mentee_count,
                open_flags: r.open_flags,
                pending: r.pending,
                version: r.mentor.version,
            })
            .collect())
    }

    /// The work queue (of one mentor, or everything held): overdue first.
    pub fn work_queue(&self, mentor_id: Option<String>, limit: u32) -> Result<Vec<WorkItem>> {
        Ok(self
            .inner
            .work_queue(mentor_id.as_deref(), limit)?
            .into_iter()
            .map(|w| WorkItem {
                id: w.id,
                kind: w.kind.as_str().to_owned(),
                priority: w.priority.as_str().to_owned(),
                status: w.status.as_str().to_owned(),
                sla_due_at: w.sla_due_at,
                overdue: w.overdue,
                mentee_id: w.mentee_id,
            })
            .collect())
    }

    /// Dashboards held, of one kind (`mentor`, `coordinator`, `cohort`) or all.
    pub fn dashboards(&self, kind: Option<String>) -> Result<Vec<DashboardRow>> {
        let kind = kind
            .map(|k| {
                k.parse::<protocol::dashboard::DashboardKind>()
                    .map_err(|e| MentorsyncError::Rejected {
                        code: "bad_request".into(),
                        reason: e.to_string(),
                    })
            })
            .transpose()?;
        Ok(self
            .inner
            .dashboards(kind)?
            .into_iter()
            .map(|d| DashboardRow {
                id: d.id,
                kind: d.kind.as_str().to_owned(),
                subject_id: d.subject_id,
                figures_json: d.figures.to_string(),
                computed_at: d.computed_at,
            })
            .collect())
    }

    /// A mentor's dashboard (default: the signed-in mentor's), if held.
    pub fn mentor_dashboard(&self, mentor_id: Option<String>) -> Result<Option<MentorDashboard>> {
        Ok(self
            .inner
            .mentor_dashboard(mentor_id.as_deref())?
            .map(|d| MentorDashboard {
                mentor_id: d.mentor_id,
                open: d.queue.open,
                in_progress: d.queue.in_progress,
                overdue: d.queue.overdue,
                due_today: d.queue.due_today,
                today_sessions: d.today_sessions.len() as i64,
                at_risk_mentees: d.at_risk.len() as i64,
                capacity_used: d.capacity.used,
                capacity_weekly: d.capacity.weekly,
                capacity_label: d.capacity.label,
                computed_at: d.computed_at,
            }))
    }

    /// Sessions in `[from, to)` (epoch ms).
    pub fn sessions_between(&self, from: i64, to: i64) -> Result<Vec<Session>> {
        Ok(self
            .inner
            .sessions_between(from, to)?
            .into_iter()
            .map(|s| Session {
                id: s.id,
                mentor_id: s.mentor_id,
                mentee_id: s.mentee_id,
                status: s.status.as_str().to_owned(),
                scheduled_at: s.scheduled_at,
                duration_minutes: s.duration_minutes,
                notes: s.notes,
            })
            .collect())
    }

    /// Pauses a mentor now (until `until`, epoch ms, or until resumed). Works offline;
    /// returns the command's mutation id.
    pub fn pause_mentor(
        &self,
        mentor_id: String,
        reason: String,
        until: Option<i64>,
    ) -> Result<i64> {
        Ok(self.inner.pause_mentor(&mentor_id, &reason, until)?)
    }

    /// Resumes a paused mentor. Works offline.
    pub fn resume_mentor(&self, mentor_id: String) -> Result<i64> {
        Ok(self.inner.resume_mentor(&mentor_id)?)
    }

    /// Deactivates a mentor. Works offline.
    pub fn deactivate_mentor(&self, mentor_id: String) -> Result<i64> {
        Ok(self.inner.deactivate_mentor(&mentor_id)?)
    }

    /// Starts work on a queue item (its mentor). Works offline.
    pub fn claim_work_item(&self, item_id: String) -> Result<i64> {
        Ok(self
            .inner
            .execute(Command::ClaimWorkItem(cmd::WorkItemRef { item_id }))?)
    }

    /// Finishes a queue item (its mentor). Works offline.
    pub fn complete_work_item(&self, item_id: String) -> Result<i64> {
        Ok(self
            .inner
            .execute(Command::CompleteWorkItem(cmd::WorkItemRef { item_id }))?)
    }

    /// Rewrites a session's shared notes; everyone's offline edits are merged. Works offline.
    pub fn edit_session_notes(&self, session_id: String, text: String) -> Result<i64> {
        Ok(self.inner.edit_session_notes(&session_id, &text)?)
    }

    /// A session's shared notes.
    pub fn session_notes(&self, session_id: String) -> Result<Option<String>> {
        Ok(self.inner.session_notes(&session_id)?)
    }

    /// Commands waiting for the server.
    pub fn pending_commands(&self) -> Result<Vec<PendingCommand>> {
        Ok(self
            .inner
            .pending_commands()?
            .into_iter()
            .map(|p| PendingCommand {
                mutation_id: p.mutation_id,
                name: p.name,
                state: p.state,
            })
            .collect())
    }

    /// Commands the server refused, with its reasons.
    pub fn rejected_commands(&self) -> Result<Vec<RejectedCommand>> {
        Ok(self
            .inner
            .rejected_commands()?
            .into_iter()
            .map(|r| RejectedCommand {
                mutation_id: r.mutation_id,
                name: r.name,
                code: r.code,
                reason: r.reason,
            })
            .collect())
    }

    /// The sync state.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let s = self.inner.sync_status()?;
        Ok(SyncStatus {
            online: s.online,
            last_sync_at: s.last_sync_at,
            last_error: s.last_error,
            pending: s.pending,
            rejected: s.rejected,
            signed_in: s.signed_in,
            sets: s
                .sets
                .into_iter()
                .map(|x| SetStatus {
                    set: x.set,
                    last_success_at: x.last_success_at,
                    staged_pages: x.staged_pages,
                })
                .collect(),
        })
    }

    /// Calls `listener` whenever `topic` changes, until the handle is cancelled or dropped.
    pub fn observe(&self, topic: Topic, listener: Arc<dyn ChangeListener>) -> Arc<ObserverHandle> {
        let sub = self
            .inner
            .observe(topic.into(), move |t| listener.on_change(topic_back(t)));
        Arc::new(ObserverHandle {
            subscription: Mutex::new(Some(sub)),
        })
    }
}
