//! Harness for end-to-end tests: a real server in-process (SQLite file or a fresh
//! PostgreSQL schema), a two-chapter fixture whose people sign in with a password, and a
//! TCP proxy between clients and server that a test can take down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod process;
pub mod proxy;

use mentorsync_server::clock::ManualClock;
use mentorsync_server::db::{ConnectOptions, Db};
use mentorsync_server::seed::{Seeder, SmallChapter};
use mentorsync_server::{AppState, Settings};
use std::sync::Arc;
use tempfile::TempDir;

pub use mentorsync_server::db::Backend;
use mentorsync_server::testkit::{Owner, TestDb};
pub use mentorsync_server::testkit::{PASSWORD, PG_ENV, T0};

/// Runs an async test body once per backend: `both_backends!(name);` makes
/// `name::sqlite` and `name::postgres` (skipped, saying so, without `MENTORSYNC_TEST_PG_URL`).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                // `&mut`: a test may restart the server (it coerces to `&Harness`).
                let mut h = $crate::Harness::start($crate::Backend::Sqlite).await.unwrap();
                super::$name(&mut h).await;
                h.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(mut h) = $crate::Harness::start($crate::Backend::Postgres).await else {
                    eprintln!("SKIPPED {}::postgres: set {} to run it", stringify!($name), $crate::PG_ENV);
                    return;
                };
                super::$name(&mut h).await;
                h.stop().await;
            }
        }
    )+};
}

/// A running server with its fixture.
pub struct Harness {
    /// Which database.
    pub backend: Backend,
    /// The server's address (direct).
    pub server_url: String,
    /// A proxy in front of the server that tests can take down.
    pub proxy: proxy::Proxy,
    /// The server's database (to compare clients with it).
    pub db: Db,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// Shared server state.
    pub state: AppState,
    /// Chapter `a` (emails `<role>@a.test`).
    pub a: SmallChapter,
    /// Chapter `b`.
    pub b: SmallChapter,
    /// Where client databases go.
    pub dir: TempDir,
    schema: Option<(String, String)>,
    opts: ConnectOptions,
    server: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts everything; `None` only for PostgreSQL when it is not configured.
    pub async fn start(backend: Backend) -> Option<Harness> {
        mentorsync_server::testkit::init_tracing();
        // The configured user owns the schema: backups and restores run as an operator's do.
        let TestDb {
            db,
            opts,
            schema,
            dir,
        } = TestDb::create(backend, Owner::Configured, 16).await?;
        let clock = Arc::new(ManualClock::new(T0));
        let state = AppState::new(db.clone(), clock.clone(), Settings::default());
        let (a, b) = seed_fixture(&db, T0).await;
        let (addr, server) = serve(state.clone()).await;
        let proxy = proxy::Proxy::start(addr).await;
        Some(Harness {
            backend,
            server_url: format!("http://{addr}"),
            proxy,
            db,
            clock,
            state,
            a,
            b,
            dir,
            schema,
            opts,
            server,
        })
    }

