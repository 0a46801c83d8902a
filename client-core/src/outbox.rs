//! The outbox: commands the server has not confirmed yet, in the order they were issued,
//! and rebasing the view on top of the confirmed rows.
//!
//! An entry is `pending` (not sent), `sent` (sent, no verdict yet: sending it again is
//! safe, the server replays) or `applied` (the server applied it; kept until a pull has
//! brought its effects, so the view does not flicker back). A rejected entry leaves the
//! outbox for `rejections`, with the server's reason.

use crate::error::Result;
use crate::optimistic;
use crate::rows::{self, Key};
use mentorsync_protocol::Command;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::Me;
use mentorsync_protocol::sync::{Mutation, Verdict, VerdictOutcome};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A command waiting for the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCommand {
    /// Its mutation id (per device, increasing).
    pub mutation_id: i64,
    /// Command name (`pause_mentor`).
    pub name: String,
    /// `pending`, `sent` or `applied`.
    pub state: String,
    /// The command with its arguments.
    pub command: Command,
    /// When it was issued (epoch ms).
    pub created_at: i64,
}

/// A command the server refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedCommand {
    /// Its mutation id.
    pub mutation_id: i64,
    /// Command name.
    pub name: String,
    /// The command with its arguments.
    pub command: Command,
    /// Stable code (`invalid_transition`, `version_conflict`, …).
    pub code: String,
    /// The server's reason, for the person.
    pub reason: String,
    /// When the verdict arrived (epoch ms).
    pub at: i64,
}

fn keys_json(keys: &[Key]) -> Result<String> {
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .map(|(e, id)| (e.as_str(), id.as_str()))
        .collect();
    Ok(serde_json::to_string(&pairs)?)
}

pub(crate) fn parse_keys(text: &str) -> Vec<Key> {
    serde_json::from_str::<Vec<(String, String)>>(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(e, id)| e.parse::<Entity>().ok().map(|e| (e, id)))
        .collect()
}

/// Checks and applies a new command to the view and stores it. Returns its mutation id.
pub fn enqueue(conn: &mut Connection, me: &Me, now: i64, mut command: Command) -> Result<Queued> {
    let tx = conn.transaction()?;
    // The version the command is based on, unless an earlier pending command already
    // changed that row (then the server's own version checks and transitions decide).
    let target = command.target().map(|(e, id)| (e, id.to_owned()));
    let touched = optimistic::apply(&tx, me, now, &mut command)?;
    let mut expected: Option<i64> = None;
    // Notes merge: they never carry a version to be refused on.
    let merges = matches!(command, Command::EditSessionNotes(_));
    if let Some((entity, id)) = target.filter(|(_, id)| !id.is_empty() && !merges) {
        let earlier: Vec<String> = {
            let mut stmt = tx.prepare("SELECT touched FROM outbox")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let key = (entity, id.clone());
        if !earlier.iter().any(|t| parse_keys(t).contains(&key)) {
            expected = tx
                .query_row(
                    "SELECT version FROM server_rows WHERE entity = ?1 AND id = ?2",
                    params![entity.as_str(), id],
                    |r| r.get(0),
                )
                .optional()?;
        }
    }
    let next: i64 = crate::store::meta(&tx, "next_mutation_id")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    tx.execute(
        "INSERT INTO outbox (mutation_id, name, command, expected_version, state, touched, created_at) \
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
        params![next, command.name(), serde_json::to_string(&command)?, expected, keys_json(&touched)?, now],
    )?;
    crate::store::set_meta(&tx, "next_mutation_id", Some(&(next + 1).to_string()))?;
    tx.commit()?;
    Ok(Queued {
        mutation_id: next,
        created_id: command.created_id().map(str::to_owned),
        entities: touched.iter().map(|(e, _)| *e).collect(),
    })
}

/// A command queued on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Its mutation id (the order it is pushed in).
    pub mutation_id: i64,
    /// The id of the row it creates (a session, a flag, …), if it creates one.
    pub created_id: Option<String>,
    /// The kinds of rows whose shown state it changed.
    pub entities: Vec<Entity>,
}

