//! Recording what checks find. A finding stays open while runs keep seeing it and closes
//! (`resolved_at`) when a run no longer does; nothing about the row itself is changed.

use crate::db::{Db, q};
use serde_json::Value;

/// One thing a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// What kind of discrepancy.
    pub kind: &'static str,
    /// The kind of row.
    pub entity: &'static str,
    /// The row.
    pub entity_id: String,
    /// The mentor concerned (who sees it on their dashboard).
    pub mentor_id: Option<String>,
    /// Expected and found values.
    pub details: Value,
}

/// What a recording changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Findings seen for the first time.
    pub new: u64,
    /// Findings still open from earlier runs.
    pub still_open: u64,
    /// Earlier findings no longer seen, now closed.
    pub resolved: u64,
}

/// Records the complete result of one check over `kinds` in a chapter.
pub async fn record(
    db: &Db,
    chapter_id: &str,
    kinds: &[&str],
    now: i64,
    found: &[Found],
) -> Result<Recorded, sqlx::Error> {
    let mut out = Recorded::default();
    let mut tx = db.write().await?;
    for f in found {
        let seen = tx
            .execute(
                q("UPDATE findings SET last_seen_at = $1, details = $2 WHERE kind = $3 AND entity = $4 \
                   AND entity_id = $5 AND resolved_at IS NULL")
                .bind(now)
                .bind(f.details.to_string())
                .bind(f.kind)
                .bind(f.entity)
                .bind(f.entity_id.as_str()),
            )
            .await?;
        if seen > 0 {
            out.still_open += 1;
            continue;
        }
        tx.execute(
            q("INSERT INTO findings (id, chapter_id, kind, entity, entity_id, mentor_id, details, first_seen_at, \
               last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(chapter_id)
            .bind(f.kind)
            .bind(f.entity)
            .bind(f.entity_id.as_str())
            .bind(f.mentor_id.clone())
            .bind(f.details.to_string())
            .bind(now),
        )
        .await?;
        out.new += 1;
    }
    for kind in kinds {
        out.resolved += tx
            .execute(
                q(
                    "UPDATE findings SET resolved_at = $1 WHERE chapter_id = $2 AND kind = $3 \
                   AND resolved_at IS NULL AND last_seen_at < $1",
                )
                .bind(now)
                .bind(chapter_id)
                .bind(*kind),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(out)
}