    /// A backup of the server's database, made as an operator makes one: `VACUUM INTO`
    /// while it serves on SQLite (`mentorsync-server backup`), `pg_dump` of its schema on
    /// PostgreSQL.
    pub async fn backup(&self) -> std::path::PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
        match &self.schema {
            None => mentorsync_server::epoch::backup_sqlite(&self.db, &path)
                .await
                .unwrap()
                .unwrap(),
            Some((url, schema)) => run_tool(
                std::process::Command::new("pg_dump")
                    .args(["--dbname", url, "--schema", schema, "--no-owner", "--file"])
                    .arg(&path),
            ),
        }
        path
    }

    /// Restores `backup` as docs/operations.md says: the server stopped, its database
    /// replaced by the backup, `mentorsync-server restored` (a new epoch, unless
    /// `renew_epoch` is false: an operator who skipped that step), the server started
    /// again (on a new port, behind the same proxy).
    pub async fn restore(&mut self, backup: &std::path::Path, renew_epoch: bool) {
        self.state.shutdown.cancel();
        let _ = (&mut self.server).await;
        self.db.close().await;
        match &self.schema {
            None => {
                let file = self.dir.path().join("server.db");
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                std::fs::copy(backup, &file).unwrap();
            }
            Some((url, schema)) => {
                Db::drop_pg_schema(url, schema).await.unwrap();
                run_tool(
                    std::process::Command::new("psql")
                        .args(["--dbname", url, "-q", "-v", "ON_ERROR_STOP=1", "--file"])
                        .arg(backup),
                );
            }
        }
        let db = Db::connect(&self.opts).await.expect("connect");
        db.migrate().await.expect("migrate");
        if renew_epoch {
            mentorsync_server::epoch::renew(&db).await.unwrap();
        }
        let state = AppState::new(db.clone(), self.clock.clone(), Settings::default());
        let (addr, server) = serve(state.clone()).await;
        self.proxy.set_upstream(addr);
        self.server_url = format!("http://{addr}");
        self.db = db;
        self.state = state;
        self.server = server;
    }

    /// A client for `email`, signed in, with its own database file, talking through the proxy.
    pub async fn client(&self, email: &str) -> mentorsync_core::Client {
        let path = self
            .dir
            .path()
            .join(format!("{}-{}.db", email, uuid::Uuid::new_v4().simple()));
        self.client_at(&path, email).await
    }

    /// A client for `email`, signed in, with its database at `path`.
    pub async fn client_at(&self, path: &std::path::Path, email: &str) -> mentorsync_core::Client {
        let c = self.open_client(path);
        c.login(email, PASSWORD).await.unwrap();
        c
    }

    /// Opens (or reopens, as after a crash) the client database at `path`.
    pub fn open_client(&self, path: &std::path::Path) -> mentorsync_core::Client {
        let clock = self.clock.clone();
        mentorsync_core::Client::open_with_clock(
            path,
            &self.proxy.url(),
            Box::new(move || mentorsync_server::clock::Clock::now_ms(&*clock)),
        )
        .unwrap()
    }

    /// Asserts the client holds exactly the server's rows (see [`assert_mirrors`]).
    pub async fn assert_mirrors_server(
        &self,
        client: &mentorsync_core::Client,
        chapter: &str,
        email: &str,
    ) {
        let now = mentorsync_server::clock::Clock::now_ms(&*self.clock);
        let fresh = self.client(email).await;
        assert_mirrors(&self.db, now, client, chapter, &fresh).await;
    }

    /// Stops the server and drops a PostgreSQL schema.
    pub async fn stop(self) {
        self.state.shutdown.cancel();
        let _ = self.server.await;
        self.db.close().await;
        if let Some((url, schema)) = self.schema {
            let _ = Db::drop_pg_schema(&url, &schema).await;
        }
    }

    /// The server's row as wire JSON.
    pub async fn server_row(
        &self,
        chapter: &str,
        entity: &str,
        id: &str,
    ) -> Option<serde_json::Value> {
        let now = mentorsync_server::clock::Clock::now_ms(&*self.clock);
        server_row(&self.db, now, chapter, entity, id).await
    }
}

/// Serves `state` on a free loopback port.
pub async fn serve(state: AppState) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        mentorsync_server::serve::run(listener, state)
            .await
            .unwrap();
    });
    (addr, server)
}