/// Entries to push, oldest first: `(mutation_id, command, expected_version)`.
pub fn unsent(conn: &Connection, limit: usize) -> Result<Vec<Mutation>> {
    let mut stmt = conn.prepare(
        "SELECT mutation_id, command, expected_version, created_at FROM outbox \
         WHERE state IN ('pending', 'sent') ORDER BY mutation_id LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mutation_id, command, expected_version, created_at) = row?;
        out.push(Mutation {
            mutation_id,
            command: serde_json::from_str(&command)?,
            expected_version,
            // When the person acted, on this device's clock; the push's `sent_at` lets
            // the server read it (and the command's times) on its own.
            issued_at: Some(created_at),
        });
    }
    Ok(out)
}

/// Marks entries as sent (before the request leaves, so a crash cannot lose the fact).
pub fn mark_sent(conn: &Connection, ids: &[i64]) -> Result<()> {
    for id in ids {
        conn.execute(
            "UPDATE outbox SET state = 'sent' WHERE mutation_id = ?1 AND state = 'pending'",
            [id],
        )?;
    }
    Ok(())
}

/// Records verdicts. Rejected commands leave the outbox (with their reason kept) and the
/// rows they touched return to server truth; the rest of the outbox is replayed.
pub fn apply_verdicts(
    conn: &mut Connection,
    me: &Me,
    now: i64,
    verdicts: &[Verdict],
) -> Result<usize> {
    let tx = conn.transaction()?;
    let mut reset: BTreeSet<Key> = BTreeSet::new();
    let mut rejected = 0;
    for v in verdicts {
        let entry: Option<(String, String, String)> = tx
            .query_row(
                "SELECT name, command, touched FROM outbox WHERE mutation_id = ?1",
                [v.mutation_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((name, command, touched)) = entry else {
            continue;
        };
        journal(&tx, v.mutation_id, now)?;
        match &v.outcome {
            VerdictOutcome::Applied { .. } => {
                tx.execute(
                    "UPDATE outbox SET state = 'applied', verdict = ?1 WHERE mutation_id = ?2",
                    params![serde_json::to_string(v)?, v.mutation_id],
                )?;
            }
            VerdictOutcome::Rejected {
                code,
                reason,
                current,
            } => {
                rejected += 1;
                tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", [v.mutation_id])?;
                tx.execute(
                    "INSERT OR REPLACE INTO rejections (mutation_id, name, command, code, reason, current, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![v.mutation_id, name, command, code, reason, current.as_ref().map(|c| c.to_string()), now],
                )?;
                reset.extend(parse_keys(&touched));
                // The server's current row is newer truth than what we hold.
                if let (Some(cur), Ok(cmd)) = (current, serde_json::from_str::<Command>(&command))
                    && let Some((entity, id)) = cmd.target()
                    && let Some(version) = cur["version"].as_i64()
                {
                    let scopes = mentorsync_protocol::sync::row_scopes(entity, cur, &me.chapter_id);
                    rows::upsert_server(&tx, entity, id, version, &scopes, cur)?;
                    reset.insert((entity, id.to_owned()));
                }
            }
        }
        let acked: i64 = crate::store::meta(&tx, "acked_mutation_id")?
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        crate::store::set_meta(
            &tx,
            "acked_mutation_id",
            Some(&acked.max(v.mutation_id).to_string()),
        )?;
    }
    if !reset.is_empty() {
        rebase(&tx, me, now, reset)?;
    }
    prune_journal(&tx, now)?;
    tx.commit()?;
    Ok(rejected)
}

/// How long, and how many, acknowledged commands the journal keeps. A restore from a
/// backup older than this loses what the device acknowledged before it (the device then
/// starts a new numbering, [`Forgotten::Beyond`]); nightly or weekly backups are covered.
pub const JOURNAL_DAYS: i64 = 30;
/// See [`JOURNAL_DAYS`].
pub const JOURNAL_MAX: i64 = 10_000;

/// Copies an outbox entry into the journal as it gets its verdict.
fn journal(conn: &Connection, mutation_id: i64, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO journal (mutation_id, name, command, expected_version, created_at, acknowledged_at) \
         SELECT mutation_id, name, command, expected_version, created_at, ?2 FROM outbox WHERE mutation_id = ?1",
        params![mutation_id, now],
    )?;
    Ok(())
}

fn prune_journal(conn: &Connection, now: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM journal WHERE acknowledged_at < ?1 \
            OR mutation_id <= (SELECT MAX(mutation_id) FROM journal) - ?2",
        params![now - JOURNAL_DAYS * 86_400_000, JOURNAL_MAX],
    )?;
    Ok(())
}

