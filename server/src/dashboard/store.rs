//! Dashboard rows: computed figures kept in `dashboards`, synced like any other row.
//!
//! A row's version moves only when its figures change (the computation time aside), so a
//! refresh that finds nothing new sends nothing to phones; `computed_at` in the table
//! always says when the figures were last confirmed, and on a synced row when they last
//! changed.

use super::{cohort, coordinator, mentor};
use crate::db::Acting;
use crate::db::{ChangeRow, Db, DbRow, FromDb, Scope, Tx, q};
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::dashboard::{CohortFigures, DashboardKind};
use mentorsync_protocol::local_time;
use serde_json::Value;

/// What one refresh of a chapter changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Dashboard rows computed.
    pub computed: u64,
    /// Rows whose figures changed (and so were synced).
    pub changed: u64,
}

/// Stores one dashboard whose stored figures and version are `current`; returns whether
/// its figures changed. Unchanged figures are not written here: the caller confirms them
/// all at once (`computed_at`).
async fn save(
    tx: &mut Tx,
    chapter_id: &str,
    now: i64,
    (kind, subject_id, figures): (DashboardKind, &str, Value),
    current: Option<&(String, i64)>,
) -> Result<bool, sqlx::Error> {
    let id = format!("{kind}:{subject_id}");
    let mut scope = Scope::default();
    match kind {
        DashboardKind::Mentor => scope.mentor_id = Some(subject_id.to_owned()),
        DashboardKind::Coordinator => scope.coordinator_id = Some(subject_id.to_owned()),
        DashboardKind::Cohort => scope.cohort_id = Some(subject_id.to_owned()),
    }
    let text = figures.to_string();
    let version = match current {
        Some((old, _))
            if serde_json::from_str::<Value>(old)
                .is_ok_and(|old| super::same_figures(&old, &figures)) =>
        {
            return Ok(false);
        }
        Some((_, v)) => {
            tx.execute(
                q("UPDATE dashboards SET figures = $1, computed_at = $2, version = version + 1, updated_at = $2 \
                   WHERE id = $3")
                .bind(text)
                .bind(now)
                .bind(id.as_str()),
            )
            .await?;
            v + 1
        }
        None => {
            tx.execute(
                q("INSERT INTO dashboards (id, chapter_id, kind, subject_id, mentor_id, coordinator_id, cohort_id, \
                   figures, computed_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $9)")
                .bind(id.as_str())
                .bind(chapter_id)
                .bind(kind.as_str())
                .bind(subject_id)
                .bind(scope.mentor_id.clone())
                .bind(scope.coordinator_id.clone())
                .bind(scope.cohort_id.clone())
                .bind(text)
                .bind(now),
            )
            .await?;
            1
        }
    };
    tx.record_change(ChangeRow {
        chapter_id: chapter_id.to_owned(),
        entity: Entity::Dashboard.as_str(),
        entity_id: id,
        remove: false,
        version,
        scope,
        at: now,
    });
    Ok(true)
}

/// Which dashboards of a chapter a refresh recomputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subjects<'a> {
    /// Every row: mentors', coordinators' and cohorts'.
    All,
    /// Mentors' and coordinators' rows (the cheap part of a chapter, a few tens of ms for
    /// 1,000 mentors; cohorts' figures over every mentee cost three times that).
    People,
    /// These cohorts.
    Cohorts(&'a [String]),
}

/// The mentors' dashboards, each over the day of the mentor's own time zone (else their
/// chapter's): one computation per zone the chapter's mentors live in.
async fn mentors_by_zone(
    tx: &mut Tx,
    chapter_id: &str,
    now: i64,
    rows: &mut Vec<(DashboardKind, String, Value)>,
) -> Result<(), sqlx::Error> {
    let zones: Vec<(String, Option<String>)> = tx
        .fetch_all(
            q("SELECT m.user_id, COALESCE(u.time_zone, c.time_zone) FROM mentor_profiles m \
               JOIN users u ON u.id = m.user_id JOIN chapters c ON c.id = m.chapter_id WHERE m.chapter_id = $1")
            .bind(chapter_id),
        )
        .await?;
    let mut by_zone: std::collections::BTreeMap<Option<String>, Vec<String>> = Default::default();
    for (mentor, zone) in zones {
        by_zone.entry(zone).or_default().push(mentor);
    }
    for (zone, mentors) in by_zone {
        let day = local_time::day_bounds(now, zone.as_deref());
        let one = match mentors.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        };
        let mine: std::collections::HashSet<&String> = mentors.iter().collect();
        for (id, d) in mentor::compute(tx, chapter_id, one, now, day).await? {
            if mine.contains(&id) {
                rows.push((DashboardKind::Mentor, id, json(&d)));
            }
        }
    }
    Ok(())
}

