//! Pull rounds, staged durably and published atomically.
//!
//! Each page of a round is written to `staged_rows` (one row per change, a later page
//! replacing an earlier one's entry) together with the cursor that continues after it, in
//! one transaction; nothing visible changes. When the last page arrives, `publish` applies
//! the whole round to `server_rows` in one transaction and rebases the view. A round
//! interrupted by a crash or a lost connection resumes from its last staged page.

use crate::error::Result;
use crate::outbox;
use crate::rows::{self, Key};
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::Me;
use mentorsync_protocol::sync::{ChangeOp, ScopeChange, SyncSet, Verdict};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeSet, HashSet};

/// A pull page as the device reads it: the wire's `PullResponse`, but every row kept as
/// the JSON text the server sent. Staging stores that text as it is; building a tree for
/// each of 100,000 rows and printing it again was a fifth of an initial sync.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// Changes in this page, in order.
    pub changes: Vec<PageChange>,
    /// Where the next page (or round) continues.
    pub cursor: String,
    /// More pages until the round reaches its target.
    pub has_more: bool,
    /// First page of a round whose scope set changed.
    #[serde(default)]
    pub scope_change: Option<ScopeChange>,
    /// The device's scope set (first page of a round).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Verdicts the device has not acknowledged yet.
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// The device's newest mutation the server has a verdict for: below what the device
    /// acknowledged, the server was restored from a backup and forgot some.
    #[serde(default)]
    pub last_mutation_id: i64,
}

/// One change of a [`Page`].
#[derive(Debug, Deserialize)]
pub struct PageChange {
    /// Which kind of row.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Upsert or remove.
    pub op: ChangeOp,
    /// The row's version (upserts).
    #[serde(default)]
    pub version: Option<i64>,
    /// The row's scope keys, as sent (upserts).
    #[serde(default)]
    pub scopes: Option<Box<RawValue>>,
    /// The row, as sent (upserts).
    #[serde(default)]
    pub row: Option<Box<RawValue>>,
}

/// Where a set's sync stands.
#[derive(Debug, Clone, Default)]
pub struct SetState {
    /// Cursor of the last published round.
    pub cursor: Option<String>,
    /// Cursor after the last staged page of the round in progress.
    pub round_cursor: Option<String>,
    /// Pages staged so far in the round in progress.
    pub staged_pages: i64,
    /// When the last round was published (epoch ms).
    pub last_success_at: Option<i64>,
}

