//! The database behind one small API, on SQLite (embedded default) or PostgreSQL.
//!
//! Domain code is written once against [`Tx`] with portable SQL (`$1` positional parameters, which
//! both drivers bind by position; BIGINT epoch-ms times; TEXT ids and JSON). What differs
//! between the backends lives here and nowhere else: how a write transaction starts
//! (`BEGIN IMMEDIATE` on SQLite so writers queue instead of failing on upgrade), row locks
//! (`FOR UPDATE` on PostgreSQL; SQLite's single writer already holds the lock), pragmas,
//! and migrations (one folder per backend). See docs/adr/0001-one-domain-two-backends.md.

mod args;
mod dialect;
pub mod notify;
mod row;

pub use args::{Arg, Q, q, values_list};
pub use dialect::joined_ids;
pub use notify::{ChangeRow, Notice, Scope};
pub(crate) use row::decode_error;
pub use row::{DbRow, DbValue, FromDb};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server (several mentorsync instances may share it).
    Postgres,
}

/// A connection pool on either backend.
#[derive(Clone, Debug)]
pub enum Pool {
    /// SQLite pool.
    Sqlite(SqlitePool),
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// A database: a pool plus the channel on which committed change-log positions are
/// announced (to event streams). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    notices: broadcast::Sender<Notice>,
    /// The database's epoch, read once ([`crate::epoch`]).
    pub(crate) epoch: std::sync::Arc<tokio::sync::OnceCell<String>>,
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `sqlite://path.db` or `postgres://…`.
    pub url: String,
    /// PostgreSQL only: the schema to use (created if missing). Tests use one per test.
    pub pg_schema: Option<String>,
    /// Largest pool size.
    pub max_connections: u32,
}

impl ConnectOptions {
    /// Options for a URL with the default pool size.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            pg_schema: None,
            max_connections: 16,
        }
    }
}

impl Db {
    /// Opens a pool. SQLite files are created if missing and always run with WAL,
    /// `synchronous=FULL` (a committed command survives power loss), foreign keys on and a
    /// busy timeout, set on every connection.
    pub async fn connect(opts: &ConnectOptions) -> Result<Db, sqlx::Error> {
        if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            let mut co = PgConnectOptions::from_str(&opts.url)?;
            if let Some(schema) = &opts.pg_schema {
                // Create the schema through a plain connection first: search_path on a
                // missing schema silently falls back to no schema at all.
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(co.clone())
                    .await?;
                // Only when missing: an ordinary role given its schema by the operator may
                // not create schemas in the database.
                let exists = sqlx::query("SELECT 1 FROM pg_namespace WHERE nspname = $1")
                    .bind(schema.as_str())
                    .fetch_optional(&admin)
                    .await?
                    .is_some();
                if !exists {
                    let create = format!("CREATE SCHEMA \"{}\"", schema.replace('"', ""));
                    sqlx::query(sqlx::AssertSqlSafe(create))
                        .execute(&admin)
                        .await?;
                }
                admin.close().await;
                co = co.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(co)
                .await?;
            Ok(Db::new(Pool::Postgres(pool)))
        } else {
            let co = SqliteConnectOptions::from_str(&opts.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.min(8))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(co)
                .await?;
            Ok(Db::new(Pool::Sqlite(pool)))
        }
    }

