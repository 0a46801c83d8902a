//! `GET /api/v1/sync/pull`: one page of a round.
//!
//! A round starts when a client sends a cursor from the end of its previous round (or
//! none). Its first page fixes the target (the newest committed position), compares the
//! client's scope set with the one its cursor was served with, and decides the round: a
//! full snapshot (first sync, cursor older than the compacted log, or too many new
//! scopes), a snapshot of just the added scopes followed by the log, or the log alone.
//! Later pages continue from the cursor until the target; the client publishes the round
//! when `has_more` is false.

use super::SyncError;
use super::client::{self, ClientState};
use super::cursor::{Cursor, Snapshot};
use super::scope::{self, ScopeSet, SqlBuf, Viewer};
use crate::db::Acting;
use crate::db::{Db, DbRow, FromDb, Tx, q};
use crate::rows;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::sync::{
    Change, ChangeOp, PullResponse, SYNCED_ENTITIES, ScopeChange, SyncSet,
};

/// More added scopes than this and the round is a full snapshot instead (keeps cursors small).
pub const MAX_PARTIAL_SCOPES: usize = 64;
/// Default and largest page sizes.
pub const PAGE_DEFAULT: u32 = 500;
/// Largest page size; larger requests are capped to it.
pub const PAGE_MAX: u32 = 1000;

/// A pull request.
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// The device.
    pub client_id: String,
    /// From the previous page or round; none for a first sync.
    pub cursor: Option<String>,
    /// Page size (capped).
    pub limit: Option<u32>,
    /// Verdicts up to this mutation id have been applied by the client.
    pub ack: Option<i64>,
    /// One stream of entities (with its own cursor), or all of them.
    pub set: Option<SyncSet>,
}

/// Serves one page.
pub async fn pull(
    db: &Db,
    v: &Viewer,
    req: PullRequest,
    now: i64,
) -> Result<PullResponse, SyncError> {
    let client_id = client::parse_id(&req.client_id)?;
    let cursor = req.cursor.as_deref().map(Cursor::decode).transpose()?;
    if let Some(c) = &cursor {
        c.check_set(req.set)?;
    }
    // A cursor of another epoch points into a change log this database does not have (it
    // was restored from a backup since): start over with a full snapshot.
    let epoch = crate::epoch::current(db).await?;
    let cursor = cursor.filter(|c| c.e.as_deref().is_none_or(|e| e == epoch));
    let limit = req.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX) as usize;

    let mut tx = db.read_as(Acting::Chapter(&v.chapter_id)).await?;
    let state = match client::peek(&mut tx, &client_id, &v.user_id, now, req.ack).await? {
        Some(state) => state,
        None => {
            tx.rollback().await?;
            let state = client::register(db, &client_id, &v.user_id, now, req.ack).await?;
            tx = db.read_as(Acting::Chapter(&v.chapter_id)).await?;
            state
        }
    };
    let ClientState {
        last_mutation_id,
        acked_mutation_id,
    } = state;
    let scopes = scope::current(&mut tx, v).await?;
    let (mut cur, scope_change) = match cursor {
        Some(mut c) if c.t.is_some() => {
            // A snapshot of added scopes pages only keys the caller still holds: a crafted
            // cursor cannot make the server name rows of someone else's scope.
            if let Some(s) = c.s.as_mut() {
                s.keys.retain(|k| scopes.contains(k));
            }
            (c, None)
        }
        previous => start_round(&mut tx, previous, &scopes, req.set).await?,
    };
    let target = cur.t.unwrap_or(cur.p);
    let entities: Vec<Entity> = req
        .set
        .map_or(SYNCED_ENTITIES, SyncSet::entities)
        .iter()
        .copied()
        .filter(|e| scope::role_sees(v.role, *e))
        .collect();
    let changes = page(&mut tx, v, &scopes, &entities, &mut cur, target, limit, now).await?;
    let has_more = cur.s.is_some() || cur.p < target;
    if !has_more {
        cur.t = None;
    }
    let verdicts = client::unacked(&mut tx, &client_id, acked_mutation_id).await?;
    tx.rollback().await?;

    if scope_change.is_some() {
        let mut w = db.write().await?;
        let list = serde_json::to_string(&scopes).unwrap_or_default();
        w.execute(
            q("INSERT INTO sync_scope_sets (hash, scopes, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING")
                .bind(cur.h.as_str())
                .bind(list)
                .bind(now),
        )
        .await?;
        w.commit().await?;
    }
    cur.e = Some(epoch);
    Ok(PullResponse {
        changes,
        cursor: cur.encode(),
        has_more,
        target,
        scopes: scope_change
            .as_ref()
            .map(|_| scopes.iter().cloned().collect()),
        scope_change,
        last_mutation_id,
        verdicts,
    })
}

