//! Compaction of the change log. Entries older than the retention are deleted and the
//! horizon moves up to the newest deleted position; a cursor below the horizon gets a full
//! snapshot on its next round instead of a silent gap.

use crate::db::{Tx, q};

/// Deletes change-log entries written before `before` (epoch ms). Returns the new horizon.
pub async fn compact(tx: &mut Tx, before: i64) -> Result<i64, sqlx::Error> {
    let newest_old: i64 = tx
        .fetch_one(
            q("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM change_log WHERE at < $1")
                .bind(before),
        )
        .await?;
    if newest_old > 0 {
        tx.execute(q("DELETE FROM change_log WHERE position <= $1").bind(newest_old))
            .await?;
        tx.execute(
            q("UPDATE sync_horizon SET position = $1 WHERE id = 1 AND position < $1")
                .bind(newest_old),
        )
        .await?;
    }
    tx.fetch_one(q("SELECT position FROM sync_horizon WHERE id = 1"))
        .await
}
