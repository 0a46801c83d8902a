//! `POST /api/v1/sync/push`: a client's outbox, applied exactly once.
//!
//! A push runs in one transaction (group commit: one fsync per push, not per command)
//! that starts by locking the client's row and reading its `last_mutation_id`. A mutation
//! at or below it is a retry: its recorded verdict is returned and nothing runs. A mutation
//! past `last_mutation_id + 1` is a gap and the push is refused. Each new mutation runs
//! inside a savepoint, so a refused command's writes are undone while the others stay;
//! then `last_mutation_id` advances once and the verdicts are stored together. If the
//! database fails, nothing of the push is kept and the client sends it again. Commands are
//! run by `domain::apply`, the same code the REST endpoints use.

use super::SyncError;
use super::client;
use super::scope::{self, Viewer};
use crate::db::Acting;
use crate::db::{Db, Failure, Savepoint, classify};
use crate::domain::{self, Actor, DomainError};
use crate::error::ApiError;
use crate::rows;
use mentorsync_protocol::sync::{
    ChangedRow, Mutation, PushRequest, PushResponse, Verdict, VerdictOutcome,
};
use serde::Deserialize;

/// Most mutations in one push.
pub const MAX_BATCH: usize = 100;

/// Applies a push.
pub async fn push(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    req: PushRequest,
    now: impl Fn() -> i64 + Sync,
) -> Result<PushResponse, SyncError> {
    let client_id = client::parse_id(&req.client_id)?;
    if req.mutations.len() > MAX_BATCH {
        return Err(SyncError::BadRequest(format!(
            "at most {MAX_BATCH} mutations per push"
        )));
    }
    let ids: Vec<i64> = req
        .mutations
        .iter()
        .map(|m| m["mutation_id"].as_i64().filter(|id| *id > 0))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            SyncError::BadRequest("every mutation needs a positive integer `mutation_id`".into())
        })?;
    if ids.windows(2).any(|w| w[1] != w[0] + 1) {
        return Err(SyncError::BadRequest(
            "mutation ids in a push must increase by one".into(),
        ));
    }

    let received = now();
    // The device's clock minus ours (network latency makes it a little smaller, by the
    // time the request took to arrive: seconds at worst, never the hours of a wrong clock).
    let offset = req.sent_at.map_or(0, |sent| sent.saturating_sub(received));
    let state = client::touch(db, &client_id, user_id, received, None).await?;
    if ids.is_empty() {
        return Ok(PushResponse {
            last_mutation_id: state.last_mutation_id,
            verdicts: Vec::new(),
            server_time: now(),
        });
    }
    let mut items = Vec::with_capacity(ids.len());
    for (id, value) in ids.into_iter().zip(req.mutations) {
        // Notes edits are merged now, before the batch's write transaction.
        let premerged = match Mutation::deserialize(&value) {
            Ok(m) => domain::premerge(db, &actor.chapter_id, &m.command).await,
            Err(_) => None,
        };
        items.push(Item {
            id,
            value,
            premerged,
            offset,
        });
    }
    let (last_mutation_id, verdicts) = apply_batch(db, actor, &client_id, items, &now).await?;
    Ok(PushResponse {
        last_mutation_id,
        verdicts,
        server_time: now(),
    })
}

/// One pushed mutation: its id, its JSON, its notes merge if it edits notes, and its
/// device's clock offset.
struct Item {
    id: i64,
    value: serde_json::Value,
    premerged: Option<domain::Premerged>,
    offset: i64,
}

