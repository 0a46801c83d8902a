//! Keeps the synced dashboards fresh: a chapter whose rows changed has its dashboards
//! recomputed a moment after the change (`debounce`, coalescing a burst into one refresh)
//! instead of only at the five-minute job, so a flag raised shows on the coordinator's
//! synced figures within seconds.
//!
//! Every instance hears every commit (PostgreSQL NOTIFY), so the refresh is claimed like a
//! job slot: the row `job_runs (fresh_dashboards:<chapter>, <change-log position>)` is
//! inserted by exactly one instance; older claims of the chapter are deleted with it, so
//! the table keeps one row per chapter. A refresh's own dashboard changes do not start
//! another.

use super::store::{self, Subjects};
use crate::db::{Db, Notice, q};
use crate::state::AppState;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Cohort figures read every mentee of a chapter (about three times the cost of all
/// mentors' and coordinators' figures together): refreshed at most this often.
pub const COHORTS_EVERY: Duration = Duration::from_secs(30);

/// What a chapter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Due {
    /// Mentors' and coordinators' figures, at.
    people: Option<Instant>,
    /// Cohorts' figures, at.
    cohorts: Option<Instant>,
    /// The newest change-log position seen.
    position: i64,
    /// When the cohorts were last refreshed here.
    cohorts_done: Option<Instant>,
}

impl Due {
    fn next(&self) -> Option<Instant> {
        [self.people, self.cohorts].into_iter().flatten().min()
    }
}

/// Follows the commits until the server shuts down.
pub fn spawn(state: &AppState, debounce: Duration) -> tokio::task::JoinHandle<()> {
    let (db, clock, stop) = (
        state.db.clone(),
        state.clock.clone(),
        state.shutdown.clone(),
    );
    let instance = uuid::Uuid::new_v4().to_string();
    let mut notices = db.subscribe();
    tokio::spawn(async move {
        let mut due: HashMap<String, Due> = HashMap::new();
        loop {
            let next = due.values().filter_map(Due::next).min();
            let sleep = tokio::time::sleep_until(
                next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
            );
            tokio::select! {
                _ = stop.cancelled() => return,
                n = notices.recv() => match n {
                    Ok(n) => note(&mut due, n, debounce, Instant::now()),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = sleep, if next.is_some() => {
                    let now = Instant::now();
                    for (chapter, subjects, position) in take_ready(&mut due, now) {
                        if let Err(e) = refresh(&db, &instance, &chapter, subjects, position, clock.now_ms()).await {
                            tracing::warn!(chapter, error = %e, "dashboard refresh failed; the job retries");
                        }
                    }
                }
            }
        }
    })
}

/// Schedules the notice's chapter, unless only dashboards changed: mentors' and
/// coordinators' figures `debounce` after the first change of a burst, cohorts' as soon
/// as [`COHORTS_EVERY`] has passed since their last refresh.
fn note(due: &mut HashMap<String, Due>, n: Notice, debounce: Duration, now: Instant) {
    if n.dashboards_only || n.is_recheck() || n.chapter_id.is_empty() {
        return;
    }
    // A chapter first heard of counts as having its cohorts just refreshed (the job did
    // it at most five minutes ago): the first burst of a busy chapter costs the cheap part.
    let d = due.entry(n.chapter_id).or_insert(Due {
        people: None,
        cohorts: None,
        position: n.position,
        cohorts_done: Some(now),
    });
    d.position = d.position.max(n.position);
    d.people.get_or_insert(now + debounce);
    let earliest = d.cohorts_done.map_or(now, |t| t + COHORTS_EVERY);
    d.cohorts.get_or_insert((now + debounce).max(earliest));
}

/// The refreshes due at `now`: `(chapter, what, position)`.
fn take_ready(
    due: &mut HashMap<String, Due>,
    now: Instant,
) -> Vec<(String, Subjects<'static>, i64)> {
    let mut ready = Vec::new();
    for (chapter, d) in due.iter_mut() {
        let people = d.people.is_some_and(|t| t <= now);
        let cohorts = d.cohorts.is_some_and(|t| t <= now);
        let what = match (people, cohorts) {
            (_, true) => Subjects::All,
            (true, false) => Subjects::People,
            (false, false) => continue,
        };
        d.people = None;
        if cohorts {
            d.cohorts = None;
            d.cohorts_done = Some(now);
        }
        ready.push((chapter.clone(), what, d.position));
    }
    due.retain(|_, d| {
        d.next().is_some() || d.cohorts_done.is_some_and(|t| t + COHORTS_EVERY > now)
    });
    ready
}

/// Claims the refresh up to `position` and runs it; returns whether this instance ran it.
pub async fn refresh(
    db: &Db,
    instance: &str,
    chapter: &str,
    subjects: Subjects<'static>,
    position: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let job = match subjects {
        Subjects::People => format!("fresh_people_dashboards:{chapter}"),
        _ => format!("fresh_dashboards:{chapter}"),
    };
    let mut tx = db.write().await?;
    let claimed = tx
        .execute(
            q("INSERT INTO job_runs (job, slot, instance, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(job.as_str())
                .bind(position)
                .bind(instance)
                .bind(now),
        )
        .await?
        == 1;
    if claimed {
        tx.execute(
            q("DELETE FROM job_runs WHERE job = $1 AND slot < $2")
                .bind(job.as_str())
                .bind(position),
        )
        .await?;
    }
    tx.commit().await?;
    if !claimed {
        return Ok(false);
    }
    let report = store::refresh(db, chapter, now, subjects).await?;
    tracing::debug!(
        chapter,
        computed = report.computed,
        changed = report.changed,
        "dashboards refreshed"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(chapter: &str, position: i64, dashboards_only: bool) -> Notice {
        Notice {
            chapter_id: chapter.into(),
            position,
            scopes: Vec::new(),
            ended: Vec::new(),
            dashboards_only,
        }
    }

    #[test]
    fn a_burst_is_one_refresh_and_a_refresh_starts_none() {
        let mut due = HashMap::new();
        let d = Duration::from_secs(2);
        let t0 = Instant::now();
        note(&mut due, notice("c1", 5, false), d, t0);
        note(
            &mut due,
            notice("c1", 9, false),
            d,
            t0 + Duration::from_millis(500),
        );
        assert_eq!(
            due["c1"].people,
            Some(t0 + d),
            "coalesced; due after the first change"
        );
        assert_eq!(due["c1"].position, 9);
        note(&mut due, notice("c2", 3, true), d, t0);
        note(&mut due, Notice::recheck(), d, t0);
        assert_eq!(due.len(), 1);
        assert!(take_ready(&mut due, t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(
            take_ready(&mut due, t0 + d),
            [("c1".to_owned(), Subjects::People, 9)]
        );
    }

    #[test]
    fn cohorts_refresh_at_most_every_thirty_seconds() {
        let mut due = HashMap::new();
        let d = Duration::from_secs(2);
        let t0 = Instant::now();
        note(&mut due, notice("c1", 1, false), d, t0);
        assert_eq!(take_ready(&mut due, t0 + d)[0].1, Subjects::People);
        let t1 = t0 + Duration::from_secs(5);
        note(&mut due, notice("c1", 2, false), d, t1);
        assert_eq!(
            take_ready(&mut due, t1 + d),
            [("c1".to_owned(), Subjects::People, 2)]
        );
        let later = t0 + COHORTS_EVERY;
        assert_eq!(
            due["c1"].cohorts,
            Some(later),
            "the cohorts wait for their turn"
        );
        assert_eq!(take_ready(&mut due, later)[0].1, Subjects::All);
    }
}
