//! Pauses on time: a scheduled pause starts when `starts_at` passes (the mentor is
//! paused), an active pause ends when `ends_at` passes (the mentor resumes).

use super::apply;
use crate::db::{Db, q};
use crate::domain::SystemCommand;

/// Starts and ends the pauses of a chapter that are due; returns how many changed.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.read().await?;
    let starting: Vec<String> = tx
        .fetch_all(
            q("SELECT id FROM pauses WHERE chapter_id = $1 AND status = 'scheduled' AND starts_at <= $2 ORDER BY starts_at, id")
                .bind(chapter_id)
                .bind(now),
        )
        .await?;
    let ending: Vec<String> = tx
        .fetch_all(
            q("SELECT id FROM pauses WHERE chapter_id = $1 AND status = 'active' AND ends_at IS NOT NULL \
               AND ends_at <= $2 ORDER BY ends_at, id")
            .bind(chapter_id)
            .bind(now),
        )
        .await?;
    tx.rollback().await?;
    let mut changed = 0;
    for pause_id in starting {
        changed +=
            u64::from(apply(db, chapter_id, now, &SystemCommand::StartPause { pause_id }).await?);
    }
    for pause_id in ending {
        changed +=
            u64::from(apply(db, chapter_id, now, &SystemCommand::EndPause { pause_id }).await?);
    }
    Ok(changed)
}
