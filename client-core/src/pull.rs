//! Pull rounds, staged durably and published atomically.
//!
//! Each page of a round is written to `staged_pages` together with the cursor that
//! continues after it, in one transaction; nothing visible changes. When the last page
//! arrives, `publish` applies the whole round to `server_rows` in one transaction and
//! rebases the view. A round interrupted by a crash or a lost connection resumes from its
//! last staged page.

use crate::error::Result;
use crate::outbox;
use crate::rows::{self, Key};
use mentorsync_protocol::model::Me;
use mentorsync_protocol::sync::{ChangeOp, PullResponse, SyncSet};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeSet, HashSet};

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
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT cursor, round_cursor, last_success_at FROM sync_state WHERE set_name = ?1",
            [set.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let staged_pages: i64 = conn.query_row(
        "SELECT COUNT(*) FROM staged_pages WHERE set_name = ?1",
        [set.as_str()],
        |r| r.get(0),
    )?;
    let (cursor, round_cursor, last_success_at) = row.unwrap_or_default();
    Ok(SetState {
        cursor,
        round_cursor,
        staged_pages,
        last_success_at,
    })
}

/// Stages one page and the cursor after it.
pub fn stage(conn: &mut Connection, set: SyncSet, page: &PullResponse) -> Result<()> {
    let tx = conn.transaction()?;
    let seq: i64 = tx.query_row(
        "SELECT COUNT(*) FROM staged_pages WHERE set_name = ?1",
        [set.as_str()],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO staged_pages (set_name, seq, body) VALUES (?1, ?2, ?3)",
        params![set.as_str(), seq, serde_json::to_string(page)?],
    )?;
    tx.execute(
        "INSERT INTO sync_state (set_name, round_cursor) VALUES (?1, ?2) \
         ON CONFLICT (set_name) DO UPDATE SET round_cursor = excluded.round_cursor",
        params![set.as_str(), page.cursor],
    )?;
    tx.commit()?;
    Ok(())
}

/// Applies a completed round to the confirmed rows and rebases the view, in one
/// transaction. Returns how many rows changed.
pub fn publish(conn: &mut Connection, me: &Me, now: i64, set: SyncSet) -> Result<usize> {
    let tx = conn.transaction()?;
    let entities = set.entities();
    let mut changed: BTreeSet<Key> = BTreeSet::new();
    let mut full_reset = false;
    let mut new_scopes: Option<HashSet<String>> = None;
    let mut count = 0;
    {
        let mut stmt =
            tx.prepare("SELECT seq, body FROM staged_pages WHERE set_name = ?1 ORDER BY seq")?;
        let mut pages = stmt.query([set.as_str()])?;
        while let Some(row) = pages.next()? {
            let seq: i64 = row.get(0)?;
            let page: PullResponse = serde_json::from_str(&row.get::<_, String>(1)?)?;
            if seq == 0 {
                if let Some(sc) = &page.scope_change
                    && sc.full_reset
                {
                    full_reset = true;
                    for e in entities {
                        tx.execute("DELETE FROM server_rows WHERE entity = ?1", [e.as_str()])?;
                    }
                }
                if let Some(s) = &page.scopes {
                    new_scopes = Some(s.iter().cloned().collect());
                }
            }
            for c in &page.changes {
                count += 1;
                match (c.op, &c.row) {
                    (ChangeOp::Upsert, Some(row)) => {
                        rows::upsert_server(
                            &tx,
                            c.entity,
                            &c.id,
                            c.version.unwrap_or(0),
                            &c.scopes,
                            row,
                        )?;
                    }
                    _ => rows::remove_server(&tx, c.entity, &c.id)?,
                }
                if !full_reset {
                    changed.insert((c.entity, c.id.clone()));
                }
            }
        }
    }
    if let Some(scopes) = &new_scopes {
        // Rows that left every scope this device holds go.
        let mut gone: Vec<Key> = Vec::new();
        for e in entities {
            let mut stmt = tx.prepare("SELECT id, scopes FROM server_rows WHERE entity = ?1")?;
            for row in stmt.query_map([e.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })? {
                let (id, row_scopes) = row?;
                let row_scopes: Vec<String> = serde_json::from_str(&row_scopes).unwrap_or_default();
                if !row_scopes.iter().any(|s| scopes.contains(s)) {
                    gone.push((*e, id));
                }
            }
        }
        for (e, id) in gone {
            rows::remove_server(&tx, e, &id)?;
            changed.insert((e, id));
        }
        let list: Vec<&String> = scopes.iter().collect();
        tx.execute(
            "UPDATE sync_state SET scopes = ?1 WHERE set_name = ?2",
            params![serde_json::to_string(&list)?, set.as_str()],
        )?;
    }
    tx.execute(
        "UPDATE sync_state SET cursor = round_cursor, round_cursor = NULL, last_success_at = ?1 WHERE set_name = ?2",
        params![now, set.as_str()],
    )?;
    tx.execute(
        "DELETE FROM staged_pages WHERE set_name = ?1",
        [set.as_str()],
    )?;
    if full_reset {
        rows::reset_view_entities(&tx, entities)?;
    }
    outbox::rebase(&tx, me, now, changed)?;
    tx.commit()?;
    Ok(count)
}
