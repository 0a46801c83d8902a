//! Coordinator figures (per coordinator, or for the whole chapter for admins), and the
//! lists behind them: undeliverable notifications and open findings.

use crate::db::{DbRow, FromDb, Tx, q};
use mentorsync_protocol::dashboard::{CoordinatorFigures, Finding, UndeliverableNotification};
use std::collections::BTreeMap;

/// Whose figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose<'a> {
    /// Every coordinator of the chapter, each over the mentors they coordinate.
    EachCoordinator,
    /// One coordinator.
    Coordinator(&'a str),
    /// The whole chapter under one key (the chapter id): the admin's view.
    Chapter,
}

impl<'a> Whose<'a> {
    /// How a mentor column `m` is joined to the key the figures are grouped by. Every
    /// query binds the coordinator filter as `$2`; the chapter view names it in a
    /// condition that always holds, so both backends see the parameter used.
    fn join(self, m: &str, chapter: &str) -> (String, String) {
        match self {
            Whose::Chapter => (
                "WHERE CAST($2 AS TEXT) IS NULL".to_owned(),
                chapter.to_owned(),
            ),
            _ => (
                format!(
                    "JOIN coordinator_assignments ca ON ca.mentor_id = {m} AND ca.status = 'active' \
                     AND ($2 IS NULL OR ca.coordinator_id = $2) WHERE 1 = 1"
                ),
                "ca.coordinator_id".to_owned(),
            ),
        }
    }

    fn filter(self) -> Option<&'a str> {
        match self {
            Whose::Coordinator(id) => Some(id),
            _ => None,
        }
    }
}

/// Figures keyed by coordinator id (the chapter id for [`Whose::Chapter`]).
pub async fn compute(
    tx: &mut Tx,
    chapter_id: &str,
    whose: Whose<'_>,
    now: i64,
) -> Result<BTreeMap<String, CoordinatorFigures>, sqlx::Error> {
    let mut out: BTreeMap<String, CoordinatorFigures> = BTreeMap::new();
    match whose {
        Whose::Chapter => {
            out.insert(chapter_id.to_owned(), blank(now));
        }
        _ => {
            let ids: Vec<String> = tx
                .fetch_all(
                    q(
                        "SELECT id FROM users WHERE chapter_id = $1 AND role = 'coordinator' \
                       AND ($2 IS NULL OR id = $2)",
                    )
                    .bind(chapter_id)
                    .bind(whose.filter()),
                )
                .await?;
            for id in ids {
                out.insert(id, blank(now));
            }
        }
    }
    let run = |sql: String| q(sql).bind(chapter_id).bind(whose.filter());

    let (join, key) = whose.join("m.user_id", "m.chapter_id");
    let statuses: Vec<(String, String, i64)> = tx
        .fetch_all(run(format!(
            "SELECT {key}, m.status, COUNT(*) FROM mentor_profiles m {join} \
             AND m.chapter_id = $1 GROUP BY {key}, m.status"
        )))
        .await?;
    for (k, status, n) in statuses {
        if let Some(f) = out.get_mut(&k) {
            f.mentors += n;
            match status.as_str() {
                "active" => f.active += n,
                "paused" => f.paused += n,
                _ => f.inactive += n,
            }
        }
    }

    let (join, key) = whose.join("a.mentor_id", "fl.chapter_id");
    let flags: Vec<(String, i64)> = tx
        .fetch_all(run(format!(
            "SELECT {key}, COUNT(*) FROM flags fl \
             JOIN mentee_assignments a ON a.mentee_id = fl.mentee_id AND a.status = 'active' {join} \
             AND fl.chapter_id = $1 AND fl.status <> 'resolved' GROUP BY {key}"
        )))
        .await?;
    for (k, n) in flags {
        if let Some(f) = out.get_mut(&k) {
            f.open_flags = n;
        }
    }

    let (join, key) = whose.join("w.mentor_id", "w.chapter_id");
    let overdue: Vec<(String, i64)> = tx
        .fetch_all(
            run(format!(
                "SELECT {key}, COUNT(*) FROM work_items w {join} AND w.chapter_id = $1 \
                 AND w.status IN ('open', 'in_progress') AND w.sla_due_at < $3 GROUP BY {key}"
            ))
            .bind(now),
        )
        .await?;
    for (k, n) in overdue {
        if let Some(f) = out.get_mut(&k) {
            f.overdue_items = n;
        }
    }

    let (join, key) = whose.join("fi.mentor_id", "fi.chapter_id");
    let findings: Vec<(String, String, i64)> = tx
        .fetch_all(run(format!(
            "SELECT {key}, fi.kind, COUNT(*) FROM findings fi {join} AND fi.chapter_id = $1 \
             AND fi.resolved_at IS NULL GROUP BY {key}, fi.kind"
        )))
        .await?;
    for (k, kind, n) in findings {
        if let Some(f) = out.get_mut(&k) {
            if kind == "over_capacity" {
                f.over_capacity += n;
            } else {
                f.open_discrepancies += n;
            }
        }
    }

    // A coordinator counts the undeliverable notifications about the mentors they
    // coordinate now; the chapter view counts them all.
    let (join, key) = whose.join("n.mentor_id", "n.chapter_id");
    let undeliverable: Vec<(String, i64)> = tx
        .fetch_all(run(format!(
            "SELECT {key}, COUNT(*) FROM notifications n {join} AND n.chapter_id = $1 \
             AND n.status = 'undeliverable' GROUP BY {key}"
        )))
        .await?;
    for (k, n) in undeliverable {
        if let Some(f) = out.get_mut(&k) {
            f.undeliverable_notifications = n;
        }
    }
    Ok(out)
}

