//! A syncing device: registered to one user on first use, with the last mutation id it has
//! a verdict for and the last verdict it acknowledged.

use super::SyncError;
use crate::db::{Db, DbRow, FromDb, Tx, q, values_list};
use mentorsync_protocol::sync::Verdict;

/// A client's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState {
    /// Highest mutation id with a recorded verdict.
    pub last_mutation_id: i64,
    /// Highest verdict the client acknowledged.
    pub acked_mutation_id: i64,
}

struct Row {
    user_id: String,
    state: ClientState,
}

impl FromDb for Row {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Row {
            user_id: r.get("user_id")?,
            state: ClientState {
                last_mutation_id: r.get("last_mutation_id")?,
                acked_mutation_id: r.get("acked_mutation_id")?,
            },
        })
    }
}

/// Checks a client id's form.
pub fn parse_id(client_id: &str) -> Result<String, SyncError> {
    uuid::Uuid::parse_str(client_id)
        .map(|u| u.to_string())
        .map_err(|_| SyncError::BadClientId)
}

/// How stale `last_seen_at` may get before a pull refreshes it (pulls stay read-only).
const SEEN_REFRESH_MS: i64 = 3_600_000;

struct Seen {
    row: Row,
    last_seen_at: i64,
}

impl FromDb for Seen {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Seen {
            row: Row::from_db(r)?,
            last_seen_at: r.get("last_seen_at")?,
        })
    }
}

const SELECT_CLIENT: &str = "SELECT user_id, last_mutation_id, acked_mutation_id, last_seen_at FROM sync_clients WHERE client_id = $1";

/// The client's state read in an open transaction, when nothing about it needs writing
/// (it is registered to `user_id`, `ack` acknowledges nothing new and it was seen
/// recently). `None`: call [`touch`]. Lets a steady-state pull read it in its own snapshot.
pub async fn peek(
    tx: &mut Tx,
    client_id: &str,
    user_id: &str,
    now: i64,
    ack: Option<i64>,
) -> Result<Option<ClientState>, SyncError> {
    let seen: Option<Seen> = tx.fetch_optional(q(SELECT_CLIENT).bind(client_id)).await?;
    let Some(seen) = seen else {
        return Ok(None);
    };
    if seen.row.user_id != user_id {
        return Err(SyncError::ClientNotYours);
    }
    let state = seen.row.state;
    let acks = ack.is_some_and(|a| a.min(state.last_mutation_id) > state.acked_mutation_id);
    Ok((!acks && now - seen.last_seen_at < SEEN_REFRESH_MS).then_some(state))
}

/// Registers the client to `user_id` on first use, refuses another user's client, records
/// an acknowledgement, and returns its state. Writes only when something changes, so a
/// steady-state pull never waits for the write lock.
pub async fn touch(
    db: &Db,
    client_id: &str,
    user_id: &str,
    now: i64,
    ack: Option<i64>,
) -> Result<ClientState, SyncError> {
    let mut tx = db.read().await?;
    let peeked = peek(&mut tx, client_id, user_id, now, ack).await;
    tx.rollback().await?;
    match peeked? {
        Some(state) => Ok(state),
        None => register(db, client_id, user_id, now, ack).await,
    }
}

/// Devices (client ids) one person may sync from at once. A client id costs a row and its
/// verdicts; any UUID makes one, so without a bound one signed-in person could fill the
/// table. Reinstalls leave old ids behind, so only ids seen within [`DEVICE_IDLE_MS`] count.
pub const MAX_DEVICES: i64 = 20;
/// How long a device may stay unseen before it no longer counts toward [`MAX_DEVICES`].
/// Its row stays: it still holds the device's exactly-once state if it comes back.
pub const DEVICE_IDLE_MS: i64 = 30 * 24 * 3600 * 1000;