    fn new(pool: Pool) -> Db {
        let (notices, _) = broadcast::channel(1024);
        Db {
            pool,
            notices,
            epoch: Default::default(),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Announcements of committed changes. On PostgreSQL they arrive through
    /// LISTEN/NOTIFY once [`Db::listen`] runs, so commits on any server instance count.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// PostgreSQL: forwards change notifications from every instance sharing the database
    /// to [`Db::subscribe`]rs until `stop` fires, reconnecting after errors. SQLite: nothing
    /// to do (commits announce themselves in-process).
    pub fn listen(&self, stop: CancellationToken) {
        let Pool::Postgres(pool) = &self.pool else {
            return;
        };
        let (pool, sender) = (pool.clone(), self.notices.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let result = async {
                    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                    listener.listen(notify::CHANNEL).await?;
                    // Commits made while we were not listening were not heard: ask every
                    // follower to re-check.
                    let _ = sender.send(Notice::recheck());
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => return Ok::<(), sqlx::Error>(()),
                            n = listener.recv() => {
                                if let Ok(notice) = serde_json::from_str::<Notice>(n?.payload()) {
                                    let _ = sender.send(notice);
                                }
                            }
                        }
                    }
                }
                .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        });
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the numbered migrations of this backend's folder.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await,
            Pool::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await,
        }
    }

    /// Starts a write transaction for the server's own work (sign-in lookups, jobs,
    /// dispatch): it may touch every chapter. Requests use [`Db::write_as`].
    pub async fn write(&self) -> Result<Tx, sqlx::Error> {
        self.write_as(Acting::System).await
    }

    /// Starts a write transaction acting for `who`. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so a transaction never fails half-way on a lock upgrade.
    /// On PostgreSQL row-level security then shows it only `who`'s chapter (migration 8).
    pub async fn write_as(&self, who: Acting<'_>) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => self.tx(TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(p) => self.tx(TxInner::Postgres(
                p.begin_with(sqlx::AssertSqlSafe(who.begin("BEGIN")?))
                    .await?,
            )),
        })
    }

    /// Starts a read-only transaction for the server's own work. Requests use
    /// [`Db::read_as`].
    pub async fn read(&self) -> Result<Tx, sqlx::Error> {
        self.read_as(Acting::System).await
    }

    /// Starts a read-only transaction acting for `who` that sees one consistent snapshot
    /// for all its queries (a screen assembled from several queries never mixes two
    /// states).
    pub async fn read_as(&self, who: Acting<'_>) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => self.tx(TxInner::Sqlite(p.begin().await?)),
            Pool::Postgres(p) => self.tx(TxInner::Postgres(
                p.begin_with(sqlx::AssertSqlSafe(
                    who.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?,
                ))
                .await?,
            )),
        })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.read().await?;
        tx.fetch_one::<i64>(q("SELECT CAST(1 AS BIGINT)")).await?;
        tx.rollback().await
    }

    /// Drops a PostgreSQL schema and everything in it (what tests and the benchmark
    /// create for one run), over a connection of its own.
    pub async fn drop_pg_schema(url: &str, schema: &str) -> Result<(), sqlx::Error> {
        let db = Db::connect(&ConnectOptions {
            max_connections: 1,
            ..ConnectOptions::new(url)
        })
        .await?;
        let mut tx = db.write().await?;
        tx.execute(q(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
            .await?;
        tx.commit().await?;
        db.close().await;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    fn tx(&self, inner: TxInner) -> Tx {
        Tx {
            inner,
            changes: Vec::new(),
            notices: self.notices.clone(),
            flushed: None,
            ended: Vec::new(),
            rescoped: Vec::new(),
        }
    }
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
///
/// Changes to synced rows are recorded with [`Tx::record_change`] and appended to the
/// change log as the transaction's last step ([`Tx::flush_changes`], run by commit).
pub struct Tx {
    inner: TxInner,
    changes: Vec<ChangeRow>,
    notices: broadcast::Sender<Notice>,
    flushed: Option<Notice>,
    ended: Vec<String>,
    rescoped: Vec<String>,
}

macro_rules! on_tx {
    ($self:ident, $q:ident, |$t:ident, $query:ident| $body:expr) => {
        match &mut $self.inner {
            TxInner::Sqlite($t) => {
                let $query = $q.bind_to(sqlx::query::<Sqlite>(sqlx::AssertSqlSafe($q.sql.clone())));
                $body
            }
            TxInner::Postgres($t) => {
                let $query =
                    $q.bind_to(sqlx::query::<Postgres>(sqlx::AssertSqlSafe($q.sql.clone())));
                $body
            }
        }
    };
}

/// A point inside a transaction to roll back to (see [`Tx::savepoint`]).
#[derive(Debug)]
#[must_use]
pub struct Savepoint(usize);

impl Tx {
    /// Marks a point the transaction can return to without losing what came before: a
    /// batch runs each command inside one, so a refused command's writes (and its queued
    /// change-log rows) go while the others stay. One savepoint at a time; commit keeps
    /// whatever is still marked.
    pub async fn savepoint(&mut self) -> Result<Savepoint, sqlx::Error> {
        self.execute(q("SAVEPOINT command")).await?;
        Ok(Savepoint(self.changes.len()))
    }

    /// Keeps everything since `point` and marks a new point, in one round trip (a push
    /// does this between each two commands).
    pub async fn next_savepoint(&mut self, _kept: Savepoint) -> Result<Savepoint, sqlx::Error> {
        const SQL: &str = "RELEASE SAVEPOINT command; SAVEPOINT command";
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(SQL))
                    .execute(&mut **t)
                    .await?;
            }
            TxInner::Postgres(t) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(SQL))
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(Savepoint(self.changes.len()))
    }

    /// Undoes everything since the savepoint, including queued change-log rows. The point
    /// stays marked.
    pub async fn rollback_to(&mut self, point: &Savepoint) -> Result<(), sqlx::Error> {
        self.execute(q("ROLLBACK TO SAVEPOINT command")).await?;
        self.changes.truncate(point.0);
        Ok(())
    }

    /// Announces, once the transaction commits, that a token family's access ended: every
    /// instance then ends the event and dashboard streams it opened.
    pub fn end_access(&mut self, family_id: &str) {
        self.ended.push(family_id.to_owned());
    }

    /// Announces, with this transaction's changes, that what `user_id` may see changed in
    /// a way no row of theirs names (a cohort given to a director): their event streams
    /// listen to `user:<id>` and take the next poke.
    pub fn rescope(&mut self, user_id: &str) {
        self.rescoped.push(format!("user:{user_id}"));
    }

    /// Queues a change-log row; written when the transaction commits.
    pub fn record_change(&mut self, change: ChangeRow) {
        self.changes.push(change);
    }

    /// Appends the queued changes to the change log now. Positions are handed out in
    /// commit order: on PostgreSQL a transaction-scoped advisory lock is taken just before
    /// the insert and held until commit, so no later position can commit first (a plain
    /// sequence would not give that). It is the transaction's last step, taken after every
    /// row lock, so it cannot deadlock. SQLite has one writer at a time already.
    pub async fn flush_changes(&mut self) -> Result<(), sqlx::Error> {
        if self.changes.is_empty() {
            return Ok(());
        }
        if self.backend() == Backend::Postgres {
            self.execute(q("SELECT pg_advisory_xact_lock($1)").bind(notify::CHANGE_LOG_LOCK))
                .await?;
        }
        let changes = std::mem::take(&mut self.changes);
        let mut notice = notify::append(self, &changes).await?;
        notice.scopes.append(&mut self.rescoped);
        if self.backend() == Backend::Postgres {
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            self.execute(
                q("SELECT pg_notify($1, $2)")
                    .bind(notify::CHANNEL)
                    .bind(payload),
            )
            .await?;
        }
        self.flushed = Some(match self.flushed.take() {
            Some(mut earlier) => {
                earlier.merge(notice);
                earlier
            }
            None => notice,
        });
        Ok(())
    }

    /// Which engine the transaction runs on.
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// `" FOR UPDATE"` on PostgreSQL, nothing on SQLite (whose `BEGIN IMMEDIATE` already
    /// holds the only write lock). Append it to a SELECT that reads a row the transaction
    /// is about to change based on what it read.
    pub fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, q: Q) -> Result<u64, sqlx::Error> {
        on_tx!(self, q, |t, query| Ok(query
            .execute(&mut **t)
            .await?
            .rows_affected()))
    }

    /// Runs a query and decodes every row.
    pub async fn fetch_all<T: FromDb>(&mut self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        let rows: Vec<DbRow> = on_tx!(self, q, |t, query| query
            .fetch_all(&mut **t)
            .await?
            .into_iter()
            .map(DbRow::from)
            .collect());
        rows.iter().map(T::from_db).collect()
    }

    /// Runs a query and decodes its first row, if any.
    pub async fn fetch_optional<T: FromDb>(&mut self, q: Q) -> Result<Option<T>, sqlx::Error> {
        let row: Option<DbRow> = on_tx!(self, q, |t, query| query
            .fetch_optional(&mut **t)
            .await?
            .map(DbRow::from));
        row.as_ref().map(T::from_db).transpose()
    }

    /// Whether a query returns any row (`SELECT EXISTS (…)`, a boolean on both backends).
    pub async fn exists(&mut self, q: Q) -> Result<bool, sqlx::Error> {
        let inner = Q {
            sql: format!("SELECT EXISTS ({})", q.sql).into(),
            args: q.args,
        };
        self.fetch_one(inner).await
    }

    /// Runs a query that must return a row.
    pub async fn fetch_one<T: FromDb>(&mut self, q: Q) -> Result<T, sqlx::Error> {
        self.fetch_optional(q)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Appends queued changes to the change log, commits, and announces the new positions.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.flush_changes().await?;
        let backend = self.backend();
        let ended = (!self.ended.is_empty()).then(|| Notice {
            chapter_id: String::new(),
            position: 0,
            scopes: Vec::new(),
            ended: std::mem::take(&mut self.ended),
            dashboards_only: false,
        });
        if let (Some(notice), Backend::Postgres) = (&ended, backend) {
            let payload = serde_json::to_string(notice).unwrap_or_default();
            self.execute(
                q("SELECT pg_notify($1, $2)")
                    .bind(notify::CHANNEL)
                    .bind(payload),
            )
            .await?;
        }
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        // PostgreSQL announces through NOTIFY (delivered at commit to every instance).
        if backend == Backend::Sqlite {
            for notice in self.flushed.into_iter().chain(ended) {
                let _ = self.notices.send(notice);
            }
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await,
            TxInner::Postgres(t) => t.rollback().await,
        }
    }
}

