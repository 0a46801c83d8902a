//! What every request handler shares.

use crate::clock::Clock;
use crate::db::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Tunables with production defaults; tests shorten some of them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long an access token lives.
    pub access_ttl_ms: i64,
    /// How long a refresh token lives: long enough for a phone left offline for weeks.
    pub refresh_ttl_ms: i64,
    /// How long after a refresh the spent token may be presented again, as a phone does
    /// when the answer was lost on the way: it gets a new pair instead of a sign-out.
    pub refresh_grace_ms: i64,
    /// Failed logins per email within the window before login is refused.
    pub login_max_failures: i64,
    /// The login throttling window.
    pub login_window_ms: i64,
    /// Largest request body in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Page size when none is asked for.
    pub page_size_default: u32,
    /// Largest page size a caller may ask for.
    pub page_size_max: u32,
    /// Open event streams one user may hold on one server instance.
    pub event_streams_per_user: usize,
    /// How often an idle event stream sends a comment, so that proxies and phones' network
    /// stacks do not close it as dead.
    pub stream_heartbeat: Duration,
    /// How long a connection may take to send a request's headers; then it is closed (a
    /// slow sender cannot hold a connection open for free).
    pub header_read_timeout: Duration,
    /// Open connections one instance serves; past it new ones are closed at once.
    pub max_connections: usize,
    /// Open connections from one peer address. Loopback peers are exempt unless
    /// `limit_loopback` is set: a TLS-terminating proxy on the same machine carries
    /// every client through one loopback address.
    pub max_connections_per_address: usize,
    /// Apply `max_connections_per_address` to loopback peers too (tests).
    pub limit_loopback: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_ttl_ms: 15 * 60 * 1000,
            refresh_ttl_ms: 60 * 24 * 3600 * 1000,
            refresh_grace_ms: 60 * 1000,
            login_max_failures: 5,
            login_window_ms: 15 * 60 * 1000,
            body_limit_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(30),
            page_size_default: 50,
            page_size_max: 200,
            event_streams_per_user: 5,
            stream_heartbeat: Duration::from_secs(15),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            max_connections_per_address: 1_000,
            limit_loopback: false,
        }
    }
}

/// Shared by every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
    /// Tunables.
    pub settings: Arc<Settings>,
    /// Cancelled on shutdown; long-lived responses (event streams) end when it fires.
    pub shutdown: CancellationToken,
    /// Open event streams per user on this instance.
    pub streams: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    /// Password checks running at once. Each Argon2 check takes 19 MiB and a core for tens
    /// of milliseconds; unbounded, 50 parallel sign-ins took the server from 40 MB to
    /// 878 MB. One per core; the rest wait their turn (briefly) or get 503.
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Roster imports running on this instance: one at a time, since an import holds the
    /// write transaction for as long as it runs.
    pub imports: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State over a database with the given clock and settings. Must be called inside a
    /// Tokio runtime: on PostgreSQL it starts the change listener.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let shutdown = CancellationToken::new();
        db.listen(shutdown.clone());
        AppState {
            db,
            clock,
            settings: Arc::new(settings),
            shutdown,
            streams: Default::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            imports: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    /// Now, by the server's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