/// The state of one set.
pub fn state(conn: &Connection, set: SyncSet) -> Result<SetState> {
    let row = conn
        .query_row(
            "SELECT cursor, round_cursor, round_pages, last_success_at FROM sync_state WHERE set_name = ?1",
            [set.as_str()],
            |r| {
                Ok(SetState {
                    cursor: r.get(0)?,
                    round_cursor: r.get(1)?,
                    staged_pages: r.get(2)?,
                    last_success_at: r.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Stages one page and the cursor after it.
pub fn stage(conn: &mut Connection, set: SyncSet, page: &Page) -> Result<()> {
    let tx = conn.transaction()?;
    let first = tx
        .query_row(
            "SELECT round_pages FROM sync_state WHERE set_name = ?1",
            [set.as_str()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0)
        == 0;
    if first {
        // What an abandoned round left is not part of this one.
        tx.execute(
            "DELETE FROM staged_rows WHERE set_name = ?1",
            [set.as_str()],
        )?;
        let full_reset = page.scope_change.as_ref().is_some_and(|s| s.full_reset);
        let scopes = page
            .scopes
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        tx.execute(
            "INSERT INTO sync_state (set_name, round_full_reset, round_scopes) VALUES (?1, ?2, ?3) \
             ON CONFLICT (set_name) DO UPDATE SET round_full_reset = excluded.round_full_reset, \
               round_scopes = excluded.round_scopes",
            params![set.as_str(), full_reset, scopes],
        )?;
    }
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO staged_rows (set_name, entity, id, version, scopes, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (set_name, entity, id) DO UPDATE SET version = excluded.version, \
               scopes = excluded.scopes, data = excluded.data",
        )?;
        for c in &page.changes {
            let (version, scopes, data) = match (c.op, &c.row) {
                (ChangeOp::Upsert, Some(row)) => (
                    c.version.unwrap_or(0),
                    c.scopes.as_deref().map_or("[]", RawValue::get),
                    Some(row.get()),
                ),
                _ => (0, "[]", None),
            };
            insert.execute(params![
                set.as_str(),
                c.entity.as_str(),
                c.id,
                version,
                scopes,
                data
            ])?;
        }
    }
    tx.execute(
        "UPDATE sync_state SET round_cursor = ?1, round_pages = round_pages + 1 WHERE set_name = ?2",
        params![page.cursor, set.as_str()],
    )?;
    tx.commit()?;
    Ok(())
}

/// Applies a completed round to the confirmed rows and rebases the view, in one
/// transaction. Returns how many rows the round carried.
pub fn publish(conn: &mut Connection, me: &Me, now: i64, set: SyncSet) -> Result<usize> {
    let tx = conn.transaction()?;
    let entities = set.entities();
    let (full_reset, new_scopes): (bool, Option<String>) = tx.query_row(
        "SELECT round_full_reset, round_scopes FROM sync_state WHERE set_name = ?1",
        [set.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let name = set.as_str();
    if full_reset {
        for e in entities {
            tx.execute("DELETE FROM server_rows WHERE entity = ?1", [e.as_str()])?;
        }
    }
    // The version guard keeps a row a verdict already brought newer than the round's copy.
    tx.execute(
        "INSERT INTO server_rows (entity, id, version, scopes, data) \
         SELECT entity, id, version, scopes, data FROM staged_rows WHERE set_name = ?1 AND data IS NOT NULL \
         ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, scopes = excluded.scopes, \
           data = excluded.data WHERE excluded.version >= server_rows.version",
        [name],
    )?;
    tx.execute(
        "DELETE FROM server_rows WHERE (entity, id) IN \
         (SELECT entity, id FROM staged_rows WHERE set_name = ?1 AND data IS NULL)",
        [name],
    )?;
    let count: i64 = tx.query_row(
        "SELECT COUNT(*) FROM staged_rows WHERE set_name = ?1",
        [name],
        |r| r.get(0),
    )?;
    let mut changed: BTreeSet<Key> = BTreeSet::new();
    if !full_reset {
        let mut stmt = tx.prepare("SELECT entity, id FROM staged_rows WHERE set_name = ?1")?;
        for key in stmt.query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
            let (entity, id) = key?;
            if let Ok(e) = entity.parse::<Entity>() {
                changed.insert((e, id));
            }
        }
    }
    if let Some(scopes) = &new_scopes {
        // Rows that left every scope this device holds go. After a full reset every row
        // came from this round, for these scopes.
        if !full_reset {
            let held: HashSet<String> = serde_json::from_str(scopes)?;
            for key in left_scope(&tx, entities, &held)? {
                rows::remove_server(&tx, key.0, &key.1)?;
                changed.insert(key);
            }
        }
        tx.execute(
            "UPDATE sync_state SET scopes = ?1 WHERE set_name = ?2",
            params![scopes, name],
        )?;
    }
    tx.execute(
        "UPDATE sync_state SET cursor = round_cursor, round_cursor = NULL, round_pages = 0, \
           round_full_reset = 0, round_scopes = NULL, last_success_at = ?1 WHERE set_name = ?2",
        params![now, name],
    )?;
    tx.execute("DELETE FROM staged_rows WHERE set_name = ?1", [name])?;
    if full_reset {
        rows::reset_view_entities(&tx, entities)?;
    }
    outbox::rebase(&tx, me, now, changed)?;
    tx.commit()?;
    Ok(count as usize)
}

/// Confirmed rows of `entities` in none of the `held` scopes.
fn left_scope(conn: &Connection, entities: &[Entity], held: &HashSet<String>) -> Result<Vec<Key>> {
    let mut gone = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT id, scopes FROM server_rows WHERE entity = ?1")?;
    for e in entities {
        for row in stmt.query_map([e.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (id, row_scopes) = row?;
            let row_scopes: Vec<String> = serde_json::from_str(&row_scopes).unwrap_or_default();
            if !row_scopes.iter().any(|s| held.contains(s)) {
                gone.push((*e, id));
            }
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use mentorsync_protocol::sync::{Change, PullResponse};

    fn page(changes: serde_json::Value, has_more: bool, full_reset: bool) -> Page {
        serde_json::from_value(serde_json::json!({
            "changes": changes,
            "cursor": format!("after-{}", changes.as_array().map_or(0, Vec::len)),
            "has_more": has_more,
            "scope_change": full_reset.then(|| serde_json::json!({"full_reset": true, "added": [], "removed": []})),
            "scopes": ["chapter:c1"],
            "verdicts": [],
        }))
        .unwrap()
    }

    fn upsert(id: &str, version: i64, name: &str) -> serde_json::Value {
        serde_json::json!({"entity": "mentee", "id": id, "op": "upsert", "version": version,
            "scopes": ["chapter:c1"], "row": {"id": id, "display_name": name, "version": version}})
    }

    fn rows(store: &Store, table: &str) -> Vec<(String, i64, String)> {
        let conn = store.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, version, data FROM {table} ORDER BY id"
            ))
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// Nothing is visible until the round's last page; then a later page's entry for a
    /// row wins over an earlier one's, removals apply, and the view equals the rows.
    #[test]
    fn a_round_is_invisible_until_published_and_later_pages_win() {
        let (_dir, store) = crate::testing::store();
        let me = crate::testing::me("admin");
        let set = SyncSet::Rest;
        let first = page(
            serde_json::json!([upsert("a", 1, "Ann"), upsert("b", 1, "Bo")]),
            true,
            true,
        );
        stage(&mut store.conn(), set, &first).unwrap();
        let second = page(
            serde_json::json!([upsert("a", 2, "Ann Lee"), {"entity": "mentee", "id": "b", "op": "remove"}, upsert("c", 1, "Cy")]),
            false,
            false,
        );
        stage(&mut store.conn(), set, &second).unwrap();
        assert!(
            rows(&store, "server_rows").is_empty(),
            "staged rounds stay invisible"
        );
        let st = state(&store.conn(), set).unwrap();
        assert_eq!(
            (st.staged_pages, st.round_cursor.as_deref()),
            (2, Some("after-3"))
        );

        assert_eq!(publish(&mut store.conn(), &me, 0, set).unwrap(), 3);
        let published = rows(&store, "server_rows");
        let ids: Vec<(&str, i64)> = published.iter().map(|r| (r.0.as_str(), r.1)).collect();
        assert_eq!(ids, [("a", 2), ("c", 1)]);
        assert!(
            published[0].2.contains("Ann Lee"),
            "rows are stored as sent"
        );
        assert_eq!(rows(&store, "view_rows"), published);
        let st = state(&store.conn(), set).unwrap();
        assert_eq!(
            (st.staged_pages, st.cursor.as_deref()),
            (0, Some("after-3"))
        );
        let left: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM staged_rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);

        // A round that is not a full reset keeps what it does not mention, and a version
        // older than the one held does not overwrite it.
        let third = page(
            serde_json::json!([upsert("a", 1, "stale"), upsert("d", 1, "Di")]),
            false,
            false,
        );
        stage(&mut store.conn(), set, &third).unwrap();
        publish(&mut store.conn(), &me, 0, set).unwrap();
        let ids: Vec<(String, i64)> = rows(&store, "view_rows")
            .into_iter()
            .map(|r| (r.0, r.1))
            .collect();
        assert_eq!(ids, [("a".into(), 2), ("c".into(), 1), ("d".into(), 1)]);
    }

    /// The device's reading of a page must not drift from the wire type.
    #[test]
    fn a_wire_page_reads_as_a_page_with_rows_verbatim() {
        let row = serde_json::json!({"id": "m1", "display_name": "Ana \"A\" Lee", "version": 3});
        let wire = PullResponse {
            changes: vec![
                Change {
                    entity: Entity::Mentor,
                    id: "m1".into(),
                    op: ChangeOp::Upsert,
                    version: Some(3),
                    scopes: vec!["mentor:m1".into()],
                    row: Some(row.clone()),
                },
                Change {
                    entity: Entity::Flag,
                    id: "f1".into(),
                    op: ChangeOp::Remove,
                    version: None,
                    scopes: vec![],
                    row: None,
                },
            ],
            cursor: "c2".into(),
            has_more: true,
            target: 9,
            scope_change: Some(ScopeChange {
                full_reset: true,
                added: vec![],
                removed: vec![],
            }),
            scopes: Some(vec!["mentor:m1".into()]),
            last_mutation_id: 0,
            verdicts: vec![],
        };
        let page: Page = serde_json::from_str(&serde_json::to_string(&wire).unwrap()).unwrap();
        assert_eq!(page.cursor, "c2");
        assert!(page.has_more);
        assert!(page.scope_change.unwrap().full_reset);
        let m = &page.changes[0];
        assert_eq!(
            (m.entity, m.id.as_str(), m.version),
            (Entity::Mentor, "m1", Some(3))
        );
        let text = m.row.as_ref().unwrap().get();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).unwrap(),
            row
        );
        assert_eq!(m.scopes.as_ref().unwrap().get(), r#"["mentor:m1"]"#);
        let f = &page.changes[1];
        assert_eq!(
            (f.op, f.row.is_none(), f.scopes.is_none()),
            (ChangeOp::Remove, true, true)
        );
    }
}