fn blank(now: i64) -> CoordinatorFigures {
    CoordinatorFigures {
        computed_at: now,
        ..Default::default()
    }
}

impl FromDb for UndeliverableNotification {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(UndeliverableNotification {
            id: r.get("id")?,
            kind: r.get("kind")?,
            mentor_id: r.get("mentor_id")?,
            entity: r.get("entity")?,
            entity_id: r.get("entity_id")?,
            message: r.get("message")?,
            reason: r.get("last_error")?,
            created_at: r.get("created_at")?,
        })
    }
}

/// The newest undeliverable notifications about the mentors `coordinator_id` coordinates
/// (the whole chapter's when `None`, for admins). Their messages name mentors and
/// mentees, so a coordinator sees only their own.
pub async fn undeliverable(
    tx: &mut Tx,
    chapter_id: &str,
    coordinator_id: Option<&str>,
    limit: i64,
) -> Result<Vec<UndeliverableNotification>, sqlx::Error> {
    tx.fetch_all(
        q("SELECT id, kind, mentor_id, entity, entity_id, message, last_error, created_at FROM notifications \
           WHERE chapter_id = $1 AND status = 'undeliverable' AND ($2 IS NULL OR mentor_id IN \
           (SELECT mentor_id FROM coordinator_assignments WHERE coordinator_id = $2 AND status = 'active')) \
           ORDER BY created_at DESC, id DESC LIMIT $3")
        .bind(chapter_id)
        .bind(coordinator_id)
        .bind(limit),
    )
    .await
}

impl FromDb for Finding {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Finding {
            id: r.get("id")?,
            kind: r.get("kind")?,
            entity: r.get("entity")?,
            entity_id: r.get("entity_id")?,
            mentor_id: r.get("mentor_id")?,
            details: r.json("details")?,
            first_seen_at: r.get("first_seen_at")?,
            last_seen_at: r.get("last_seen_at")?,
        })
    }
}

/// Open findings about the mentors `coordinator_id` coordinates (all of the chapter's
/// when `None`), newest first.
pub async fn open_findings(
    tx: &mut Tx,
    chapter_id: &str,
    coordinator_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Finding>, sqlx::Error> {
    tx.fetch_all(
        q("SELECT f.id, f.kind, f.entity, f.entity_id, f.mentor_id, f.details, f.first_seen_at, f.last_seen_at \
           FROM findings f WHERE f.chapter_id = $1 AND f.resolved_at IS NULL AND ($2 IS NULL OR f.mentor_id IN \
           (SELECT mentor_id FROM coordinator_assignments WHERE coordinator_id = $2 AND status = 'active')) \
           ORDER BY f.last_seen_at DESC, f.id LIMIT $3")
        .bind(chapter_id)
        .bind(coordinator_id)
        .bind(limit),
    )
    .await
}
