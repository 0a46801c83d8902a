//! Schema upgrades: a device database frozen at schema version 1, with rows, opens with
//! today's code, ends up with exactly the schema of a fresh database, and keeps its rows.
#![allow(clippy::unwrap_used, missing_docs)]

use mentorsync_core::store::{SCHEMA_VERSION, Store};
use rusqlite::Connection;

// The fixture must be older than the code, or the test proves nothing.
const _: () = assert!(SCHEMA_VERSION > 1);

fn schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_version_1_database_upgrades_to_the_fresh_schema_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    Connection::open(&old)
        .unwrap()
        .execute_batch(include_str!("fixtures/schema_v1.sql"))
        .unwrap();

    let upgraded = Store::open(&old).unwrap();
    let fresh = Store::open(&dir.path().join("fresh.db")).unwrap();
    assert_eq!(
        schema(&upgraded.conn()),
        schema(&fresh.conn()),
        "upgraded schema differs from a fresh one"
    );
    let version: i64 = upgraded
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    drop((upgraded, fresh));

    // Rows survive and read through today's API.
    let client = mentorsync_core::Client::open(&old, "http://127.0.0.1:9").unwrap();
    assert_eq!(
        client.client_id().unwrap(),
        "6f1d1c52-0b8e-4b8c-9c38-2a6f0c2e6d11"
    );
    let roster = client.roster(&Default::default()).unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].mentor.display_name, "Mia Mentor");
    assert_eq!(client.pending_commands().unwrap()[0].name, "resume_mentor");
    assert_eq!(
        client.sessions_between(0, i64::MAX).unwrap().len(),
        1,
        "rows written before notes existed still read"
    );
    assert_eq!(
        client.sync_status().unwrap().sets[0].cursor.as_deref(),
        Some("eyJ2IjoxfQ")
    );
    // The upgrade's index serves today's-sessions queries.
    let plan: String = Connection::open(&old)
        .unwrap()
        .query_row(
            "EXPLAIN QUERY PLAN SELECT data FROM view_rows WHERE entity = 'session' AND at >= 0 AND at < 1",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("view_by_time"), "{plan}");
}
