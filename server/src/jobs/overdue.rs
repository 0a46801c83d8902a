//! Overdue detection: an open or in-progress item past its SLA is marked once (audited,
//! synced, and its mentor's coordinator notified). Queues already sort such items first by
//! their SLA; the mark is what makes the miss a recorded event.

use super::apply;
use crate::db::{Db, q};
use crate::domain::SystemCommand;

/// Marks the chapter's newly overdue items.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.read().await?;
    let due: Vec<String> = tx
        .fetch_all(
            q("SELECT id FROM work_items WHERE chapter_id = $1 AND status IN ('open', 'in_progress') \
               AND sla_due_at < $2 AND overdue_at IS NULL ORDER BY sla_due_at, id")
            .bind(chapter_id)
            .bind(now),
        )
        .await?;
    tx.rollback().await?;
    let mut changed = 0;
    for item_id in due {
        changed +=
            u64::from(apply(db, chapter_id, now, &SystemCommand::MarkOverdue { item_id }).await?);
    }
    Ok(changed)
}