/// What a device does when the server has no verdict for commands it had acknowledged.
#[derive(Debug, PartialEq, Eq)]
pub enum Forgotten {
    /// The journal holds every one: they are queued again (same ids), to be pushed first.
    Requeued(u64),
    /// Some are older than the journal keeps: the device cannot fill the server's gap.
    Beyond,
}

/// The server's newest verdict for this device is `server_last`, below what the device
/// had acknowledged (it was restored from a backup): queues the forgotten commands again,
/// from the journal, under their own ids, and forgets their verdicts on the device.
pub fn requeue_forgotten(
    conn: &mut Connection,
    me: &Me,
    now: i64,
    server_last: i64,
) -> Result<Forgotten> {
    let tx = conn.transaction()?;
    let acked: i64 = crate::store::meta(&tx, "acked_mutation_id")?
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    if server_last >= acked {
        return Ok(Forgotten::Requeued(0));
    }
    let mut requeued = 0;
    for id in server_last + 1..=acked {
        let in_outbox = tx.execute(
            "UPDATE outbox SET state = 'sent', verdict = NULL WHERE mutation_id = ?1",
            [id],
        )? == 1;
        let from_journal = in_outbox
            || tx.execute(
                "INSERT INTO outbox (mutation_id, name, command, expected_version, state, created_at) \
                 SELECT mutation_id, name, command, expected_version, 'sent', created_at FROM journal \
                 WHERE mutation_id = ?1",
                [id],
            )? == 1;
        if !from_journal {
            return Ok(Forgotten::Beyond);
        }
        tx.execute("DELETE FROM rejections WHERE mutation_id = ?1", [id])?;
        requeued += 1;
    }
    crate::store::set_meta(&tx, "acked_mutation_id", Some(&server_last.to_string()))?;
    rebase(&tx, me, now, BTreeSet::new())?;
    tx.commit()?;
    Ok(Forgotten::Requeued(requeued))
}

/// The server forgot commands older than the journal: the device cannot give it the ids
/// it is missing, so it continues under a new device id, numbering its queued commands
/// from 1. Returns the new id and how many acknowledged commands the server lost for good.
pub fn start_new_numbering(conn: &mut Connection, server_last: i64) -> Result<(String, i64)> {
    let tx = conn.transaction()?;
    let acked: i64 = crate::store::meta(&tx, "acked_mutation_id")?
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let queued: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT mutation_id FROM outbox WHERE state IN ('pending', 'sent') ORDER BY mutation_id",
        )?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?
    };
    tx.execute("DELETE FROM outbox WHERE state = 'applied'", [])?;
    // Out of the way first, then down to 1, 2, …: ids are a primary key.
    tx.execute("UPDATE outbox SET mutation_id = -mutation_id", [])?;
    for (i, id) in queued.iter().enumerate() {
        tx.execute(
            "UPDATE outbox SET mutation_id = ?1 WHERE mutation_id = ?2",
            params![i as i64 + 1, -id],
        )?;
    }
    tx.execute("DELETE FROM journal", [])?;
    let client_id = uuid::Uuid::new_v4().to_string();
    crate::store::set_meta(&tx, "client_id", Some(&client_id))?;
    crate::store::set_meta(&tx, "acked_mutation_id", Some("0"))?;
    crate::store::set_meta(
        &tx,
        "next_mutation_id",
        Some(&(queued.len() as i64 + 1).to_string()),
    )?;
    tx.commit()?;
    Ok((client_id, (acked - server_last).max(0)))
}

/// Drops applied entries whose effects a completed pull has brought (everything applied
/// up to `upto`), returning the rows they had touched.
pub fn prune_applied(conn: &Connection, upto: i64) -> Result<BTreeSet<Key>> {
    let mut reset = BTreeSet::new();
    {
        let mut stmt = conn
            .prepare("SELECT touched FROM outbox WHERE state = 'applied' AND mutation_id <= ?1")?;
        for t in stmt.query_map([upto], |r| r.get::<_, String>(0))? {
            reset.extend(parse_keys(&t?));
        }
    }
    conn.execute(
        "DELETE FROM outbox WHERE state = 'applied' AND mutation_id <= ?1",
        [upto],
    )?;
    Ok(reset)
}

