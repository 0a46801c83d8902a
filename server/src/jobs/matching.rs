//! Auto-matching: each mentee without an active mentor is offered to the active mentor
//! with free capacity whose specialties share most of the mentee's interests (then the
//! one with most free slots, then by id, so runs are reproducible). The assignment itself
//! is the `assign_mentee` command as `system`, which re-checks status and capacity under a
//! row lock, so a paused, inactive or full mentor never gets one.

use crate::db::{Db, DbRow, FromDb, q};
use crate::domain::{Actor, DomainError, execute};
use mentorsync_protocol::Command;
use mentorsync_protocol::command::AssignMentee;
use std::collections::BTreeSet;

/// Mentees considered per run; the rest wait for the next.
const BATCH: i64 = 2_000;

struct Candidate {
    id: String,
    specialties: BTreeSet<String>,
    free: i64,
}

impl FromDb for Candidate {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let specialties: Vec<String> = r.json("specialties")?;
        let capacity: i64 = r.get("capacity_weekly")?;
        let held: i64 = r.get("held")?;
        Ok(Candidate {
            id: r.get("user_id")?,
            specialties: specialties.into_iter().map(|s| s.to_lowercase()).collect(),
            free: capacity - held,
        })
    }
}

/// Picks the best mentor for `interests` among those with free slots.
fn best<'a>(candidates: &'a [Candidate], interests: &BTreeSet<String>) -> Option<&'a Candidate> {
    candidates.iter().filter(|c| c.free > 0).max_by(|a, b| {
        let overlap = |c: &Candidate| c.specialties.intersection(interests).count();
        overlap(a)
            .cmp(&overlap(b))
            .then(a.free.cmp(&b.free))
            .then(b.id.cmp(&a.id))
    })
}

/// Assigns the chapter's unassigned mentees; returns how many were assigned.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.read().await?;
    let mentees: Vec<(String, String)> = tx
        .fetch_all(
            q("SELECT p.user_id, p.interests FROM mentee_profiles p WHERE p.chapter_id = $1 AND NOT EXISTS \
               (SELECT 1 FROM mentee_assignments a WHERE a.mentee_id = p.user_id AND a.status = 'active') \
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id AND u.status = 'active') \
               ORDER BY p.user_id LIMIT $2")
            .bind(chapter_id)
            .bind(BATCH),
        )
        .await?;
    let mut candidates: Vec<Candidate> = if mentees.is_empty() {
        Vec::new()
    } else {
        tx.fetch_all(
            q("SELECT m.user_id, m.specialties, m.capacity_weekly, (SELECT COUNT(*) FROM mentee_assignments a \
               WHERE a.mentor_id = m.user_id AND a.status = 'active') AS held FROM mentor_profiles m \
               WHERE m.chapter_id = $1 AND m.status = 'active' \
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id AND u.status = 'active') \
               AND (m.certification_expires_at IS NULL OR m.certification_expires_at > $2)")
            .bind(chapter_id)
            .bind(now),
        )
        .await?
    };
    tx.rollback().await?;
    let actor = Actor::system(chapter_id);
    let mut assigned = 0;
    for (mentee_id, interests) in mentees {
        let interests: BTreeSet<String> = serde_json::from_str::<Vec<String>>(&interests)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.to_lowercase())
            .collect();
        let Some(pick) = best(&candidates, &interests).map(|c| c.id.clone()) else {
            break; // nobody has a free slot
        };
        let command = Command::AssignMentee(AssignMentee {
            mentor_id: pick.clone(),
            mentee_id,
            assignment_id: None,
        });
        let mut tx = db.write().await?;
        let outcome = execute(&mut tx, &actor, now, &command, None).await;
        let slot = candidates.iter_mut().find(|c| c.id == pick);
        match outcome {
            Ok(_) => {
                tx.commit().await?;
                assigned += 1;
                if let Some(c) = slot {
                    c.free -= 1;
                }
            }
            Err(DomainError::Database(e)) => return Err(e),
            Err(DomainError::Refused(r))
                if r.code == mentorsync_protocol::ErrorCode::MENTEE_ALREADY_ASSIGNED =>
            {
                tx.rollback().await?;
            }
            Err(e) => {
                // Paused or filled since we looked: stop offering this mentor this run.
                tracing::debug!(mentor = %pick, reason = %e, "auto-match skipped a mentor");
                tx.rollback().await?;
                if let Some(c) = slot {
                    c.free = 0;
                }
            }
        }
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, specialties: &[&str], free: i64) -> Candidate {
        Candidate {
            id: id.into(),
            specialties: specialties.iter().map(|s| s.to_string()).collect(),
            free,
        }
    }

    #[test]
    fn specialties_first_then_free_slots_and_never_a_full_mentor() {
        let interests: BTreeSet<String> = ["python".to_string()].into();
        let cs = [
            c("a", &[], 9),
            c("b", &["python"], 1),
            c("c", &["python"], 0),
        ];
        assert_eq!(best(&cs, &interests).map(|c| c.id.as_str()), Some("b"));
        let cs = [c("a", &[], 9), c("b", &[], 3)];
        assert_eq!(best(&cs, &interests).map(|c| c.id.as_str()), Some("a"));
        assert!(best(&[c("a", &["python"], 0)], &interests).is_none());
    }
}
