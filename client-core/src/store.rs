//! The local database: one writer connection, pragmas for phones, numbered migrations
//! recorded in `PRAGMA user_version`.

use crate::error::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Schema steps, in order; step N brings the database to `user_version` N.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_cache.sql"),
    include_str!("../migrations/0002_session_time_index.sql"),
    include_str!("../migrations/0003_staged_rows.sql"),
    include_str!("../migrations/0004_mentor_index_covers_mentee.sql"),
    include_str!("../migrations/0005_view_query_columns.sql"),
    include_str!("../migrations/0006_journal.sql"),
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The local database.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Self::prepare(conn)
    }

    fn prepare(mut conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: an outbox entry acknowledged to the app survives power loss too.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for one short piece of work. Never held across an `.await`.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A value from `meta`.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        meta(&self.conn(), key)
    }

    /// Sets (or clears) a value in `meta`.
    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        set_meta(&self.conn(), key, value)
    }
}

/// A value from `meta`.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Sets (or clears) a value in `meta`.
pub fn set_meta(conn: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, v],
        )?,
        None => conn.execute("DELETE FROM meta WHERE key = ?1", [key])?,
    };
    Ok(())
}

/// Applies the migrations the database lacks, each in its own transaction; refuses a
/// database written by a newer version of the app (its schema is unknown here).
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(CoreError::Storage(format!(
            "the local database has schema version {current}, newer than this app's {SCHEMA_VERSION}; update the app"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_fresh_database_and_refuses_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = Store::open(&path).unwrap();
        let v: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        store.set_meta("k", Some("v")).unwrap();
        drop(store);
        // Reopening is a no-op and keeps the data.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.meta("k").unwrap().as_deref(), Some("v"));
        store
            .conn()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        match Store::open(&path) {
            Err(CoreError::Storage(m)) => assert!(m.contains("newer than this app")),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
}
