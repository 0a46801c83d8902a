//! A mentor's work queue: open and in-progress items, overdue first, then by priority
//! (urgent → low), then by SLA. "Overdue" is computed against the clock at read time, so
//! the order is right even between two runs of the overdue job.

use crate::db::{Tx, q};
use crate::rows::{StoredWorkItem, WORK_ITEM_COLUMNS};
use mentorsync_protocol::model::WorkQueue;

/// Whose items to list.
#[derive(Debug, Clone)]
pub enum QueueOwner {
    /// One mentor's queue.
    Mentor(String),
    /// All mentors a coordinator currently coordinates.
    CoordinatedBy(String),
    /// The whole chapter (admins).
    Chapter,
}

/// The top `limit` items of a queue at time `now`.
pub async fn work_queue(
    tx: &mut Tx,
    chapter_id: &str,
    owner: &QueueOwner,
    now: i64,
    limit: u32,
) -> Result<WorkQueue, sqlx::Error> {
    let (filter, arg) = match owner {
        QueueOwner::Mentor(m) => ("AND mentor_id = $3", Some(m.as_str())),
        QueueOwner::CoordinatedBy(c) => (
            "AND mentor_id IN (SELECT mentor_id FROM coordinator_assignments WHERE coordinator_id = $3 AND status = 'active')",
            Some(c.as_str()),
        ),
        QueueOwner::Chapter => ("AND $3 IS NULL", None),
    };
    let sql = format!(
        "SELECT {WORK_ITEM_COLUMNS} FROM work_items \
         WHERE chapter_id = $1 AND status IN ('open', 'in_progress') {filter} \
         ORDER BY CASE WHEN sla_due_at < $2 THEN 0 ELSE 1 END, \
                  CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
                  sla_due_at, id \
         LIMIT $4"
    );
    let items: Vec<StoredWorkItem> = tx
        .fetch_all(
            q(sql)
                .bind(chapter_id)
                .bind(now)
                .bind(arg)
                .bind(i64::from(limit)),
        )
        .await?;
    Ok(WorkQueue {
        items: items.into_iter().map(|i| i.at(now)).collect(),
    })
}