async fn start_round(
    tx: &mut Tx,
    previous: Option<Cursor>,
    scopes: &ScopeSet,
    set: Option<SyncSet>,
) -> Result<(Cursor, Option<ScopeChange>), SyncError> {
    let h = scope::hash(scopes);
    let (target, horizon): (i64, i64) = tx
        .fetch_one(q("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT), \
             (SELECT position FROM sync_horizon WHERE id = 1) FROM change_log"))
        .await?;
    let full = |h: String| {
        let mut c = Cursor::at(target, h, set);
        c.t = Some(target);
        c.s = Some(Snapshot {
            all: true,
            keys: Vec::new(),
            e: 0,
            a: None,
        });
        (
            c,
            Some(ScopeChange {
                full_reset: true,
                added: Vec::new(),
                removed: Vec::new(),
            }),
        )
    };
    let Some(prev) = previous else {
        return Ok(full(h));
    };
    // Older than the compacted log, or beyond this database's newest change (restored
    // from a backup without a new epoch): either way the cursor's place is unknown here.
    if prev.p < horizon || prev.p > target {
        return Ok(full(h));
    }
    let mut c = Cursor::at(prev.p, h.clone(), set);
    c.t = Some(target);
    if prev.h == h {
        return Ok((c, None));
    }
    let old: Option<String> = tx
        .fetch_optional(
            q("SELECT scopes FROM sync_scope_sets WHERE hash = $1").bind(prev.h.as_str()),
        )
        .await?;
    let Some(old) = old.and_then(|o| serde_json::from_str::<ScopeSet>(&o).ok()) else {
        return Ok(full(h));
    };
    let added: Vec<String> = scopes.difference(&old).cloned().collect();
    let removed: Vec<String> = old.difference(scopes).cloned().collect();
    if added.len() > MAX_PARTIAL_SCOPES {
        return Ok(full(h));
    }
    if !added.is_empty() {
        c.s = Some(Snapshot {
            all: false,
            keys: added.clone(),
            e: 0,
            a: None,
        });
    }
    Ok((
        c,
        Some(ScopeChange {
            full_reset: false,
            added,
            removed,
        }),
    ))
}

struct Entry {
    position: i64,
    entity: Entity,
    id: String,
}

impl FromDb for Entry {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Entry {
            position: r.get("position")?,
            entity: r.parse("entity")?,
            id: r.get("entity_id")?,
        })
    }
}