/// Recomputes dashboards of a chapter and stores them.
pub async fn refresh(
    db: &Db,
    chapter_id: &str,
    now: i64,
    subjects: Subjects<'_>,
) -> Result<RefreshReport, sqlx::Error> {
    let mut rows: Vec<(DashboardKind, String, Value)> = Vec::new();
    let mut tx = db.read_as(Acting::Chapter(chapter_id)).await?;
    if let Subjects::Cohorts(ids) = subjects {
        // One cohort is read on its own; several in the chapter's grouped queries
        // (eight queries in all rather than eight per cohort).
        let only = match ids {
            [one] => Some(one.as_str()),
            _ => None,
        };
        for (id, f) in cohort::compute(&mut tx, chapter_id, only, now).await? {
            if ids.contains(&id) {
                rows.push((DashboardKind::Cohort, id, json(&f)));
            }
        }
    } else {
        mentors_by_zone(&mut tx, chapter_id, now, &mut rows).await?;
        let each = coordinator::Whose::EachCoordinator;
        for (id, f) in coordinator::compute(&mut tx, chapter_id, each, now).await? {
            rows.push((DashboardKind::Coordinator, id, json(&f)));
        }
        if matches!(subjects, Subjects::All) {
            for (id, f) in cohort::compute(&mut tx, chapter_id, None, now).await? {
                rows.push((DashboardKind::Cohort, id, json(&f)));
            }
        }
    }
    tx.rollback().await?;
    let mut report = RefreshReport::default();
    let mut tx = db.write_as(Acting::Chapter(chapter_id)).await?;
    let kinds: [&str; 3] = match subjects {
        Subjects::All => ["mentor", "coordinator", "cohort"],
        Subjects::People => ["mentor", "coordinator", "coordinator"],
        Subjects::Cohorts(_) => ["cohort", "cohort", "cohort"],
    };
    // The stored figures in one read, and every unchanged row confirmed in one statement:
    // a refresh that changes a handful of 1,000 rows writes a handful.
    let current: std::collections::HashMap<String, (String, i64)> = tx
        .fetch_all::<(String, String, i64)>(
            q("SELECT id, figures, version FROM dashboards WHERE chapter_id = $1 AND kind IN ($2, $3, $4)")
                .bind(chapter_id)
                .bind(kinds[0])
                .bind(kinds[1])
                .bind(kinds[2]),
        )
        .await?
        .into_iter()
        .map(|(id, figures, version)| (id, (figures, version)))
        .collect();
    let computed: std::collections::HashSet<String> =
        rows.iter().map(|(k, id, _)| format!("{k}:{id}")).collect();
    // A stored row no longer computed (its subject left) is not confirmed with the rest.
    let whole_kinds =
        !matches!(subjects, Subjects::Cohorts(_)) && current.keys().all(|k| computed.contains(k));
    let mut unchanged = Vec::new();
    for (kind, id, figures) in rows {
        report.computed += 1;
        let key = format!("{kind}:{id}");
        if save(
            &mut tx,
            chapter_id,
            now,
            (kind, &id, figures),
            current.get(&key),
        )
        .await?
        {
            report.changed += 1;
        } else {
            unchanged.push(key);
        }
    }
    match whole_kinds {
        true => {
            tx.execute(
                q("UPDATE dashboards SET computed_at = $1 WHERE chapter_id = $2 AND kind IN ($3, $4, $5) \
                   AND computed_at < $1")
                .bind(now)
                .bind(chapter_id)
                .bind(kinds[0])
                .bind(kinds[1])
                .bind(kinds[2]),
            )
            .await?;
        }
        false => {
            for id in unchanged {
                tx.execute(
                    q("UPDATE dashboards SET computed_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id.as_str()),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(report)
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

struct Cached(CohortFigures);

impl FromDb for Cached {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let mut f: CohortFigures = r.json("figures")?;
        f.computed_at = r.get("computed_at")?;
        Ok(Cached(f))
    }
}

/// Cached figures of the cohorts a viewer sees (`director_id = None`: the whole
/// chapter), by name then id, after the keyset `after`.
pub async fn cached_cohorts(
    tx: &mut Tx,
    chapter_id: &str,
    director_id: Option<&str>,
    only: Option<&str>,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<CohortFigures>, sqlx::Error> {
    let (after_name, after_id) = after.unzip();
    let rows: Vec<Cached> = tx
        .fetch_all(
            q("SELECT d.figures, d.computed_at FROM dashboards d JOIN cohorts c ON c.id = d.subject_id \
               WHERE d.chapter_id = $1 AND d.kind = 'cohort' \
               AND ($2 IS NULL OR c.id IN (SELECT cohort_id FROM cohort_directors WHERE director_id = $2)) \
               AND ($3 IS NULL OR c.id = $3) \
               AND ($4 IS NULL OR c.name > $4 OR (c.name = $4 AND c.id > $5)) \
               ORDER BY c.name, c.id LIMIT $6")
            .bind(chapter_id)
            .bind(director_id)
            .bind(only)
            .bind(after_name)
            .bind(after_id)
            .bind(limit),
        )
        .await?;
    Ok(rows.into_iter().map(|c| c.0).collect())
}

/// The viewer's cohorts that have no cached figures yet (a cohort created since the last
/// refresh), so a read can fill them before answering.
pub async fn uncached_cohorts(
    tx: &mut Tx,
    chapter_id: &str,
    director_id: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    tx.fetch_all(
        q("SELECT c.id FROM cohorts c WHERE c.chapter_id = $1 \
           AND ($2 IS NULL OR c.id IN (SELECT cohort_id FROM cohort_directors WHERE director_id = $2)) \
           AND NOT EXISTS (SELECT 1 FROM dashboards d WHERE d.id = 'cohort:' || c.id)")
        .bind(chapter_id)
        .bind(director_id),
    )
    .await
}
