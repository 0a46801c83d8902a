//! "Sync now": when a commit changes what someone's devices hold, each of their phones that
//! has no open event stream gets one data-only push (at most one per device per interval),
//! so a backgrounded app catches up without polling. A foreground app follows its event
//! stream and is not pushed.
//!
//! Who holds a change is the scope rule of `crate::sync::scope` read the other way: the
//! admins hold `chapter:`, a mentor and their coordinator `mentor:`, a mentee, their
//! mentor and that mentor's coordinator `mentee:`, directors `cohort:`, a person `user:`.
//! Every instance hears every commit; the per-device compare-and-set on `woken_at` makes
//! the push go out once. Streams are known per instance: a person streaming on another
//! instance may still get one push per interval, which costs their phone a sync.

use super::PushChannel;
use crate::db::{Notice, Tx, q};
use crate::state::AppState;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The people whose synced rows a notice touched (one indexed query per scope key; the
/// push channel then reads each one's devices, of active accounts only).
pub async fn holders(tx: &mut Tx, n: &Notice) -> Result<BTreeSet<String>, sqlx::Error> {
    let mut people = BTreeSet::new();
    let chapter = n.chapter_id.as_str();
    for key in &n.scopes {
        let Some((kind, id)) = key.split_once(':') else {
            continue;
        };
        let sql = match kind {
            "user" | "coordinator" => "SELECT id FROM users WHERE id = $1 AND chapter_id = $2",
            "chapter" => {
                "SELECT id FROM users WHERE chapter_id = $1 AND chapter_id = $2 AND role = 'admin'"
            }
            "mentor" => {
                "SELECT CAST($1 AS TEXT) AS id UNION SELECT coordinator_id FROM coordinator_assignments \
                 WHERE mentor_id = $1 AND chapter_id = $2 AND status = 'active'"
            }
            "mentee" => {
                "SELECT CAST($1 AS TEXT) AS id UNION SELECT mentor_id FROM mentee_assignments \
                 WHERE mentee_id = $1 AND chapter_id = $2 AND status = 'active' \
                 UNION SELECT ca.coordinator_id FROM coordinator_assignments ca JOIN mentee_assignments ma \
                 ON ma.mentor_id = ca.mentor_id WHERE ma.mentee_id = $1 AND ma.chapter_id = $2 \
                 AND ma.status = 'active' AND ca.status = 'active'"
            }
            "cohort" => {
                "SELECT director_id FROM cohort_directors d JOIN cohorts c ON c.id = d.cohort_id \
                         WHERE d.cohort_id = $1 AND c.chapter_id = $2"
            }
            _ => continue,
        };
        let ids: Vec<String> = tx.fetch_all(q(sql).bind(id).bind(chapter)).await?;
        people.extend(ids);
    }
    Ok(people)
}

/// Follows the commits until the server shuts down, waking the devices of the people they
/// touched who have no open stream on this instance.
pub fn spawn(
    state: &AppState,
    push: Arc<PushChannel>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    let mut notices = state.db.subscribe();
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        loop {
            let n = tokio::select! {
                _ = state.shutdown.cancelled() => return,
                n = notices.recv() => match n {
                    Ok(n) => n,
                    // Missed commits: their devices wake with the next one.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                },
            };
            // A dashboard refresh follows a burst that already woke its people.
            if n.dashboards_only || n.is_recheck() || n.chapter_id.is_empty() || n.scopes.is_empty()
            {
                continue;
            }
            if let Err(e) = wake(&state, &push, &n, interval_ms).await {
                tracing::warn!(error = %e, "sync-now pushes failed");
            }
        }
    })
}

async fn wake(
    state: &AppState,
    push: &PushChannel,
    n: &Notice,
    interval_ms: i64,
) -> Result<(), sqlx::Error> {
    let people = {
        let mut tx = state.db.read().await?;
        let people = holders(&mut tx, n).await?;
        tx.commit().await?;
        people
    };
    let streaming: BTreeSet<String> = state
        .streams
        .lock()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    let backgrounded: Vec<String> = people.difference(&streaming).cloned().collect();
    if !backgrounded.is_empty() {
        push.wake(&backgrounded, state.now(), interval_ms).await?;
    }
    Ok(())
}
