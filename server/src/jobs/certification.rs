//! Certification expiry: an active mentor whose certification has passed is paused (open
//! ended, reason "certification expired") until an admin renews it and resumes them.

use super::apply;
use crate::db::{Db, q};
use crate::domain::SystemCommand;

/// Pauses the chapter's active mentors with an expired certification.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.read().await?;
    let expired: Vec<String> = tx
        .fetch_all(
            q("SELECT user_id FROM mentor_profiles WHERE chapter_id = $1 AND status = 'active' \
               AND certification_expires_at IS NOT NULL AND certification_expires_at <= $2 ORDER BY user_id")
            .bind(chapter_id)
            .bind(now),
        )
        .await?;
    tx.rollback().await?;
    let mut changed = 0;
    for mentor_id in expired {
        let cmd = SystemCommand::ExpireCertification { mentor_id };
        changed += u64::from(apply(db, chapter_id, now, &cmd).await?);
    }
    Ok(changed)
}
