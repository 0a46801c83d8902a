//! The mentor dashboard as Server-Sent Events: the dashboard at once, then again whenever
//! it changes. It is recomputed when a change the mentor can see commits (on any server
//! instance) and once a minute (time alone makes items overdue and moves "today").

use super::{day_bounds, mentor};
use crate::db::Notice;
use crate::state::AppState;
use crate::sync::events::StreamSlot;
use crate::sync::scope::{self, ScopeSet, Viewer};
use axum::response::sse::Event;
use futures::Stream;
use mentorsync_protocol::dashboard::MentorDashboard;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// How often the figures are recomputed without a change.
const PERIOD: Duration = Duration::from_secs(60);

/// The mentor's dashboard now, as seen `utc_offset_minutes` east of UTC.
pub async fn current(
    state: &AppState,
    chapter_id: &str,
    mentor_id: &str,
    utc_offset_minutes: i64,
) -> Result<Option<MentorDashboard>, sqlx::Error> {
    let now = state.now();
    let mut tx = state.db.read().await?;
    let mut all = mentor::compute(
        &mut tx,
        chapter_id,
        Some(mentor_id),
        now,
        day_bounds(now, utc_offset_minutes),
    )
    .await?;
    tx.rollback().await?;
    Ok(all.remove(mentor_id))
}

struct Follow {
    _slot: StreamSlot,
    state: AppState,
    viewer: Viewer,
    offset: i64,
    notices: broadcast::Receiver<Notice>,
    scopes: ScopeSet,
    tick: tokio::time::Interval,
    last: Option<serde_json::Value>,
}

/// The stream for a mentor (the viewer). Ends at shutdown.
pub async fn follow(
    state: AppState,
    viewer: Viewer,
    utc_offset_minutes: i64,
    slot: StreamSlot,
) -> Result<impl Stream<Item = Result<Event, Infallible>>, sqlx::Error> {
    let notices = state.db.subscribe();
    let mut tx = state.db.read().await?;
    let scopes = scope::current(&mut tx, &viewer).await?;
    tx.rollback().await?;
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Follow {
        _slot: slot,
        state,
        viewer,
        offset: utc_offset_minutes,
        notices,
        scopes,
        tick,
        last: None,
    };
    Ok(futures::stream::unfold(start, |mut f| async move {
        loop {
            // The first tick fires at once and sends the initial dashboard.
            let relevant = tokio::select! {
                _ = f.state.shutdown.cancelled() => return None,
                _ = f.tick.tick() => true,
                r = f.notices.recv() => match r {
                    Ok(n) => n.is_recheck() || (n.chapter_id == f.viewer.chapter_id && scope::visible(&n.scopes, &f.scopes)),
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return None,
                },
            };
            if !relevant {
                continue;
            }
            if let Ok(mut tx) = f.state.db.read().await {
                if let Ok(s) = scope::current(&mut tx, &f.viewer).await {
                    f.scopes = s;
                }
                let _ = tx.rollback().await;
            }
            let Ok(Some(d)) =
                current(&f.state, &f.viewer.chapter_id, &f.viewer.user_id, f.offset).await
            else {
                continue;
            };
            let Ok(json) = serde_json::to_value(&d) else {
                continue;
            };
            if f.last
                .as_ref()
                .is_some_and(|l| super::same_figures(l, &json))
            {
                continue;
            }
            let event = Event::default().event("dashboard").json_data(&json);
            f.last = Some(json);
            if let Ok(event) = event {
                return Some((Ok(event), f));
            }
        }
    }))
}
