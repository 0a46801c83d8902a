//! The coordinator roster: every mentor with status, certification expiry, open pause,
//! mentee count and open flags, in ONE query with keyset pagination by (name, id), so a
//! page costs the same on page 1 and page 20 and a roster of 1,000 never needs N+1 calls.

use crate::db::{DbRow, FromDb, Tx, q};
use base64::Engine;
use mentorsync_protocol::MentorStatus;
use mentorsync_protocol::model::{Mentor, Pause, RosterEntry, RosterPage};

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct RosterFilter {
    /// Only mentors this coordinator currently coordinates.
    pub coordinator_id: Option<String>,
    /// Only mentors in this status.
    pub status: Option<MentorStatus>,
    /// Only mentors whose certification expires before this time (epoch ms), including
    /// already expired ones.
    pub certification_expires_before: Option<i64>,
    /// Case-insensitive substring of the display name.
    pub name: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// A malformed cursor.
#[derive(Debug, thiserror::Error)]
#[error("the cursor is not one this server issued")]
pub struct BadCursor;

pub(crate) fn encode_cursor(name: &str, id: &str) -> String {
    let json = serde_json::json!([name, id]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(String, String), BadCursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| BadCursor)?;
    serde_json::from_slice::<(String, String)>(&bytes).map_err(|_| BadCursor)
}

/// `%`, `_` and `\` in a search are literal characters, not wildcards.
fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl FromDb for RosterEntry {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let pause_id: Option<String> = r.get("pause_id")?;
        let open_pause = match pause_id {
            None => None,
            Some(id) => Some(Pause {
                id,
                mentor_id: r.get("id")?,
                status: r.parse("pause_status")?,
                reason: r.get("pause_reason")?,
                starts_at: r.get("pause_starts_at")?,
                ends_at: r.get("pause_ends_at")?,
                created_by: r.get("pause_created_by")?,
                decided_by: r.get("pause_decided_by")?,
                version: r.get("pause_version")?,
                updated_at: r.get("pause_updated_at")?,
            }),
        };
        Ok(RosterEntry {
            mentor: Mentor::from_db(r)?,
            open_pause,
            mentee_count: r.get("mentee_count")?,
            open_flags: r.get("open_flags")?,
        })
    }
}

/// One page of the roster of a chapter.
pub async fn roster(
    tx: &mut Tx,
    chapter_id: &str,
    f: &RosterFilter,
) -> Result<Result<RosterPage, BadCursor>, sqlx::Error> {
    let after = match f.cursor.as_deref().map(decode_cursor).transpose() {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let mut sql = String::from(
        "SELECT m.user_id AS id, u.display_name, m.status, m.capacity_weekly, m.specialties, m.availability, \
           m.certification_expires_at, m.version, m.updated_at, \
           p.id AS pause_id, p.status AS pause_status, p.reason AS pause_reason, p.starts_at AS pause_starts_at, \
           p.ends_at AS pause_ends_at, p.created_by AS pause_created_by, p.decided_by AS pause_decided_by, \
           p.version AS pause_version, p.updated_at AS pause_updated_at, \
           (SELECT COUNT(*) FROM mentee_assignments a WHERE a.mentor_id = m.user_id AND a.status = 'active') AS mentee_count, \
           (SELECT COUNT(*) FROM mentee_assignments a JOIN flags fl ON fl.mentee_id = a.mentee_id \
              WHERE a.mentor_id = m.user_id AND a.status = 'active' AND fl.status <> 'resolved') AS open_flags \
         FROM mentor_profiles m \
         JOIN users u ON u.id = m.user_id \
         LEFT JOIN pauses p ON p.mentor_id = m.user_id AND p.status IN ('requested', 'scheduled', 'active') \
         WHERE m.chapter_id = $1",
    );
    let mut query_args: Vec<crate::db::Arg> = vec![chapter_id.into()];
    let mut next = |sql: &mut String, clause: &str, arg: crate::db::Arg| {
        query_args.push(arg);
        sql.push_str(&clause.replace('?', &format!("${}", query_args.len())));
    };
    if let Some(c) = &f.coordinator_id {
        next(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM coordinator_assignments c WHERE c.mentor_id = m.user_id \
              AND c.coordinator_id = ? AND c.status = 'active')",
            c.into(),
        );
    }
    if let Some(s) = f.status {
        next(&mut sql, " AND m.status = ?", s.as_str().into());
    }
    if let Some(t) = f.certification_expires_before {
        next(
            &mut sql,
            " AND m.certification_expires_at IS NOT NULL AND m.certification_expires_at < ?",
            t.into(),
        );
    }
    if let Some(n) = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        next(
            &mut sql,
            " AND LOWER(u.display_name) LIKE ? ESCAPE '\\'",
            like_pattern(n).into(),
        );
    }
    if let Some((name, id)) = &after {
        next(&mut sql, " AND (u.display_name > ?", name.into());
        next(&mut sql, " OR (u.display_name = ?", name.into());
        next(&mut sql, " AND m.user_id > ?))", id.into());
    }
    next(
        &mut sql,
        " ORDER BY u.display_name, m.user_id LIMIT ?",
        (i64::from(f.limit) + 1).into(),
    );

    let mut query = q(sql);
    for a in query_args {
        query = query.bind(a);
    }
    let mut items: Vec<RosterEntry> = tx.fetch_all(query).await?;
    let next_cursor = if items.len() > f.limit as usize {
        items.truncate(f.limit as usize);
        items
            .last()
            .map(|e| encode_cursor(&e.mentor.display_name, &e.mentor.id))
    } else {
        None
    };
    Ok(Ok(RosterPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor("Ada Lovelace", "0192");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("Ada Lovelace".to_owned(), "0192".to_owned())
        );
        assert!(decode_cursor("not base64!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("{}")).is_err()
        );
    }

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("50%_A"), "%50\\%\\_a%");
    }
}
