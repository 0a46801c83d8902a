//! `POST /api/v1/sync/push`: a client's outbox, applied exactly once.
//!
//! The new mutations of a push run in one transaction (group commit: one fsync per push,
//! not per command), each inside a savepoint, so a refused command's writes are undone
//! while the others stay. For each, the transaction advances the client's
//! `last_mutation_id` (with `WHERE last_mutation_id = id - 1`, so two copies of the same
//! push cannot both apply it) and records the verdict. If the database fails, nothing of
//! the push is kept and the client sends it again. A mutation at or below
//! `last_mutation_id` is a retry: its recorded verdict is returned and nothing runs. A
//! mutation past `last_mutation_id + 1` is a gap and the push is refused. Commands are run
//! by `domain::execute`, the same code the REST endpoints use.

use super::SyncError;
use super::client;
use crate::db::{Db, Failure, classify, q};
use crate::domain::{self, Actor, DomainError};
use crate::rows;
use mentorsync_protocol::sync::{
    ChangedRow, Mutation, PushRequest, PushResponse, Verdict, VerdictOutcome,
};

/// Most mutations in one push.
pub const MAX_BATCH: usize = 100;

/// Applies a push.
pub async fn push(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    req: PushRequest,
    now: impl Fn() -> i64,
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

    let state = client::touch(db, &client_id, user_id, now(), None).await?;
    let mut last = state.last_mutation_id;
    if let Some(&first) = ids.first()
        && first > last + 1
    {
        return Err(SyncError::Gap { expected: last + 1 });
    }

    let mut verdicts = Vec::with_capacity(ids.len());
    let mut fresh = Vec::new();
    for (id, value) in ids.into_iter().zip(req.mutations) {
        if id <= last {
            verdicts.push(replay(db, &client_id, id).await?);
        } else {
            fresh.push((id, value));
        }
    }
    if let Some((id, _)) = fresh.last() {
        last = *id;
    }
    verdicts.extend(apply_batch(db, actor, &client_id, fresh, now()).await?);
    Ok(PushResponse {
        last_mutation_id: last,
        verdicts,
    })
}

/// Two pushes that change the same rows in opposite orders can deadlock on PostgreSQL,
/// which then aborts one of them whole. That push runs again (a few times, after a short
/// pause) instead of answering 503: the device did nothing wrong.
async fn apply_batch(
    db: &Db,
    actor: &Actor,
    client_id: &str,
    items: Vec<(i64, serde_json::Value)>,
    now: i64,
) -> Result<Vec<Verdict>, SyncError> {
    const ATTEMPTS: u64 = 4;
    let mut attempt = 1;
    loop {
        match apply_batch_once(db, actor, client_id, items.clone(), now).await {
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

/// Runs new mutations in one transaction. When another copy of the same push claims a
/// mutation first, what this one did so far is kept and the rest is answered from the
/// record.
async fn apply_batch_once(
    db: &Db,
    actor: &Actor,
    client_id: &str,
    items: Vec<(i64, serde_json::Value)>,
    now: i64,
) -> Result<Vec<Verdict>, SyncError> {
    let mut out = Vec::with_capacity(items.len());
    if items.is_empty() {
        return Ok(out);
    }
    let mut tx = db.write().await?;
    let mut rest = items.into_iter();
    for (id, value) in rest.by_ref() {
        if !claim(&mut tx, client_id, id).await? {
            tx.commit().await?;
            out.push(replay(db, client_id, id).await?);
            for (id, _) in rest {
                out.push(replay(db, client_id, id).await?);
            }
            return Ok(out);
        }
        out.push(apply(&mut tx, actor, client_id, id, value, now).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn replay(db: &Db, client_id: &str, id: i64) -> Result<Verdict, SyncError> {
    let mut tx = db.read().await?;
    let v = client::recorded(&mut tx, client_id, id).await?;
    tx.rollback().await?;
    v.ok_or_else(|| SyncError::BadRequest(format!("no verdict is recorded for mutation {id}")))
}

/// Runs one claimed mutation inside a savepoint and records its verdict; a refused
/// command's writes are rolled back and the refusal is recorded instead.
async fn apply(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    client_id: &str,
    id: i64,
    value: serde_json::Value,
    now: i64,
) -> Result<Verdict, SyncError> {
    let parsed = serde_json::from_value::<Mutation>(value);
    let point = tx.savepoint().await?;
    let (name, refusal) = match parsed {
        Err(e) => (
            "unknown".to_owned(),
            Refusal::new("bad_command", format!("not a valid command: {e}"), None),
        ),
        Ok(m) => match domain::execute(
            tx,
            &actor.via(client_id, id),
            now,
            &m.command,
            m.expected_version,
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
                tx.release(point).await?;
                record(tx, client_id, id, m.command.name(), &verdict, now).await?;
                return Ok(verdict);
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
            rows::load_json(tx, entity, &target_id, &actor.chapter_id, now).await?
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
    record(tx, client_id, id, &name, &verdict, now).await?;
    Ok(verdict)
}

/// Advances `last_mutation_id` from `id - 1` to `id`; false when another push got there.
async fn claim(tx: &mut crate::db::Tx, client_id: &str, id: i64) -> Result<bool, sqlx::Error> {
    Ok(tx
        .execute(
            q("UPDATE sync_clients SET last_mutation_id = $1 WHERE client_id = $2 AND last_mutation_id = $3")
                .bind(id)
                .bind(client_id)
                .bind(id - 1),
        )
        .await?
        == 1)
}

async fn record(
    tx: &mut crate::db::Tx,
    client_id: &str,
    id: i64,
    name: &str,
    verdict: &Verdict,
    now: i64,
) -> Result<(), sqlx::Error> {
    tx.execute(
        q("INSERT INTO sync_mutations (client_id, mutation_id, name, verdict, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(client_id)
            .bind(id)
            .bind(name)
            .bind(serde_json::to_string(verdict).unwrap_or_default())
            .bind(now),
    )
    .await?;
    Ok(())
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

    /// A command's failure as a verdict. Storage failures are not verdicts: the push stops
    /// and the client retries later.
    fn from_domain(
        e: DomainError,
        target: Option<(mentorsync_protocol::command::Entity, &str)>,
    ) -> Result<Refusal, SyncError> {
        let reason = e.to_string();
        let (code, show_current, current) = match e {
            DomainError::Invalid(_) => ("validation_failed".to_owned(), false, None),
            DomainError::NotFound(_) => ("not_found".to_owned(), false, None),
            DomainError::Forbidden(_) => ("forbidden".to_owned(), false, None),
            DomainError::VersionConflict { current, .. } => {
                ("version_conflict".to_owned(), false, current)
            }
            DomainError::Refused(r) => (r.code.to_owned(), true, None),
            DomainError::Conflict(_) => ("conflict".to_owned(), true, None),
            DomainError::Database(db) => match classify(&db) {
                Failure::Unique => ("conflict".to_owned(), true, None),
                Failure::Constraint => ("validation_failed".to_owned(), false, None),
                Failure::Busy | Failure::Other => return Err(SyncError::Database(db)),
            },
        };
        Ok(Refusal {
            code,
            reason,
            current,
            show_current,
            target: target
                .filter(|(_, id)| !id.is_empty())
                .map(|(e, id)| (e, id.to_owned())),
        })
    }
}
