//! Runs every [`Job`] once per time slot, on whichever server instance claims the slot
//! first, then dispatches due notifications.
//!
//! The claim is a row in `job_runs` keyed by (job, slot): inserting it succeeds on exactly
//! one instance, whatever the number of instances sharing the database, so each run
//! happens once. Slots come from the injected clock, so a test moves time and calls
//! [`Scheduler::tick`] instead of waiting. An instance that was down simply runs the
//! current slot: every job works from the state it finds, so one run catches up.

use super::{Job, capacity, certification, chapters, matching, overdue, pauses, reconcile};
use crate::clock::Clock;
use crate::dashboard::store;
use crate::db::{Db, q};
use crate::notify::{DispatchReport, Dispatcher};
use crate::state::AppState;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    /// Jobs this instance ran, with what each reported.
    pub ran: Vec<(Job, Value)>,
    /// Jobs whose slot another instance (or an earlier tick) had claimed.
    pub skipped: Vec<Job>,
    /// Notifications dispatched.
    pub notifications: DispatchReport,
}

impl TickReport {
    /// What `job` reported, if it ran in this tick.
    pub fn of(&self, job: Job) -> Option<&Value> {
        self.ran.iter().find(|(j, _)| *j == job).map(|(_, v)| v)
    }
}

/// The scheduler of one server instance.
#[derive(Clone)]
pub struct Scheduler {
    db: Db,
    clock: Arc<dyn Clock>,
    instance: String,
    dispatcher: Dispatcher,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler over the server's database and clock, delivering through `dispatcher`.
    pub fn new(state: &AppState, dispatcher: Dispatcher) -> Self {
        Scheduler {
            db: state.db.clone(),
            clock: state.clock.clone(),
            instance: uuid::Uuid::new_v4().to_string(),
            dispatcher,
            shutdown: state.shutdown.clone(),
        }
    }

    /// This instance's name in `job_runs`.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Runs every job whose current slot is unclaimed, then the notification dispatcher.
    /// Errors are logged and recorded; the next tick tries again.
    pub async fn tick(&self) -> TickReport {
        let mut report = TickReport::default();
        for job in Job::ALL {
            let now = self.clock.now_ms();
            let slot = job.slot(now);
            match self.claim(job, slot, now).await {
                Ok(true) => {
                    let outcome = run(&self.db, job, now).await;
                    let details = match &outcome {
                        Ok(v) => v.clone(),
                        Err(e) => json!({"error": e.to_string()}),
                    };
                    if let Err(e) = &outcome {
                        tracing::warn!(job = job.name(), error = %e, "job failed");
                    }
                    if let Err(e) = self.finish(job, slot, outcome.is_ok(), &details).await {
                        tracing::warn!(job = job.name(), error = %e, "could not record job run");
                    }
                    report.ran.push((job, details));
                }
                Ok(false) => report.skipped.push(job),
                Err(e) => tracing::warn!(job = job.name(), error = %e, "could not claim job slot"),
            }
        }
        match self
            .dispatcher
            .run_once(&self.db, self.clock.now_ms())
            .await
        {
            Ok(n) => report.notifications = n,
            Err(e) => tracing::warn!(error = %e, "notification dispatch failed"),
        }
        report
    }

    async fn claim(&self, job: Job, slot: i64, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.write().await?;
        let won = tx
            .execute(
                q("INSERT INTO job_runs (job, slot, instance, started_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT DO NOTHING")
                .bind(job.name())
                .bind(slot)
                .bind(self.instance.as_str())
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(won == 1)
    }

    async fn finish(
        &self,
        job: Job,
        slot: i64,
        ok: bool,
        details: &Value,
    ) -> Result<(), sqlx::Error> {
        let changed = details["changed"].as_i64().unwrap_or(0);
        let mut tx = self.db.write().await?;
        tx.execute(
            q(
                "UPDATE job_runs SET finished_at = $1, outcome = $2, changed = $3, details = $4 \
               WHERE job = $5 AND slot = $6",
            )
            .bind(self.clock.now_ms())
            .bind(if ok { "ok" } else { "failed" })
            .bind(changed)
            .bind(details.to_string())
            .bind(job.name())
            .bind(slot),
        )
        .await?;
        tx.commit().await
    }

    /// Ticks every `every` until shutdown.
    pub fn spawn(self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = self.shutdown.cancelled() => return,
                    _ = interval.tick() => {}
                }
                let report = self.tick().await;
                if !report.ran.is_empty() {
                    tracing::info!(ran = ?report.ran, notifications = ?report.notifications, "scheduler tick");
                }
            }
        })
    }
}

/// Runs `job` over every chapter at `now` and says what it did (`changed` counts rows
/// changed or findings opened).
pub async fn run(db: &Db, job: Job, now: i64) -> Result<Value, sqlx::Error> {
    let mut changed: u64 = 0;
    let mut extra = serde_json::Map::new();
    for chapter in chapters(db).await? {
        let c = chapter.as_str();
        match job {
            Job::Pauses => changed += pauses::run(db, c, now).await?,
            Job::Certifications => changed += certification::run(db, c, now).await?,
            Job::Overdue => changed += overdue::run(db, c, now).await?,
            Job::Matching => changed += matching::run(db, c, now).await?,
            Job::Capacity | Job::Reconciliation => {
                let r = if job == Job::Capacity {
                    capacity::run(db, c, now).await?
                } else {
                    reconcile::run(db, c, now).await?
                };
                changed += r.new;
                for (k, v) in [("still_open", r.still_open), ("resolved", r.resolved)] {
                    let total = extra.get(k).and_then(Value::as_u64).unwrap_or(0) + v;
                    extra.insert(k.into(), total.into());
                }
            }
            Job::Dashboards => {
                let r = store::refresh(db, c, now, store::Subjects::All).await?;
                changed += r.changed;
                let total = extra.get("computed").and_then(Value::as_u64).unwrap_or(0) + r.computed;
                extra.insert("computed".into(), total.into());
            }
        }
    }
    extra.insert("changed".into(), changed.into());
    Ok(Value::Object(extra))
}
