//! Listeners a UI binds to: each delivers the current value when registered, then the
//! new value after every change of its topic, until its handle is cancelled or dropped.
//! Callbacks run on a background thread (the first on the registering thread).

use crate::records::*;

/// Implemented by the app: the roster page it asked for.
#[uniffi::export(foreign)]
pub trait RosterListener: Send + Sync {
    /// The page, now.
    fn on_roster(&self, items: Vec<RosterItem>);
}

/// Implemented by the app: mentees.
#[uniffi::export(foreign)]
pub trait MenteesListener: Send + Sync {
    /// The page, now.
    fn on_mentees(&self, items: Vec<MenteeItem>);
}

/// Implemented by the app: a work queue.
#[uniffi::export(foreign)]
pub trait WorkQueueListener: Send + Sync {
    /// The queue, most pressing first.
    fn on_work_queue(&self, items: Vec<WorkItem>);
}

/// Implemented by the app: sessions in a time window.
#[uniffi::export(foreign)]
pub trait SessionsListener: Send + Sync {
    /// The sessions, soonest first.
    fn on_sessions(&self, sessions: Vec<Session>);
}

/// Implemented by the app: risk flags.
#[uniffi::export(foreign)]
pub trait FlagsListener: Send + Sync {
    /// The flags, most serious first.
    fn on_flags(&self, flags: Vec<Flag>);
}

/// Implemented by the app: the inbox.
#[uniffi::export(foreign)]
pub trait InboxListener: Send + Sync {
    /// The inbox, now.
    fn on_inbox(&self, inbox: Inbox);
}

/// Implemented by the app: the dashboards held.
#[uniffi::export(foreign)]
pub trait DashboardsListener: Send + Sync {
    /// Every dashboard, now.
    fn on_dashboards(&self, dashboards: Dashboards);
}

/// Implemented by the app: queued and refused commands.
#[uniffi::export(foreign)]
pub trait CommandsListener: Send + Sync {
    /// Both lists, now.
    fn on_commands(&self, commands: Commands);
}

/// Implemented by the app: the sync state.
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    /// The state, now.
    fn on_sync_status(&self, status: SyncStatus);
}

/// Implemented by the app: sync progress, after every page.
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    /// Totals so far.
    fn on_progress(&self, progress: SyncProgress);
}

/// Keeps a listener registered; `cancel()` or dropping it unregisters.
#[derive(uniffi::Object)]
pub struct ObserverHandle {
    pub(crate) subscriptions: std::sync::Mutex<Vec<mentorsync_core::Subscription>>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops the callbacks.
    pub fn cancel(&self) {
        if let Ok(mut s) = self.subscriptions.lock() {
            s.clear();
        }
    }
}