/// Rebuilds the view: the given rows and every row an outbox entry touches go back to
/// server truth, then the outbox is replayed in order on top. An entry that no longer
/// applies (the server state moved under it) stays queued without a visible effect; the
/// server will decide it.
pub fn rebase(conn: &Connection, me: &Me, now: i64, mut reset: BTreeSet<Key>) -> Result<()> {
    let entries: Vec<(i64, String, String)> = {
        let mut stmt =
            conn.prepare("SELECT mutation_id, command, touched FROM outbox ORDER BY mutation_id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (_, _, touched) in &entries {
        reset.extend(parse_keys(touched));
    }
    for (entity, id) in &reset {
        rows::reset_view(conn, *entity, id)?;
    }
    for (id, command, _) in entries {
        let mut cmd: Command = serde_json::from_str(&command)?;
        let touched = match optimistic::apply(conn, me, now, &mut cmd) {
            Ok(t) => t,
            Err(crate::CoreError::Rejected { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        conn.execute(
            "UPDATE outbox SET touched = ?1 WHERE mutation_id = ?2",
            params![keys_json(&touched)?, id],
        )?;
    }
    Ok(())
}

/// Every pending entry, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<PendingCommand>> {
    let mut stmt = conn.prepare(
        "SELECT mutation_id, name, state, command, created_at FROM outbox ORDER BY mutation_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mutation_id, name, state, command, created_at) = row?;
        out.push(PendingCommand {
            mutation_id,
            name,
            state,
            command: serde_json::from_str(&command)?,
            created_at,
        });
    }
    Ok(out)
}

/// Rejected commands, newest first.
pub fn rejections(conn: &Connection) -> Result<Vec<RejectedCommand>> {
    let mut stmt = conn.prepare("SELECT mutation_id, name, command, code, reason, at FROM rejections ORDER BY mutation_id DESC")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mutation_id, name, command, code, reason, at) = row?;
        out.push(RejectedCommand {
            mutation_id,
            name,
            command: serde_json::from_str(&command)?,
            code,
            reason,
            at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pull may carry a verdict the device is still writing from the page before (its
    /// request acknowledged only what was stored): the second copy changes nothing.
    #[test]
    fn a_verdict_received_twice_is_applied_once() {
        let (_dir, store) = crate::testing::store();
        let me = crate::testing::me("coordinator");
        let command: Command = serde_json::from_value(
            serde_json::json!({"name": "resume_mentor", "args": {"mentor_id": "m1"}}),
        )
        .unwrap();
        for id in [1, 2] {
            store
                .conn()
                .execute(
                    "INSERT INTO outbox (mutation_id, name, command, state, created_at) \
                     VALUES (?1, 'resume_mentor', ?2, 'sent', 0)",
                    params![id, serde_json::to_string(&command).unwrap()],
                )
                .unwrap();
        }
        let verdicts: Vec<Verdict> = serde_json::from_value(serde_json::json!([
            {"mutation_id": 1, "status": "applied", "entity": "mentor", "id": "m1", "changes": []},
            {"mutation_id": 2, "status": "rejected", "code": "invalid_transition", "reason": "not paused"},
        ]))
        .unwrap();
        let mut rejected = Vec::new();
        for _ in 0..2 {
            rejected.push(apply_verdicts(&mut store.conn(), &me, 5, &verdicts).unwrap());
        }
        assert_eq!(rejected, [1, 0], "the rejection is counted once");
        let conn = store.conn();
        let kept: Vec<(i64, String)> = conn
            .prepare("SELECT mutation_id, state FROM outbox")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kept, [(1, "applied".to_owned())]);
        let shown = rejections(&conn).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(
            (shown[0].mutation_id, shown[0].code.as_str()),
            (2, "invalid_transition")
        );
        assert_eq!(
            crate::store::meta(&conn, "acked_mutation_id")
                .unwrap()
                .as_deref(),
            Some("2")
        );
    }

    /// Four commands acknowledged; the journal keeps them until it is pruned. A server
    /// that forgot 3 and 4 gets them queued again (same ids); one that forgot commands the
    /// journal no longer holds makes the device start a new numbering, keeping its queue.
    #[test]
    fn forgotten_commands_come_back_from_the_journal_or_a_new_numbering() {
        let (_dir, store) = crate::testing::store();
        let me = crate::testing::me("coordinator");
        let command = serde_json::json!({"name": "resume_mentor", "args": {"mentor_id": "m1"}});
        let insert = |id: i64, state: &str| {
            store
                .conn()
                .execute(
                    "INSERT INTO outbox (mutation_id, name, command, state, created_at) \
                     VALUES (?1, 'resume_mentor', ?2, ?3, 0)",
                    params![id, command.to_string(), state],
                )
                .unwrap();
        };
        for id in 1..=4 {
            insert(id, "sent");
        }
        let verdicts: Vec<Verdict> = (1..=4)
            .map(|id| {
                serde_json::from_value(serde_json::json!(
                    {"mutation_id": id, "status": "applied", "entity": "mentor", "id": "m1", "changes": []}
                ))
                .unwrap()
            })
            .collect();
        apply_verdicts(&mut store.conn(), &me, 10, &verdicts).unwrap();
        prune_applied(&store.conn(), 4).unwrap();
        crate::store::set_meta(&store.conn(), "next_mutation_id", Some("6")).unwrap();
        insert(5, "pending");
        let queue = |store: &crate::store::Store| -> Vec<(i64, String)> {
            store
                .conn()
                .prepare("SELECT mutation_id, state FROM outbox ORDER BY mutation_id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(queue(&store), [(5, "pending".to_owned())]);

        assert_eq!(
            requeue_forgotten(&mut store.conn(), &me, 20, 4).unwrap(),
            Forgotten::Requeued(0),
            "nothing forgotten"
        );
        assert_eq!(
            requeue_forgotten(&mut store.conn(), &me, 20, 2).unwrap(),
            Forgotten::Requeued(2)
        );
        assert_eq!(
            queue(&store),
            [
                (3, "sent".to_owned()),
                (4, "sent".to_owned()),
                (5, "pending".to_owned())
            ]
        );
        let pushed: Vec<i64> = unsent(&store.conn(), 10)
            .unwrap()
            .iter()
            .map(|m| m.mutation_id)
            .collect();
        assert_eq!(pushed, [3, 4, 5], "the forgotten ones go first");

        // A month later the journal is pruned; the server forgets everything.
        apply_verdicts(&mut store.conn(), &me, 10, &verdicts[2..]).unwrap();
        prune_journal(&store.conn(), 10 + (JOURNAL_DAYS + 1) * 86_400_000).unwrap();
        assert_eq!(
            requeue_forgotten(&mut store.conn(), &me, 20, 0).unwrap(),
            Forgotten::Beyond
        );
        let old_id = crate::store::meta(&store.conn(), "client_id").unwrap();
        let (new_id, lost) = start_new_numbering(&mut store.conn(), 0).unwrap();
        assert_ne!(Some(new_id), old_id);
        assert_eq!(lost, 4);
        assert_eq!(
            queue(&store),
            [(1, "pending".to_owned())],
            "the queued command, renumbered"
        );
        assert_eq!(
            crate::store::meta(&store.conn(), "next_mutation_id")
                .unwrap()
                .as_deref(),
            Some("2")
        );
    }

    /// The journal never holds more than [`JOURNAL_MAX`] commands, the newest ones.
    #[test]
    fn the_journal_keeps_at_most_its_bound() {
        let (_dir, store) = crate::testing::store();
        let mut conn = store.conn();
        let tx = conn.transaction().unwrap();
        for id in 1..=JOURNAL_MAX + 5 {
            tx.execute(
                "INSERT INTO journal (mutation_id, name, command, created_at, acknowledged_at) \
                 VALUES (?1, 'resume_mentor', '{}', 0, 100)",
                [id],
            )
            .unwrap();
        }
        prune_journal(&tx, 100).unwrap();
        let (count, oldest): (i64, i64) = tx
            .query_row("SELECT COUNT(*), MIN(mutation_id) FROM journal", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((count, oldest), (JOURNAL_MAX, 6));
    }
}
