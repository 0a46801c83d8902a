//! Director figures per cohort. Every figure is over the cohort's enrolled mentees
//! (`mentee_profiles.cohort_id`) and comes with the counts it is computed from; see
//! docs/dashboards.md for each definition.

use crate::db::{Tx, q};
use mentorsync_protocol::FlagSeverity;
use mentorsync_protocol::dashboard::{CohortFigures, DirectorSummary, Rate, median};
use std::collections::BTreeMap;

/// Figures of every cohort of `chapter_id` (or just `cohort_id`), keyed by cohort id.
pub async fn compute(
    tx: &mut Tx,
    chapter_id: &str,
    cohort_id: Option<&str>,
    now: i64,
) -> Result<BTreeMap<String, CohortFigures>, sqlx::Error> {
    let cohorts: Vec<(String, String, i64)> = tx
        .fetch_all(
            q("SELECT id, name, seats FROM cohorts WHERE chapter_id = $1 AND ($2 IS NULL OR id = $2)")
                .bind(chapter_id)
                .bind(cohort_id),
        )
        .await?;
    // Grouped counts over enrolled mentees `p`; `$2` filters to one cohort.
    let only = "p.chapter_id = $1 AND p.cohort_id IS NOT NULL AND ($2 IS NULL OR p.cohort_id = $2)";
    let counts = |sql: String| q(sql).bind(chapter_id).bind(cohort_id);
    let per_cohort = |rows: Vec<(String, i64)>| rows.into_iter().collect::<BTreeMap<_, _>>();

    let enrolled = per_cohort(
        tx.fetch_all(counts(format!(
            "SELECT p.cohort_id, COUNT(*) FROM mentee_profiles p WHERE {only} GROUP BY p.cohort_id"
        )))
        .await?,
    );
    let covered = per_cohort(
        tx.fetch_all(counts(format!(
            "SELECT p.cohort_id, COUNT(*) FROM mentee_profiles p \
             JOIN mentee_assignments a ON a.mentee_id = p.user_id AND a.status = 'active' \
             JOIN mentor_profiles m ON m.user_id = a.mentor_id AND m.status = 'active' \
             WHERE {only} GROUP BY p.cohort_id"
        )))
        .await?,
    );
    let sessions: Vec<(String, i64, i64)> = tx
        .fetch_all(
            counts(format!(
                "SELECT p.cohort_id, SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END), COUNT(*) \
                 FROM sessions s JOIN mentee_profiles p ON p.user_id = s.mentee_id \
                 WHERE {only} AND s.scheduled_at < $3 AND s.status <> 'cancelled' GROUP BY p.cohort_id"
            ))
            .bind(now),
        )
        .await?;
    let items: Vec<(String, i64, i64)> = tx
        .fetch_all(
            counts(format!(
                "SELECT p.cohort_id, SUM(CASE WHEN w.sla_due_at < $3 THEN 1 ELSE 0 END), COUNT(*) \
                 FROM work_items w JOIN mentee_profiles p ON p.user_id = w.mentee_id \
                 WHERE {only} AND w.status IN ('open', 'in_progress') GROUP BY p.cohort_id"
            ))
            .bind(now),
        )
        .await?;
    let flags: Vec<(String, String, i64)> = tx
        .fetch_all(counts(format!(
            "SELECT p.cohort_id, f.severity, COUNT(*) FROM flags f \
             JOIN mentee_profiles p ON p.user_id = f.mentee_id \
             WHERE {only} AND f.status <> 'resolved' GROUP BY p.cohort_id, f.severity"
        )))
        .await?;
    let funnel: Vec<(String, String, i64)> = tx
        .fetch_all(counts(format!(
            "SELECT p.cohort_id, s.status, COUNT(*) FROM mission_submissions s \
             JOIN mentee_profiles p ON p.user_id = s.mentee_id WHERE {only} GROUP BY p.cohort_id, s.status"
        )))
        .await?;
    // A resubmission moves `submitted_at` on; only a decided submission's review time is
    // the time its current version waited.
    let reviews: Vec<(String, i64)> = tx
        .fetch_all(counts(format!(
            "SELECT p.cohort_id, s.reviewed_at - s.submitted_at FROM mission_submissions s \
             JOIN mentee_profiles p ON p.user_id = s.mentee_id WHERE {only} \
             AND s.status IN ('approved', 'changes_requested') AND s.reviewed_at IS NOT NULL"
        )))
        .await?;

    let mut out: BTreeMap<String, CohortFigures> = cohorts
        .into_iter()
        .map(|(id, name, seats)| {
            let n = enrolled.get(&id).copied().unwrap_or(0);
            let f = CohortFigures {
                seats_used: Rate::of(n, seats),
                mentor_coverage: Rate::of(covered.get(&id).copied().unwrap_or(0), n),
                session_completion: Rate::of(0, 0),
                overdue_rate: Rate::of(0, 0),
                cohort_id: id.clone(),
                name,
                computed_at: now,
                ..Default::default()
            };
            (id, f)
        })
        .collect();
    for (id, done, all) in sessions {
        if let Some(f) = out.get_mut(&id) {
            f.session_completion = Rate::of(done, all);
        }
    }
    for (id, overdue, open) in items {
        if let Some(f) = out.get_mut(&id) {
            f.overdue_rate = Rate::of(overdue, open);
        }
    }
    for (id, severity, n) in flags {
        if let (Some(f), Ok(sev)) = (out.get_mut(&id), severity.parse::<FlagSeverity>()) {
            f.open_flags.add(sev, n);
        }
    }
    for (id, status, n) in funnel {
        let Some(f) = out.get_mut(&id) else { continue };
        match status.as_str() {
            "submitted" => f.funnel.submitted += n,
            "approved" => f.funnel.approved += n,
            _ => f.funnel.changes_requested += n,
        }
    }
    let mut durations: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, ms) in reviews {
        durations.entry(id).or_default().push(ms);
    }
    for (id, mut ms) in durations {
        if let Some(f) = out.get_mut(&id) {
            f.reviewed = ms.len() as i64;
            f.median_review_ms = median(&mut ms);
        }
    }
    Ok(out)
}

/// Adds cohorts up: rates by their counts, computation time the oldest.
pub fn summarize(cohorts: &[CohortFigures]) -> DirectorSummary {
    let mut s = DirectorSummary {
        cohorts: cohorts.len() as i64,
        ..Default::default()
    };
    for c in cohorts {
        s.seats_used = s.seats_used.plus(&c.seats_used);
        s.mentor_coverage = s.mentor_coverage.plus(&c.mentor_coverage);
        s.session_completion = s.session_completion.plus(&c.session_completion);
        s.overdue_rate = s.overdue_rate.plus(&c.overdue_rate);
        s.open_flags = s.open_flags.plus(&c.open_flags);
        s.funnel = s.funnel.plus(&c.funnel);
        s.computed_at = Some(
            s.computed_at
                .map_or(c.computed_at, |t| t.min(c.computed_at)),
        );
    }
    s
}
