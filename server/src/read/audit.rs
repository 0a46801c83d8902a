//! The audit trail, read back: a chapter's entries filtered by row, actor and time for
//! admins, and one mentor's history (the mentor, their pauses and assignments) for the
//! people who manage them. Newest first, keyset-paged by (time, id) so page 50 costs what
//! page 1 does; every filter has an index that starts with it (migration 0009).

use crate::db::{Arg, DbRow, FromDb, Tx, q};
use base64::Engine;
use chrono::{DateTime, Utc};
use mentorsync_protocol::audit::{AuditDevice, AuditEntry, AuditPage};
use mentorsync_protocol::command::Entity;

/// Which entries.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only changes of this kind of row.
    pub entity: Option<Entity>,
    /// Only changes of this row.
    pub entity_id: Option<String>,
    /// Only changes this person made.
    pub actor_id: Option<String>,
    /// Only changes at or after this time (epoch ms).
    pub since: Option<i64>,
    /// Only changes before this time (epoch ms).
    pub until: Option<i64>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// A malformed cursor.
#[derive(Debug, thiserror::Error)]
#[error("the cursor is not one this server issued for the audit trail")]
pub struct BadCursor;

fn encode_cursor(at: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("a{at}.{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(i64, i64), BadCursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| BadCursor)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| BadCursor)?;
    let (at, id) = text
        .strip_prefix('a')
        .and_then(|t| t.split_once('.'))
        .ok_or(BadCursor)?;
    Ok((
        at.parse().map_err(|_| BadCursor)?,
        id.parse().map_err(|_| BadCursor)?,
    ))
}

/// An entry as stored, with the device columns kept until the caller decides who sees them.
struct Stored {
    entry: AuditEntry,
    at_ms: i64,
}

impl FromDb for Stored {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let at_ms: i64 = r.get("at")?;
        let details: Option<String> = r.get("details")?;
        let client_id: Option<String> = r.get("client_id")?;
        let mutation_id: Option<i64> = r.get("mutation_id")?;
        Ok(Stored {
            at_ms,
            entry: AuditEntry {
                id: r.get("id")?,
                at: DateTime::<Utc>::from_timestamp_millis(at_ms)
                    .ok_or_else(|| crate::db::decode_error("at", "out of range"))?,
                entity: r.parse("entity")?,
                entity_id: r.get("entity_id")?,
                action: r.get("action")?,
                from_status: r.get("from_status")?,
                to_status: r.get("to_status")?,
                actor_id: r.get("actor_id")?,
                actor_name: r.get("actor_name")?,
                actor_role: r.parse("actor_role")?,
                details: details
                    .map(|d| serde_json::from_str(&d))
                    .transpose()
                    .map_err(|e| crate::db::decode_error("details", e))?,
                device: client_id
                    .zip(mutation_id)
                    .map(|(client_id, mutation_id)| AuditDevice {
                        client_id,
                        mutation_id,
                    }),
            },
        })
    }
}

const COLUMNS: &str = "SELECT a.id, a.at, a.entity, a.entity_id, a.action, a.from_status, a.to_status, \
       a.actor_id, u.display_name AS actor_name, a.actor_role, a.details, a.client_id, a.mutation_id \
     FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.chapter_id = $1";

/// A query over the audit trail, extended one condition at a time: each `?` in a condition
/// is rewritten to the next numbered bind parameter (`$2`, `$3`, …) and bound to the next
/// argument.
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn new(chapter_id: &str) -> Sql {
        Sql {
            text: COLUMNS.to_owned(),
            args: vec![chapter_id.into()],
        }
    }

    fn and(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) {
        let mut parts = clause.split('?');
        self.text.push_str(" AND ");
        self.text.push_str(parts.next().unwrap_or_default());
        for (part, arg) in parts.zip(args) {
            self.args.push(arg);
            self.text.push_str(&format!("${}", self.args.len()));
            self.text.push_str(part);
        }
    }

    async fn page(
        mut self,
        tx: &mut Tx,
        cursor: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<(Vec<AuditEntry>, Option<String>), sqlx::Error> {
        if let Some((at, id)) = cursor {
            self.and(
                "(a.at < ? OR (a.at = ? AND a.id < ?))",
                [at.into(), at.into(), id.into()],
            );
        }
        self.args.push((i64::from(limit) + 1).into());
        self.text.push_str(&format!(
            " ORDER BY a.at DESC, a.id DESC LIMIT ${}",
            self.args.len()
        ));
        let mut query = q(self.text);
        for a in self.args {
            query = query.bind(a);
        }
        let mut rows: Vec<Stored> = tx.fetch_all(query).await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|s| encode_cursor(s.at_ms, s.entry.id))
        } else {
            None
        };
        Ok((rows.into_iter().map(|s| s.entry).collect(), next))
    }
}

/// One page of a chapter's audit trail.
pub async fn chapter_trail(
    tx: &mut Tx,
    chapter_id: &str,
    f: &AuditFilter,
) -> Result<Result<AuditPage, BadCursor>, sqlx::Error> {
    let cursor = match f.cursor.as_deref().map(decode_cursor).transpose() {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let mut sql = Sql::new(chapter_id);
    if let Some(e) = f.entity {
        sql.and("a.entity = ?", [e.as_str().into()]);
    }
    if let Some(id) = &f.entity_id {
        sql.and("a.entity_id = ?", [id.into()]);
    }
    if let Some(actor) = &f.actor_id {
        sql.and("a.actor_id = ?", [actor.into()]);
    }
    if let Some(since) = f.since {
        sql.and("a.at >= ?", [since.into()]);
    }
    if let Some(until) = f.until {
        sql.and("a.at < ?", [until.into()]);
    }
    let (items, next_cursor) = sql.page(tx, cursor, f.limit).await?;
    Ok(Ok(AuditPage { items, next_cursor }))
}

/// One page of a mentor's history: changes of the mentor, their pauses, their mentee
/// assignments and their coordinator assignments. Device ids are left out: they are for
/// admins tracing a command, not for the people managing the mentor.
pub async fn mentor_history(
    tx: &mut Tx,
    chapter_id: &str,
    mentor_id: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Result<AuditPage, BadCursor>, sqlx::Error> {
    let cursor = match cursor.map(decode_cursor).transpose() {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let mut sql = Sql::new(chapter_id);
    sql.and(
        "((a.entity = 'mentor' AND a.entity_id = ?) \
         OR (a.entity = 'pause' AND a.entity_id IN (SELECT id FROM pauses WHERE mentor_id = ?)) \
         OR (a.entity = 'mentee_assignment' AND a.entity_id IN \
             (SELECT id FROM mentee_assignments WHERE mentor_id = ?)) \
         OR (a.entity = 'coordinator_assignment' AND a.entity_id IN \
             (SELECT id FROM coordinator_assignments WHERE mentor_id = ?)))",
        [
            mentor_id.into(),
            mentor_id.into(),
            mentor_id.into(),
            mentor_id.into(),
        ],
    );
    let (mut items, next_cursor) = sql.page(tx, cursor, limit).await?;
    for e in &mut items {
        e.device = None;
    }
    Ok(Ok(AuditPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        assert_eq!(
            decode_cursor(&encode_cursor(1_764_000_000_000, 42)).unwrap(),
            (1_764_000_000_000, 42)
        );
        assert!(decode_cursor("not base64!").is_err());
        let roster = crate::read::roster::encode_cursor("Ada", "0192");
        assert!(decode_cursor(&roster).is_err());
    }
}