/// Two pushes that change the same rows in opposite orders can deadlock on PostgreSQL,
/// which then aborts one of them whole. That push runs again (a few times, after a short
/// pause) instead of answering 503: the device did nothing wrong.
async fn apply_batch(
    db: &Db,
    actor: &Actor,
    client_id: &str,
    items: Vec<Item>,
    now: &(dyn Fn() -> i64 + Sync),
) -> Result<(i64, Vec<Verdict>), SyncError> {
    const ATTEMPTS: u64 = 4;
    let mut attempt = 1;
    loop {
        match apply_batch_once(db, actor, client_id, &items, now).await {
            Err(SyncError::Database(e))
                if attempt < ATTEMPTS && crate::db::aborted_for_conflict(&e) =>
            {
                tracing::debug!(attempt, error = %e, "push aborted by a conflict; running it again");
                let pause = 5 * attempt + rand::random_range(0..10);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Runs a push in one transaction that first locks the client's row, so two copies of
/// the same push (a retry racing the original) run one after the other: the second finds
/// the first's verdicts and replays them. `last_mutation_id` advances once, and the
/// verdicts are written together at the end.
///
/// The commands' time is read once the client's row is locked: a clock read before a wait
/// would let this push act "before" a command that committed while it waited (a resume
/// ending a pause before that pause began).
async fn apply_batch_once(
    db: &Db,
    actor: &Actor,
    client_id: &str,
    items: &[Item],
    now: &(dyn Fn() -> i64 + Sync),
) -> Result<(i64, Vec<Verdict>), SyncError> {
    let mut tx = db.write_as(Acting::Chapter(&actor.chapter_id)).await?;
    let last = client::lock_last_mutation(&mut tx, client_id).await?;
    let now = now();
    if let Some(first) = items.first().map(|i| i.id)
        && first > last + 1
    {
        return Err(SyncError::Gap { expected: last + 1 });
    }
    let mut out = Vec::with_capacity(items.len());
    let mut fresh = Vec::new();
    let mut point = None;
    for item in items {
        let id = item.id;
        if id <= last {
            let recorded = client::recorded(&mut tx, client_id, id).await?;
            out.push(recorded.ok_or_else(|| {
                SyncError::BadRequest(format!("no verdict is recorded for mutation {id}"))
            })?);
            continue;
        }
        let mark = match point.take() {
            Some(previous) => tx.next_savepoint(previous).await?,
            None => tx.savepoint().await?,
        };
        let (name, verdict) = apply(&mut tx, &mark, actor, client_id, item, now).await?;
        point = Some(mark);
        fresh.push((name, verdict.clone()));
        out.push(verdict);
    }
    let Some((_, newest)) = fresh.last() else {
        tx.rollback().await?;
        return Ok((last, out));
    };
    let newest = newest.mutation_id;
    client::advance(&mut tx, client_id, newest).await?;
    client::record(&mut tx, client_id, &fresh, now).await?;
    tx.commit().await?;
    Ok((newest, out))
}

/// Runs one mutation after savepoint `point` and returns its command's name and verdict;
/// a refused command's writes are rolled back to the savepoint.
async fn apply(
    tx: &mut crate::db::Tx,
    point: &Savepoint,
    actor: &Actor,
    client_id: &str,
    item: &Item,
    now: i64,
) -> Result<(String, Verdict), SyncError> {
    let id = item.id;
    let parsed = Mutation::deserialize(&item.value);
    let (name, refusal) = match parsed {
        Err(e) => (
            "unknown".to_owned(),
            Refusal::new(
                mentorsync_protocol::ErrorCode::BAD_COMMAND,
                format!("not a valid command: {e}"),
                None,
            ),
        ),
        Ok(mut m) => match domain::apply_premerged(
            tx,
            &actor
                .via(client_id, id)
                .issued(m.issued_at.map(|t| t.saturating_sub(item.offset))),
            now,
            {
                m.command.to_server_clock(item.offset);
                &m.command
            },
            m.expected_version,
            item.premerged.clone(),
        )
        .await
        {
            Ok(applied) => {
                let verdict = Verdict {
                    mutation_id: id,
                    outcome: VerdictOutcome::Applied {
                        entity: applied.entity,
                        id: applied.id,
                        changes: applied
                            .changes
                            .into_iter()
                            .map(|c| ChangedRow {
                                entity: c.entity,
                                id: c.id,
                                version: c.version,
                            })
                            .collect(),
                    },
                };
                return Ok((m.command.name().to_owned(), verdict));
            }
            Err(e) => (
                m.command.name().to_owned(),
                Refusal::from_domain(e, m.command.target())?,
            ),
        },
    };
    // Refused: undo whatever the command wrote, then record the refusal.
    tx.rollback_to(point).await?;
    let current = match refusal.target {
        Some((entity, target_id)) if refusal.show_current => {
            visible_row(tx, actor, entity, &target_id, now).await?
        }
        _ => None,
    };
    let verdict = Verdict {
        mutation_id: id,
        outcome: VerdictOutcome::Rejected {
            code: refusal.code,
            reason: refusal.reason,
            current: refusal.current.or(current),
        },
    };
    Ok((name, verdict))
}

/// The refused command's target as the caller may see it, or `None`: a command may name a
/// row of the chapter the caller cannot see (another coordinator's mentee), and its
/// refusal must not hand that row over.
async fn visible_row(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    entity: mentorsync_protocol::command::Entity,
    id: &str,
    now: i64,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let (Some(user_id), Some(role)) = (actor.user_id(), actor.role()) else {
        return Ok(None);
    };
    let Some(row) = rows::load_json(tx, entity, id, &actor.chapter_id, now).await? else {
        return Ok(None);
    };
    let viewer = Viewer {
        chapter_id: actor.chapter_id.clone(),
        user_id: user_id.to_owned(),
        role,
    };
    let held = scope::current(tx, &viewer).await?;
    let row_scopes = rows::row_scopes(entity, &row, &actor.chapter_id);
    Ok((scope::role_sees(role, entity) && scope::visible(&row_scopes, &held)).then_some(row))
}

struct Refusal {
    code: String,
    reason: String,
    current: Option<serde_json::Value>,
    show_current: bool,
    target: Option<(mentorsync_protocol::command::Entity, String)>,
}

impl Refusal {
    fn new(code: &str, reason: String, current: Option<serde_json::Value>) -> Self {
        Refusal {
            code: code.to_owned(),
            reason,
            current,
            show_current: false,
            target: None,
        }
    }

    /// A command's failure as a verdict, with the code and message REST gives for the same
    /// cause (one mapping, [`ApiError`]), so no database text reaches a device. Storage
    /// failures are not verdicts: the push stops and the client retries later.
    fn from_domain(
        e: DomainError,
        target: Option<(mentorsync_protocol::command::Entity, &str)>,
    ) -> Result<Refusal, SyncError> {
        let (show_current, current) = match &e {
            DomainError::Refused(_) | DomainError::Conflict(_) => (true, None),
            DomainError::VersionConflict { current, .. } => (false, current.clone()),
            DomainError::Database(db) => match classify(db) {
                Failure::Unique => (true, None),
                Failure::Constraint => (false, None),
                Failure::Busy | Failure::Other => {
                    let DomainError::Database(db) = e else {
                        unreachable!()
                    };
                    return Err(SyncError::Database(db));
                }
            },
            DomainError::Invalid(_)
            | DomainError::TooLarge(_)
            | DomainError::NotFound(_)
            | DomainError::Forbidden(_) => (false, None),
        };
        let api = ApiError::from(e);
        Ok(Refusal {
            code: api.code.to_owned(),
            reason: api.message,
            current,
            show_current,
            target: target
                .filter(|(_, id)| !id.is_empty())
                .map(|(e, id)| (e, id.to_owned())),
        })
    }
}
