//! The mentee cockpit: one mentee's assignment, sessions, submissions, flags and open
//! work, read in one snapshot.

use crate::db::{Tx, q};
use crate::rows::{
    ASSIGNMENT_COLUMNS, FLAG_COLUMNS, SESSION_COLUMNS, SUBMISSION_COLUMNS, StoredWorkItem,
    WORK_ITEM_COLUMNS,
};
use mentorsync_protocol::model::{Cockpit, Mentee};

/// How many recent sessions and submissions the cockpit shows.
const RECENT: i64 = 20;

/// Assembles the cockpit of a mentee already loaded (and access-checked) by the caller.
pub async fn cockpit(tx: &mut Tx, mentee: Mentee, now: i64) -> Result<Cockpit, sqlx::Error> {
    let id = mentee.id.clone();
    let assignment = tx
        .fetch_optional(q(format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'"
        ))
        .bind(id.as_str()))
        .await?;
    let upcoming_sessions = tx
        .fetch_all(
            q(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE mentee_id = $1 AND status = 'scheduled' \
                 AND scheduled_at >= $2 ORDER BY scheduled_at LIMIT $3"
            ))
            .bind(id.as_str())
            .bind(now)
            .bind(RECENT),
        )
        .await?;
    let recent_sessions = tx
        .fetch_all(
            q(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE mentee_id = $1 \
                 AND (status <> 'scheduled' OR scheduled_at < $2) ORDER BY scheduled_at DESC LIMIT $3"
            ))
            .bind(id.as_str())
            .bind(now)
            .bind(RECENT),
        )
        .await?;
    let submissions = tx
        .fetch_all(
            q(format!(
                "SELECT {SUBMISSION_COLUMNS} FROM mission_submissions WHERE mentee_id = $1 \
                 ORDER BY submitted_at DESC LIMIT $2"
            ))
            .bind(id.as_str())
            .bind(RECENT),
        )
        .await?;
    let open_flags = tx
        .fetch_all(
            q(format!(
                "SELECT {FLAG_COLUMNS} FROM flags WHERE mentee_id = $1 AND status <> 'resolved' ORDER BY created_at DESC"
            ))
            .bind(id.as_str()),
        )
        .await?;
    let items: Vec<StoredWorkItem> = tx
        .fetch_all(
            q(format!(
                "SELECT {WORK_ITEM_COLUMNS} FROM work_items WHERE mentee_id = $1 \
                 AND status IN ('open', 'in_progress') ORDER BY sla_due_at"
            ))
            .bind(id.as_str()),
        )
        .await?;
    Ok(Cockpit {
        mentee,
        assignment,
        upcoming_sessions,
        recent_sessions,
        submissions,
        open_flags,
        open_work_items: items.into_iter().map(|i| i.at(now)).collect(),
    })
}
