//! The mentor dashboard: queue counts, the day's sessions, mentees at risk, slots used.

use crate::db::{Tx, q};
use crate::rows::SESSION_COLUMNS;
use mentorsync_protocol::FlagSeverity;
use mentorsync_protocol::dashboard::{AtRiskMentee, Capacity, MentorDashboard, QueueStats};
use mentorsync_protocol::model::Session;
use std::collections::BTreeMap;

/// Dashboards of every mentor of `chapter_id` (or just `mentor_id`), for the day
/// `[day_start, day_end)`, keyed by mentor id.
pub async fn compute(
    tx: &mut Tx,
    chapter_id: &str,
    mentor_id: Option<&str>,
    now: i64,
    (day_start, day_end): (i64, i64),
) -> Result<BTreeMap<String, MentorDashboard>, sqlx::Error> {
    // `$2` is the mentor filter: NULL means every mentor of the chapter.
    let only = "($2 IS NULL OR t.mentor_id = $2)";
    let capacity: Vec<(String, i64, i64)> = tx
        .fetch_all(
            q(
                "SELECT t.user_id, t.capacity_weekly, (SELECT COUNT(*) FROM mentee_assignments a \
               WHERE a.mentor_id = t.user_id AND a.status = 'active') FROM mentor_profiles t \
               WHERE t.chapter_id = $1 AND ($2 IS NULL OR t.user_id = $2)",
            )
            .bind(chapter_id)
            .bind(mentor_id),
        )
        .await?;
    let mut out: BTreeMap<String, MentorDashboard> = capacity
        .into_iter()
        .map(|(id, weekly, used)| {
            let d = MentorDashboard {
                mentor_id: id.clone(),
                capacity: Capacity {
                    used,
                    weekly,
                    label: format!("{used}/{weekly} weekly slots"),
                },
                day_start,
                day_end,
                computed_at: now,
                ..Default::default()
            };
            (id, d)
        })
        .collect();

    let items: Vec<(String, String, i64)> = tx
        .fetch_all(
            q(format!(
                "SELECT t.mentor_id, t.status, t.sla_due_at FROM work_items t WHERE t.chapter_id = $1 \
                 AND {only} AND t.mentor_id IS NOT NULL AND t.status IN ('open', 'in_progress')"
            ))
            .bind(chapter_id)
            .bind(mentor_id),
        )
        .await?;
    for (mentor, status, due) in items {
        let Some(d) = out.get_mut(&mentor) else {
            continue;
        };
        let queue: &mut QueueStats = &mut d.queue;
        if status == "open" {
            queue.open += 1;
        } else {
            queue.in_progress += 1;
        }
        if due < now {
            queue.overdue += 1;
        }
        if (day_start..day_end).contains(&due) {
            queue.due_today += 1;
        }
    }

    let sessions: Vec<Session> = tx
        .fetch_all(
            q(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions t WHERE t.chapter_id = $1 AND {only} \
                 AND t.scheduled_at >= $3 AND t.scheduled_at < $4 AND t.status <> 'cancelled' \
                 ORDER BY t.scheduled_at, t.id"
            ))
            .bind(chapter_id)
            .bind(mentor_id)
            .bind(day_start)
            .bind(day_end),
        )
        .await?;
    for mut s in sessions {
        if let Some(d) = out.get_mut(&s.mentor_id) {
            // The notes document is for the session screen, not the day's list.
            s.notes_doc = None;
            d.today_sessions.push(s);
        }
    }

    let flags: Vec<(String, String, String, String)> = tx
        .fetch_all(
            q(format!(
                "SELECT t.mentor_id, f.mentee_id, u.display_name, f.severity FROM flags f \
                 JOIN mentee_assignments t ON t.mentee_id = f.mentee_id AND t.status = 'active' \
                 JOIN users u ON u.id = f.mentee_id \
                 WHERE f.chapter_id = $1 AND {only} AND f.status <> 'resolved' ORDER BY f.mentee_id"
            ))
            .bind(chapter_id)
            .bind(mentor_id),
        )
        .await?;
    for (mentor, mentee_id, display_name, severity) in flags {
        let Some(d) = out.get_mut(&mentor) else {
            continue;
        };
        let severity: Option<FlagSeverity> = severity.parse().ok();
        match d.at_risk.iter_mut().find(|m| m.mentee_id == mentee_id) {
            Some(m) => {
                m.open_flags += 1;
                m.highest_severity = m.highest_severity.max(severity);
            }
            None => d.at_risk.push(AtRiskMentee {
                mentee_id,
                display_name,
                open_flags: 1,
                highest_severity: severity,
            }),
        }
    }
    for d in out.values_mut() {
        d.at_risk.sort_by(|a, b| {
            b.highest_severity
                .cmp(&a.highest_severity)
                .then(b.open_flags.cmp(&a.open_flags))
                .then(a.display_name.cmp(&b.display_name))
        });
    }
    Ok(out)
}
