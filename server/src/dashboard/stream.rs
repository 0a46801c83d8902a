//! The mentor dashboard as Server-Sent Events: the dashboard at once, then again whenever
//! it changes. It is recomputed when a change the mentor can see commits (on any server
//! instance) and once a minute (time alone makes items overdue and moves "today").

use super::{day_bounds, mentor};
use crate::db::Acting;
use crate::db::{Notice, Tx};
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
    let mut tx = state.db.read_as(Acting::Chapter(chapter_id)).await?;
    let d = compute_in(
        &mut tx,
        state.now(),
        chapter_id,
        mentor_id,
        utc_offset_minutes,
    )
    .await?;
    tx.rollback().await?;
    Ok(d)
}

async fn compute_in(
    tx: &mut Tx,
    now: i64,
    chapter_id: &str,
    mentor_id: &str,
    utc_offset_minutes: i64,
) -> Result<Option<MentorDashboard>, sqlx::Error> {
    let day = day_bounds(now, utc_offset_minutes);
    let mut all = mentor::compute(tx, chapter_id, Some(mentor_id), now, day).await?;
    Ok(all.remove(mentor_id))
}

/// The viewer's scope set and dashboard, in one snapshot.
async fn refresh(f: &Follow) -> Result<(ScopeSet, Option<MentorDashboard>), sqlx::Error> {
    let mut tx = f
        .state
        .db
        .read_as(Acting::Chapter(&f.viewer.chapter_id))
        .await?;
    let scopes = scope::current(&mut tx, &f.viewer).await?;
    let v = &f.viewer;
    let d = compute_in(&mut tx, f.state.now(), &v.chapter_id, &v.user_id, f.offset).await?;
    tx.rollback().await?;
    Ok((scopes, d))
}

struct Follow {
    slot: StreamSlot,
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
    let mut tx = state
        .db
        .read_as(Acting::Chapter(&viewer.chapter_id))
        .await?;
    let scopes = scope::current(&mut tx, &viewer).await?;
    tx.rollback().await?;
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Follow {
        slot,
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
                _ = f.slot.expired() => return None,
                _ = f.tick.tick() => true,
                r = f.notices.recv() => match r {
                    Ok(n) if f.slot.revoked_by(&n) => return None,
                    Ok(n) => n.is_recheck() || (n.chapter_id == f.viewer.chapter_id && scope::visible(&n.scopes, &f.scopes)),
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return None,
                },
            };
            if !relevant {
                continue;
            }
            // A visible change may also have changed what the mentor sees (a new mentee).
            // Boxed so that an idle stream does not carry the read's large future.
            let Ok((scopes, Some(d))) = Box::pin(refresh(&f)).await else {
                continue;
            };
            f.scopes = scopes;
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
