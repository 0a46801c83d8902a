//! `GET /api/v1/sync/events`: Server-Sent Events that poke a client when a change it can
//! see commits. Pokes carry only the newest position (the client then pulls); the event id
//! is that position, so a reconnect with `Last-Event-ID` is not poked for what it has seen.
//! Commits on any server instance arrive through the database's notices.

use super::scope::{self, ScopeSet, SqlBuf, Viewer};
use crate::auth::tokens::Authenticated;
use crate::db::Acting;
use crate::db::Notice;
use crate::state::AppState;
use axum::response::sse::Event;
use futures::Stream;
use mentorsync_protocol::sync::Poke;
use std::convert::Infallible;
use tokio::sync::broadcast::{self, error::RecvError};

/// The newest change-log position the viewer can see.
pub async fn newest_visible(state: &AppState, v: &Viewer) -> Result<(i64, ScopeSet), sqlx::Error> {
    let mut tx = state.db.read_as(Acting::Chapter(&v.chapter_id)).await?;
    let scopes = scope::current(&mut tx, v).await?;
    let mut buf = SqlBuf::default();
    let chapter = buf.arg(v.chapter_id.as_str());
    let pred = scope::predicate(v, &scope::CHANGE_LOG, &mut buf);
    buf.push(&format!(
        "SELECT t.position FROM change_log t WHERE t.chapter_id = {chapter} AND {pred} ORDER BY t.position DESC LIMIT 1"
    ));
    let newest: Option<i64> = tx.fetch_optional(buf.query()).await?;
    tx.rollback().await?;
    Ok((newest.unwrap_or(0), scopes))
}

/// The viewer's scope set now (what a poke needs refreshed; the position came with it).
async fn current_scopes(state: &AppState, v: &Viewer) -> Result<ScopeSet, sqlx::Error> {
    let mut tx = state.db.read_as(Acting::Chapter(&v.chapter_id)).await?;
    let scopes = scope::current(&mut tx, v).await?;
    tx.rollback().await?;
    Ok(scopes)
}

fn poke(position: i64) -> Event {
    Event::default()
        .event("poke")
        .id(position.to_string())
        .json_data(Poke { position })
        .unwrap_or_else(|_| Event::default().event("poke").id(position.to_string()))
}

/// One of a user's open streams (events, dashboard); dropping it (the stream ends) frees
/// the slot. It also knows what the stream's access rests on: the token family that
/// opened it (revoked → the stream ends, on every instance) and the access token's expiry
/// (no stream outlives the token that opened it).
pub struct StreamSlot {
    streams: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    user_id: String,
    family_id: String,
    expiry: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl StreamSlot {
    /// Takes a slot for the caller, or `None` when they already hold `max` streams here.
    pub fn take(state: &AppState, caller: &Authenticated, max: usize) -> Option<StreamSlot> {
        let mut open = state.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(caller.user_id.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        let left = u64::try_from(caller.expires_at - state.now()).unwrap_or(0);
        Some(StreamSlot {
            streams: state.streams.clone(),
            user_id: caller.user_id.clone(),
            family_id: caller.family_id.clone(),
            expiry: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(left))),
        })
    }

    /// Whether `notice` says this stream's access ended.
    pub fn revoked_by(&self, notice: &Notice) -> bool {
        notice.ended.contains(&self.family_id)
    }

    /// Resolves when the access token that opened the stream expires.
    pub async fn expired(&mut self) {
        self.expiry.as_mut().await;
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

struct Follow {
    slot: StreamSlot,
    state: AppState,
    viewer: Viewer,
    notices: broadcast::Receiver<Notice>,
    scopes: ScopeSet,
    last_sent: i64,
    first: Option<i64>,
}

/// The event stream of one viewer. It ends when the server shuts down, when the token
/// family that opened it is revoked, and when its access token expires.
pub async fn follow(
    state: AppState,
    viewer: Viewer,
    last_event_id: Option<i64>,
    slot: StreamSlot,
) -> Result<impl Stream<Item = Result<Event, Infallible>>, sqlx::Error> {
    // Subscribe before reading the newest position, so nothing commits unseen in between.
    let notices = state.db.subscribe();
    let (newest, scopes) = newest_visible(&state, &viewer).await?;
    let seen = last_event_id.unwrap_or(-1);
    let first = (newest > seen).then_some(newest);
    let start = Follow {
        slot,
        state,
        viewer,
        notices,
        scopes,
        last_sent: seen,
        first,
    };
    // The database reads are boxed: a stream spends its life waiting for notices, and an
    // inline read would make every idle stream carry its ~9 KB future (5,000 streams, 45 MB).
    Ok(futures::stream::unfold(start, |mut f| async move {
        if let Some(p) = f.first.take() {
            f.last_sent = p;
            return Some((Ok(poke(p)), f));
        }
        loop {
            let received = tokio::select! {
                _ = f.state.shutdown.cancelled() => return None,
                _ = f.slot.expired() => return None,
                r = f.notices.recv() => r,
            };
            let position = match received {
                Ok(n) if f.slot.revoked_by(&n) => return None,
                Ok(n)
                    if n.chapter_id == f.viewer.chapter_id
                        && scope::visible(&n.scopes, &f.scopes) =>
                {
                    n.position
                }
                Ok(n) if !n.is_recheck() => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    match Box::pin(newest_visible(&f.state, &f.viewer)).await {
                        Ok((p, _)) => p,
                        Err(_) => continue,
                    }
                }
                Err(RecvError::Closed) => return None,
            };
            // A visible change may have changed what the viewer can see (a new mentee).
            if let Ok(scopes) = Box::pin(current_scopes(&f.state, &f.viewer)).await {
                f.scopes = scopes;
            }
            if position > f.last_sent {
                f.last_sent = position;
                return Some((Ok(poke(position)), f));
            }
        }
    }))
}