/// [`touch`]'s write: registers the client if new, records the acknowledgement and when
/// it was seen.
pub async fn register(
    db: &Db,
    client_id: &str,
    user_id: &str,
    now: i64,
    ack: Option<i64>,
) -> Result<ClientState, SyncError> {
    let mut tx = db.write().await?;
    let known = tx
        .exists(q("SELECT 1 FROM sync_clients WHERE client_id = $1").bind(client_id))
        .await?;
    if !known {
        let active: i64 = tx
            .fetch_one(
                q("SELECT COUNT(*) FROM sync_clients WHERE user_id = $1 AND last_seen_at > $2")
                    .bind(user_id)
                    .bind(now - DEVICE_IDLE_MS),
            )
            .await?;
        if active >= MAX_DEVICES {
            return Err(SyncError::TooManyDevices { max: MAX_DEVICES });
        }
    }
    tx.execute(
        q("INSERT INTO sync_clients (client_id, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3) \
           ON CONFLICT (client_id) DO NOTHING")
        .bind(client_id)
        .bind(user_id)
        .bind(now),
    )
    .await?;
    let sql = format!("{SELECT_CLIENT}{}", tx.for_update());
    let seen: Seen = tx.fetch_one(q(sql).bind(client_id)).await?;
    if seen.row.user_id != user_id {
        return Err(SyncError::ClientNotYours);
    }
    let mut state = seen.row.state;
    if let Some(a) = ack
        .map(|a| a.min(state.last_mutation_id))
        .filter(|a| *a > state.acked_mutation_id)
    {
        state.acked_mutation_id = a;
    }
    tx.execute(
        q("UPDATE sync_clients SET last_seen_at = $1, acked_mutation_id = $2 WHERE client_id = $3")
            .bind(now)
            .bind(state.acked_mutation_id)
            .bind(client_id),
    )
    .await?;
    tx.commit().await?;
    Ok(state)
}

/// The client's `last_mutation_id`, read with its row locked until `tx` ends, so pushes of
/// one device apply one after the other (SQLite's single writer gives the same).
pub async fn lock_last_mutation(tx: &mut Tx, client_id: &str) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT last_mutation_id FROM sync_clients WHERE client_id = $1{}",
        tx.for_update()
    );
    tx.fetch_one(q(sql).bind(client_id)).await
}

/// Sets `last_mutation_id` (under [`lock_last_mutation`]'s lock).
pub async fn advance(tx: &mut Tx, client_id: &str, last: i64) -> Result<(), sqlx::Error> {
    tx.execute(
        q("UPDATE sync_clients SET last_mutation_id = $1 WHERE client_id = $2")
            .bind(last)
            .bind(client_id),
    )
    .await?;
    Ok(())
}

/// Stores verdicts, named by their command, in one statement.
pub async fn record(
    tx: &mut Tx,
    client_id: &str,
    verdicts: &[(String, Verdict)],
    now: i64,
) -> Result<(), sqlx::Error> {
    if verdicts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO sync_mutations (client_id, mutation_id, name, verdict, at) VALUES {}",
        values_list(verdicts.len(), 5)
    );
    let mut query = q(sql);
    for (name, verdict) in verdicts {
        query = query
            .bind(client_id)
            .bind(verdict.mutation_id)
            .bind(name.as_str())
            .bind(serde_json::to_string(verdict).unwrap_or_default())
            .bind(now);
    }
    tx.execute(query).await?;
    Ok(())
}

/// The recorded verdict of one mutation.
pub async fn recorded(
    tx: &mut Tx,
    client_id: &str,
    mutation_id: i64,
) -> Result<Option<Verdict>, sqlx::Error> {
    let text: Option<String> = tx
        .fetch_optional(
            q("SELECT verdict FROM sync_mutations WHERE client_id = $1 AND mutation_id = $2")
                .bind(client_id)
                .bind(mutation_id),
        )
        .await?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Verdicts after `after`, oldest first (at most 200).
pub async fn unacked(
    tx: &mut Tx,
    client_id: &str,
    after: i64,
) -> Result<Vec<Verdict>, sqlx::Error> {
    let texts: Vec<String> = tx
        .fetch_all(
            q("SELECT verdict FROM sync_mutations WHERE client_id = $1 AND mutation_id > $2 ORDER BY mutation_id LIMIT 200")
                .bind(client_id)
                .bind(after),
        )
        .await?;
    Ok(texts
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect())
}
