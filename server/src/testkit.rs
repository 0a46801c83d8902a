//! What the server's tests and the end-to-end suite (`tests/`) share, so that there is one
//! harness underneath both: the clock's start, the fixture's password, and a fresh
//! database on either backend (a SQLite file, or a PostgreSQL schema dropped afterwards).
//! Built only with the `testkit` feature, which no release enables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::db::{Backend, ConnectOptions, Db, q};
use std::sync::OnceLock;
use tempfile::TempDir;

/// The variable that enables the PostgreSQL runs of every backend test.
pub const PG_ENV: &str = "MENTORSYNC_TEST_PG_URL";
/// 2026-11-22T00:00:00Z: tests start here and move the clock themselves.
pub const T0: i64 = 1_795_305_600_000;
/// A day in milliseconds.
pub const DAY: i64 = 86_400_000;
/// Every fixture user's password.
pub const PASSWORD: &str = "correct horse battery";
/// The role PostgreSQL tests run the server as when they ask for [`Owner::AppRole`]: an
/// ordinary role, like a production deployment's, so that row-level security binds it.
pub const APP_ROLE: &str = "mentorsync_test_app";

/// [`PASSWORD`]'s hash, computed once per process (Argon2 is slow on purpose).
pub fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crate::auth::password::hash(PASSWORD).unwrap())
        .clone()
}

/// Logs of the code under test, at `warn` unless `RUST_LOG` says otherwise.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Who owns a PostgreSQL test schema (and so whom the server connects as).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The configured (super)user: restores with `psql` work as an operator's do.
    Configured,
    /// [`APP_ROLE`], an ordinary role that row-level security binds.
    AppRole,
}

/// A fresh, migrated database.
pub struct TestDb {
    /// The database.
    pub db: Db,
    /// How to connect to it again (a second server instance, a restart).
    pub opts: ConnectOptions,
    /// PostgreSQL: the configured URL and the schema's name.
    pub schema: Option<(String, String)>,
    /// A directory that lives as long as the database (the SQLite file, backups).
    pub dir: TempDir,
}

impl TestDb {
    /// A fresh database on `backend`; `None` for PostgreSQL when [`PG_ENV`] is not set.
    pub async fn create(backend: Backend, owner: Owner, pool: u32) -> Option<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let (opts, schema) = match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("server.db").display());
                (ConnectOptions::new(url), None)
            }
            Backend::Postgres => {
                let url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
                drop_stale_schemas(&url).await;
                let name = format!("mst_{}_{}", unix_secs(), uuid::Uuid::new_v4().simple());
                let connect = match owner {
                    Owner::AppRole => app_role_owning(&url, &name).await,
                    Owner::Configured => url.clone(),
                };
                let opts = ConnectOptions {
                    pg_schema: Some(name.clone()),
                    max_connections: pool,
                    ..ConnectOptions::new(connect)
                };
                (opts, Some((url, name)))
            }
        };
        let db = Db::connect(&opts).await.expect("connect");
        db.migrate().await.expect("migrate");
        Some(TestDb {
            db,
            opts,
            schema,
            dir,
        })
    }

    /// Closes the pool and drops a PostgreSQL schema.
    pub async fn drop(self) {
        self.db.close().await;
        if let Some((url, schema)) = self.schema {
            let _ = Db::drop_pg_schema(&url, &schema).await;
        }
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Drops test schemas older than an hour (left by runs that were killed).
async fn drop_stale_schemas(url: &str) {
    let Ok(db) = Db::connect(&ConnectOptions {
        max_connections: 1,
        ..ConnectOptions::new(url)
    })
    .await
    else {
        return;
    };
    let Ok(mut tx) = db.write().await else { return };
    let cutoff = unix_secs().saturating_sub(3600);
    let names: Vec<String> = tx
        .fetch_all(q(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'mst\\_%'",
        ))
        .await
        .unwrap_or_default();
    for n in names {
        let ts: u64 = n
            .split('_')
            .nth(1)
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX);
        if ts < cutoff {
            let _ = tx
                .execute(q(format!("DROP SCHEMA IF EXISTS \"{n}\" CASCADE")))
                .await;
        }
    }
    let _ = tx.commit().await;
    db.close().await;
}

/// Creates (once) [`APP_ROLE`] and `schema` owned by it, as the configured superuser, and
/// returns the URL that connects as that role.
async fn app_role_owning(url: &str, schema: &str) -> String {
    let admin = Db::connect(&ConnectOptions {
        max_connections: 1,
        ..ConnectOptions::new(url)
    })
    .await
    .expect("connect as the configured user");
    let mut tx = admin.write().await.unwrap();
    // Concurrent tests may both try to create the role; one wins, the other finds it.
    let _ = tx
        .execute(q(format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') \
             THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$"
        )))
        .await;
    let _ = tx.commit().await;
    let mut tx = admin.write().await.unwrap();
    tx.execute(q(format!(
        "CREATE SCHEMA \"{schema}\" AUTHORIZATION {APP_ROLE}"
    )))
    .await
    .expect("create the test schema");
    tx.commit().await.unwrap();
    admin.close().await;
    let mut parsed = reqwest::Url::parse(url).expect("a postgres URL");
    parsed.set_username(APP_ROLE).unwrap();
    parsed.set_password(None).unwrap();
    parsed.to_string()
}
