//! Dashboard rows: computed figures kept in `dashboards`, synced like any other row.
//!
//! A row's version moves only when its figures change (the computation time aside), so a
//! refresh that finds nothing new sends nothing to phones; `computed_at` in the table
//! always says when the figures were last confirmed, and on a synced row when they last
//! changed.

use super::{cohort, coordinator, day_bounds, mentor};
use crate::db::Acting;
use crate::db::{ChangeRow, Db, DbRow, FromDb, Scope, Tx, q};
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::dashboard::{CohortFigures, DashboardKind};
use serde_json::Value;

/// What one refresh of a chapter changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Dashboard rows computed.
    pub computed: u64,
    /// Rows whose figures changed (and so were synced).
    pub changed: u64,
}

/// Stores one dashboard; returns whether its figures changed.
pub async fn save(
    tx: &mut Tx,
    chapter_id: &str,
    now: i64,
    kind: DashboardKind,
    subject_id: &str,
    figures: Value,
) -> Result<bool, sqlx::Error> {
    let id = format!("{kind}:{subject_id}");
    let mut scope = Scope::default();
    match kind {
        DashboardKind::Mentor => scope.mentor_id = Some(subject_id.to_owned()),
        DashboardKind::Coordinator => scope.coordinator_id = Some(subject_id.to_owned()),
        DashboardKind::Cohort => scope.cohort_id = Some(subject_id.to_owned()),
    }
    let current: Option<(String, i64)> = tx
        .fetch_optional(
            q("SELECT figures, version FROM dashboards WHERE id = $1").bind(id.as_str()),
        )
        .await?;
    let text = figures.to_string();
    let version = match current {
        Some((old, _))
            if serde_json::from_str::<Value>(&old)
                .is_ok_and(|old| super::same_figures(&old, &figures)) =>
        {
            tx.execute(
                q("UPDATE dashboards SET computed_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id.as_str()),
            )
            .await?;
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

/// Recomputes every dashboard of a chapter (or only the given cohorts) and stores them.
/// Reads in one snapshot, writes in one transaction.
pub async fn refresh(
    db: &Db,
    chapter_id: &str,
    now: i64,
    only_cohorts: Option<&[String]>,
) -> Result<RefreshReport, sqlx::Error> {
    let mut rows: Vec<(DashboardKind, String, Value)> = Vec::new();
    let mut tx = db.read_as(Acting::Chapter(chapter_id)).await?;
    match only_cohorts {
        Some(ids) => {
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
        }
        None => {
            let day = day_bounds(now, 0);
            for (id, d) in mentor::compute(&mut tx, chapter_id, None, now, day).await? {
                rows.push((DashboardKind::Mentor, id, json(&d)));
            }
            let each = coordinator::Whose::EachCoordinator;
            for (id, f) in coordinator::compute(&mut tx, chapter_id, each, now).await? {
                rows.push((DashboardKind::Coordinator, id, json(&f)));
            }
            for (id, f) in cohort::compute(&mut tx, chapter_id, None, now).await? {
                rows.push((DashboardKind::Cohort, id, json(&f)));
            }
        }
    }
    tx.rollback().await?;
    let mut report = RefreshReport::default();
    let mut tx = db.write_as(Acting::Chapter(chapter_id)).await?;
    for (kind, id, figures) in rows {
        report.computed += 1;
        if save(&mut tx, chapter_id, now, kind, &id, figures).await? {
            report.changed += 1;
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
