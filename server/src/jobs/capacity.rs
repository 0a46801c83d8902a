//! Capacity check: a mentor holding more active mentees than their weekly slots (possible
//! when capacity is lowered after assignments) is recorded as an `over_capacity` finding,
//! which the coordinator dashboard counts. Assignments are left alone: which mentee to
//! move is a coordinator's decision.

use super::findings::{self, Found, Recorded};
use crate::db::{Db, q};

/// The kind of finding this check records.
pub const OVER_CAPACITY: &str = "over_capacity";

/// Records the chapter's over-capacity mentors.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<Recorded, sqlx::Error> {
    let mut tx = db.read().await?;
    let over: Vec<(String, i64, i64)> = tx
        .fetch_all(
            q(
                "SELECT m.user_id, m.capacity_weekly, COUNT(a.id) FROM mentor_profiles m \
               JOIN mentee_assignments a ON a.mentor_id = m.user_id AND a.status = 'active' \
               WHERE m.chapter_id = $1 GROUP BY m.user_id, m.capacity_weekly \
               HAVING COUNT(a.id) > m.capacity_weekly ORDER BY m.user_id",
            )
            .bind(chapter_id),
        )
        .await?;
    tx.rollback().await?;
    let found: Vec<Found> = over
        .into_iter()
        .map(|(mentor, capacity, held)| Found {
            kind: OVER_CAPACITY,
            entity: "mentor",
            entity_id: mentor.clone(),
            mentor_id: Some(mentor),
            details: serde_json::json!({"capacity_weekly": capacity, "active_mentees": held}),
        })
        .collect();
    findings::record(db, chapter_id, &[OVER_CAPACITY], now, &found).await
}
