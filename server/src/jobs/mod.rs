//! The scheduled jobs of DOMAIN.md. Each job scans state and fixes what is due through the
//! domain commands as actor `system` (one transaction per row, so a row someone else just
//! changed is skipped rather than failing the run), or records what it finds. The
//! [`scheduler`] runs each job once per time slot across every server instance.

pub mod capacity;
pub mod certification;
pub mod findings;
pub mod matching;
pub mod overdue;
pub mod pauses;
pub mod reconcile;
pub mod scheduler;

use crate::db::Db;
use crate::domain::{DomainError, SystemCommand, execute_system};

pub use scheduler::{Scheduler, TickReport};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// A scheduled job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Scheduled pauses whose start passed become active; active ones whose end passed end.
    Pauses,
    /// Active mentors whose certification expired are paused.
    Certifications,
    /// Open work items past their SLA are marked overdue.
    Overdue,
    /// Unassigned mentees get an active mentor with free capacity.
    Matching,
    /// Mentors over capacity are recorded as findings.
    Capacity,
    /// Status vs. pauses vs. audit log; discrepancies are recorded, never fixed.
    Reconciliation,
    /// Dashboard rows (and the director cache) are recomputed.
    Dashboards,
}

impl Job {
    /// Every job, in the order a tick runs them (pauses before the figures that show them).
    pub const ALL: [Job; 7] = [
        Job::Pauses,
        Job::Certifications,
        Job::Overdue,
        Job::Matching,
        Job::Capacity,
        Job::Reconciliation,
        Job::Dashboards,
    ];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Job::Pauses => "pauses",
            Job::Certifications => "certifications",
            Job::Overdue => "overdue",
            Job::Matching => "matching",
            Job::Capacity => "capacity",
            Job::Reconciliation => "reconciliation",
            Job::Dashboards => "dashboards",
        }
    }

    /// How often it runs, and at what offset into the period (epoch ms, UTC).
    pub fn period(self) -> (i64, i64) {
        match self {
            Job::Pauses => (MINUTE, 0),
            Job::Certifications => (15 * MINUTE, 0),
            Job::Overdue => (5 * MINUTE, 0),
            Job::Matching => (15 * MINUTE, 0),
            Job::Capacity => (15 * MINUTE, 0),
            // Nightly, at 02:00 UTC.
            Job::Reconciliation => (24 * HOUR, 2 * HOUR),
            Job::Dashboards => (5 * MINUTE, 0),
        }
    }

    /// The start of the slot `now` falls in: the run that is due.
    pub fn slot(self, now: i64) -> i64 {
        let (period, offset) = self.period();
        (now - offset).div_euclid(period) * period + offset
    }

    /// Looks a job up by its stored name.
    pub fn by_name(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name)
    }
}

/// Runs one scheduler command in its own transaction. `Ok(false)` when the row no longer
/// qualifies or someone changed it first: the next run looks again.
pub async fn apply(
    db: &Db,
    chapter_id: &str,
    now: i64,
    command: &SystemCommand,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.write().await?;
    match execute_system(&mut tx, chapter_id, now, command).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(true)
        }
        Err(DomainError::Database(e)) => Err(e),
        Err(e) => {
            tracing::debug!(?command, reason = %e, "scheduler skipped a row");
            tx.rollback().await?;
            Ok(false)
        }
    }
}

/// Every chapter's id.
pub async fn chapters(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = db.read().await?;
    let ids = tx
        .fetch_all(crate::db::q("SELECT id FROM chapters ORDER BY id"))
        .await?;
    tx.rollback().await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_period_aligned_with_offset() {
        assert_eq!(Job::Overdue.slot(12 * MINUTE + 5), 10 * MINUTE);
        let day = 24 * HOUR;
        // 01:00 on day 10 still belongs to the run that started at 02:00 on day 9.
        assert_eq!(
            Job::Reconciliation.slot(10 * day + HOUR),
            9 * day + 2 * HOUR
        );
        assert_eq!(
            Job::Reconciliation.slot(10 * day + 3 * HOUR),
            10 * day + 2 * HOUR
        );
        for j in Job::ALL {
            assert_eq!(Job::by_name(j.name()), Some(j));
        }
    }
}
