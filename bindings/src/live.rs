//! The background sync loop an app starts when it comes to the foreground and stops when
//! it leaves: it follows the server's pokes, pushes queued commands at once, and says
//! where it stands through a [`LiveListener`].

use crate::error::{MentorsyncError, Result};
use crate::types::time;
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

/// Where the background sync loop stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LiveState {
    /// Pushing queued commands and bringing the data up to date.
    Syncing,
    /// Up to date, with the server's event stream open: changes arrive as they happen
    /// (no polling).
    Live,
    /// Up to date, without an event stream: checks again at `next_check_at`.
    Polling {
        /// When.
        next_check_at: SystemTime,
    },
    /// The last attempt failed (offline, server restarting): tries again at `retry_at`,
    /// or at once when the app calls `network_available()` or queues a command.
    Retrying {
        /// Why it failed.
        error: String,
        /// When it tries again.
        retry_at: SystemTime,
    },
    /// Not running: stopped by the app, or the session ended (`error` says why; sign in
    /// again).
    Stopped {
        /// Why, when the app did not ask.
        error: Option<String>,
    },
}

impl From<mentorsync_core::LiveState> for LiveState {
    fn from(s: mentorsync_core::LiveState) -> Self {
        use mentorsync_core::LiveState as S;
        match s {
            S::Syncing => LiveState::Syncing,
            S::Live => LiveState::Live,
            S::Polling { next_check_at } => LiveState::Polling {
                next_check_at: time(next_check_at),
            },
            S::Retrying { error, retry_at } => LiveState::Retrying {
                error,
                retry_at: time(retry_at),
            },
            S::Stopped { error } => LiveState::Stopped { error },
        }
    }
}

/// Implemented by the app: the loop's state after every change. Called on the loop's
/// thread.
#[uniffi::export(foreign)]
pub trait LiveListener: Send + Sync {
    /// The new state.
    fn on_live_state(&self, state: LiveState);
}

/// One small runtime for every client's loop: it outlives the calls that start it (the
/// runtime behind the async methods is the binding generator's).
static RUNTIME: LazyLock<std::io::Result<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("mentorsync-live")
        .enable_all()
        .build()
});

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// A client's loop, if running.
#[derive(Default)]
pub(crate) struct Live(Mutex<Option<Running>>);

impl Live {
    /// Starts the loop unless it runs; returns whether it started.
    pub(crate) fn start(
        &self,
        client: mentorsync_core::Client,
        listener: Option<std::sync::Arc<dyn LiveListener>>,
    ) -> Result<bool> {
        let runtime = RUNTIME.as_ref().map_err(|e| MentorsyncError::Other {
            detail: format!("no thread for the sync loop: {e}"),
        })?;
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if running.as_ref().is_some_and(|r| !r.task.is_finished()) {
            return Ok(false);
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            let tell = |s: mentorsync_core::LiveState| {
                if let Some(l) = &listener {
                    l.on_live_state(s.into());
                }
            };
            // The loop reports how it ended through the listener (`Stopped`).
            let _ = client
                .run_with(
                    async {
                        let _ = stopped.await;
                    },
                    tell,
                )
                .await;
        });
        *running = Some(Running { stop, task });
        Ok(true)
    }

    /// Stops the loop; returns whether it was running.
    pub(crate) fn stop(&self) -> bool {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(r) => {
                let was = !r.task.is_finished();
                let _ = r.stop.send(());
                was
            }
            None => false,
        }
    }

    /// Whether the loop runs.
    pub(crate) fn running(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|r| !r.task.is_finished())
    }
}