fn run_tool(cmd: &mut std::process::Command) {
    let out = cmd
        .output()
        .expect("the PostgreSQL client tools (pg_dump, psql)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The seed of a randomised test: `MENTORSYNC_SEED` when set (to replay a run), else a
/// fresh one. The test prints it.
pub fn random_seed() -> u64 {
    std::env::var("MENTORSYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

/// Seeds chapters `a` and `b` (see `Seeder::small_chapter`), everyone with [`PASSWORD`].
pub async fn seed_fixture(db: &Db, now: i64) -> (SmallChapter, SmallChapter) {
    let hash = mentorsync_server::auth::password::hash(PASSWORD).unwrap();
    let mut tx = db.write().await.unwrap();
    let mut s = Seeder::new(now, hash);
    let (a, b) = (s.small_chapter("a"), s.small_chapter("b"));
    s.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    (a, b)
}

/// A row of the server's database as wire JSON, as the server would send it at `now`.
pub async fn server_row(
    db: &Db,
    now: i64,
    chapter: &str,
    entity: &str,
    id: &str,
) -> Option<serde_json::Value> {
    let mut tx = db.read().await.unwrap();
    let entity = entity.parse().unwrap();
    mentorsync_server::rows::load_json(&mut tx, entity, id, chapter, now)
        .await
        .unwrap()
}

/// Asserts the client holds exactly the server's rows: its outbox is empty, what the app
/// reads equals what the server confirmed, every row equals the server's row now, and
/// `fresh` (a brand-new device of the same user) syncing now holds the same rows — so no
/// change the client should have received was skipped.
pub async fn assert_mirrors(
    db: &Db,
    now: i64,
    client: &mentorsync_core::Client,
    chapter: &str,
    fresh: &mentorsync_core::Client,
) {
    assert!(
        client.pending_commands().unwrap().is_empty(),
        "outbox not empty"
    );
    let view = client.dump(true).unwrap();
    assert_eq!(
        view,
        client.dump(false).unwrap(),
        "view differs from confirmed rows with an empty outbox"
    );
    for (entity, id, version, data) in &view {
        let server = server_row(db, now, chapter, entity, id)
            .await
            .unwrap_or_else(|| panic!("{entity} {id} not on the server"));
        assert_eq!(&server, data, "{entity} {id} differs from the server");
        assert_eq!(server["version"].as_i64(), Some(*version));
    }
    fresh.sync(|_| {}).await.unwrap();
    let fresh_rows: Vec<_> = fresh
        .dump(true)
        .unwrap()
        .into_iter()
        .map(|(e, id, v, _)| (e, id, v))
        .collect();
    let mine: Vec<_> = view.into_iter().map(|(e, id, v, _)| (e, id, v)).collect();
    assert_eq!(mine, fresh_rows, "a fresh device would hold different rows");
}

/// Proves exactly-once for one device whose queued commands got the mutation ids `issued`:
/// the server holds one verdict for each of them and for nothing else; a rejected one is on
/// the device with the server's code and reason and left no audit row; an applied one made
/// exactly the audited transitions its verdict lists, once. Returns (applied, rejected,
/// audit rows).
pub async fn assert_verdicts(
    db: &Db,
    client: &mentorsync_core::Client,
    issued: &[i64],
) -> (usize, usize, usize) {
    use mentorsync_protocol::sync::{Verdict, VerdictOutcome};
    use mentorsync_server::db::q;
    let client_id = client.client_id().unwrap();
    let mut tx = db.read().await.unwrap();
    let stored: Vec<(i64, String)> = tx
        .fetch_all(
            q("SELECT mutation_id, verdict FROM sync_mutations WHERE client_id = $1 ORDER BY mutation_id")
                .bind(client_id.as_str()),
        )
        .await
        .unwrap();
    let audit: Vec<(i64, String, String)> = tx
        .fetch_all(
            q("SELECT mutation_id, entity, entity_id FROM audit_log WHERE client_id = $1 ORDER BY id")
                .bind(client_id.as_str()),
        )
        .await
        .unwrap();
    drop(tx);
    let ids: Vec<i64> = stored.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids, issued,
        "one verdict for exactly the commands the device queued"
    );
    let on_device: std::collections::BTreeMap<i64, (String, String)> = client
        .rejected_commands()
        .unwrap()
        .into_iter()
        .map(|r| (r.mutation_id, (r.code, r.reason)))
        .collect();
    let mut applied = std::collections::BTreeSet::new();
    for (id, verdict) in &stored {
        let verdict: Verdict = serde_json::from_str(verdict).unwrap();
        let audited: Vec<(String, String)> = audit
            .iter()
            .filter(|(m, ..)| m == id)
            .map(|(_, e, i)| (e.clone(), i.clone()))
            .collect();
        match verdict.outcome {
            VerdictOutcome::Applied { changes, .. } => {
                applied.insert(*id);
                assert!(
                    !on_device.contains_key(id),
                    "applied mutation {id} shown as rejected"
                );
                let listed: Vec<(String, String)> = changes
                    .iter()
                    .map(|c| (c.entity.as_str().to_owned(), c.id.clone()))
                    .collect();
                assert!(!listed.is_empty(), "applied mutation {id} changed nothing");
                assert_eq!(
                    audited, listed,
                    "mutation {id}'s audit rows are exactly its transitions"
                );
            }
            VerdictOutcome::Rejected { code, reason, .. } => {
                assert!(audited.is_empty(), "rejected mutation {id} left audit rows");
                assert!(!code.is_empty() && !reason.is_empty());
                assert_eq!(
                    on_device.get(id),
                    Some(&(code, reason)),
                    "the device reports rejected mutation {id} with the server's reason"
                );
            }
        }
    }
    assert!(
        audit.iter().all(|(m, ..)| applied.contains(m)),
        "audit rows without an applied command"
    );
    (applied.len(), stored.len() - applied.len(), audit.len())
}