/// Whose rows a transaction may touch (PostgreSQL row-level security, migration 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting<'a> {
    /// A request of someone in this chapter: only its rows are visible.
    Chapter(&'a str),
    /// The server's own work, across chapters, named explicitly.
    System,
}

impl Acting<'_> {
    /// `begin` followed by the statement that sets the context for the transaction, sent
    /// together (one round trip). The chapter id is inlined, so only id characters pass.
    fn begin(self, begin: &str) -> Result<String, sqlx::Error> {
        let chapter = match self {
            Acting::System => "*",
            Acting::Chapter(id)
                if !id.is_empty()
                    && id.len() <= 64
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
            {
                id
            }
            Acting::Chapter(_) => {
                return Err(sqlx::Error::Protocol("not a chapter id".into()));
            }
        };
        Ok(format!(
            "{begin}; SELECT set_config('mentorsync.chapter', '{chapter}', true)"
        ))
    }
}

/// What kind of database failure an error is, for mapping to HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A unique constraint (including a partial unique index) refused the write.
    Unique,
    /// A CHECK or foreign-key constraint refused the write.
    Constraint,
    /// The database is busy or unreachable; retrying later may work.
    Busy,
    /// Anything else: a bug or a broken database.
    Other,
}

/// Whether PostgreSQL aborted the transaction to settle a conflict with another one
/// (deadlock, serialization failure). Nothing of it was kept, so running it again is safe
/// and will most likely succeed: the other transaction has gone ahead.
pub fn aborted_for_conflict(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().is_some_and(|c| ABORTED_FOR_CONFLICT.contains(&c.as_ref())))
}

/// PostgreSQL's serialization failure and deadlock codes.
const ABORTED_FOR_CONFLICT: [&str; 2] = ["40001", "40P01"];

/// Classifies a database error.
pub fn classify(e: &sqlx::Error) -> Failure {
    use sqlx::error::ErrorKind;
    match e {
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => Failure::Unique,
            ErrorKind::CheckViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation => Failure::Constraint,
            // SQLITE_BUSY / SQLITE_LOCKED, or a transaction PostgreSQL aborted.
            _ if aborted_for_conflict(e) => Failure::Busy,
            _ => match d.code().as_deref() {
                Some("5" | "6" | "517") => Failure::Busy,
                _ => Failure::Other,
            },
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Failure::Busy,
        _ => Failure::Other,
    }
}