/// Fills one page: snapshot rows first (while a snapshot is in progress), then log entries
/// up to the target. Advances `cur`.
#[allow(clippy::too_many_arguments)]
async fn page(
    tx: &mut Tx,
    v: &Viewer,
    scopes: &ScopeSet,
    entities: &[Entity],
    cur: &mut Cursor,
    target: i64,
    limit: usize,
    now: i64,
) -> Result<Vec<Change>, SyncError> {
    let mut out: Vec<(Entity, String)> = Vec::new();
    while let Some(s) = cur.s.as_mut() {
        let room = limit - out.len();
        if room == 0 {
            break;
        }
        let Some(&entity) = entities.get(s.e) else {
            cur.s = None;
            break;
        };
        let x = rows::scope_exprs(entity);
        let mut buf = SqlBuf::default();
        let chapter = buf.arg(v.chapter_id.as_str());
        let pred = if s.all {
            scope::predicate(v, &x, &mut buf)
        } else {
            scope::keys_predicate(&s.keys, &x, &mut buf)
        };
        buf.push(&format!(
            "SELECT {} AS x FROM {} WHERE t.chapter_id = {chapter} AND {pred}",
            x.key, x.table
        ));
        if let Some(after) = s.a.clone() {
            let p = buf.arg(after);
            buf.push(&format!(" AND {} > {p}", x.key));
        }
        let lim = buf.arg(room as i64);
        buf.push(&format!(" ORDER BY {} LIMIT {lim}", x.key));
        // One joined row rather than a row per id (a page is 500 hops to SQLite's worker).
        buf.sql = tx.joined_ids(&buf.sql);
        let joined: String = tx.fetch_one(buf.query()).await?;
        let ids = scope::split_ids(&joined);
        if ids.len() < room {
            s.e += 1;
            s.a = None;
        } else {
            s.a = ids.last().cloned();
        }
        out.extend(ids.into_iter().map(|id| (entity, id)));
    }
    if cur.s.is_none() && out.len() < limit && cur.p < target {
        let room = limit - out.len();
        let mut buf = SqlBuf::default();
        let chapter = buf.arg(v.chapter_id.as_str());
        let (after, upto) = (buf.arg(cur.p), buf.arg(target));
        let pred = scope::predicate(v, &scope::CHANGE_LOG, &mut buf);
        let kinds: Vec<String> = entities.iter().map(|e| buf.arg(e.as_str())).collect();
        let lim = buf.arg(room as i64);
        buf.push(&format!(
            "SELECT t.position, t.entity, t.entity_id FROM change_log t WHERE t.chapter_id = {chapter} \
             AND t.position > {after} AND t.position <= {upto} AND t.entity IN ({}) AND {pred} \
             ORDER BY t.position LIMIT {lim}",
            kinds.join(", ")
        ));
        let entries: Vec<Entry> = tx.fetch_all(buf.query()).await?;
        cur.p = if entries.len() < room {
            target
        } else {
            entries.last().map_or(target, |e| e.position)
        };
        out.extend(entries.into_iter().map(|e| (e.entity, e.id)));
    }
    resolve(tx, v, scopes, out, now).await
}

/// Turns (entity, id) references into changes: the row as it is now if the viewer may see
/// it, else a removal. A row referenced twice is sent once, at its last place.
async fn resolve(
    tx: &mut Tx,
    v: &Viewer,
    scopes: &ScopeSet,
    refs: Vec<(Entity, String)>,
    now: i64,
) -> Result<Vec<Change>, SyncError> {
    let last: std::collections::HashMap<&(Entity, String), usize> =
        refs.iter().enumerate().map(|(i, r)| (r, i)).collect();
    let unique: Vec<(Entity, String)> = refs
        .iter()
        .enumerate()
        .filter(|(i, r)| last.get(r) == Some(i))
        .map(|(_, r)| r.clone())
        .collect();
    let mut loaded: std::collections::HashMap<(Entity, String), serde_json::Value> =
        std::collections::HashMap::new();
    for entity in SYNCED_ENTITIES {
        let ids: Vec<String> = unique
            .iter()
            .filter(|(e, _)| e == entity)
            .map(|(_, id)| id.clone())
            .collect();
        for (id, row) in rows::load_many_json(tx, *entity, &ids, &v.chapter_id, now).await? {
            loaded.insert((*entity, id), row);
        }
    }
    Ok(unique
        .into_iter()
        .map(|(entity, id)| match loaded.remove(&(entity, id.clone())) {
            Some(row) => {
                let row_scopes = rows::row_scopes(entity, &row, &v.chapter_id);
                if scope::visible(&row_scopes, scopes) {
                    Change {
                        entity,
                        version: row["version"].as_i64(),
                        id,
                        op: ChangeOp::Upsert,
                        scopes: row_scopes,
                        row: Some(row),
                    }
                } else {
                    removal(entity, id)
                }
            }
            None => removal(entity, id),
        })
        .collect())
}

fn removal(entity: Entity, id: String) -> Change {
    Change {
        entity,
        id,
        op: ChangeOp::Remove,
        version: None,
        scopes: Vec::new(),
        row: None,
    }
}
