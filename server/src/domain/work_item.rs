//! Work-queue items: facts under lock and the writes of their moves. The rules are
//! `mentorsync_protocol::rules::work_item`.

use super::{Ctx, DomainError};
use crate::db::q;
use crate::rows::StoredWorkItem;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::machine::{Action, WorkItemAction};
use mentorsync_protocol::model::WorkItem;
use mentorsync_protocol::rules::Move;
use mentorsync_protocol::rules::work_item::{self as rules, NewItem};

type Primary = (Entity, String);

/// Puts a trigger's item in its mentor's queue, in the transaction of its cause.
pub(super) async fn queue(ctx: &mut Ctx<'_>, item: &NewItem) -> Result<(), DomainError> {
    let id = uuid::Uuid::now_v7().to_string();
    ctx.tx
        .execute(
            q("INSERT INTO work_items (id, chapter_id, mentor_id, mentee_id, kind, priority, status, sla_due_at, \
               reference_id, created_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, 1, $9)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(item.mentor_id.as_deref())
            .bind(item.mentee_id.as_str())
            .bind(item.kind.as_str())
            .bind(item.priority.as_str())
            .bind(item.sla_due_at)
            .bind(item.reference_id.as_str())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(Entity::WorkItem, &id, "create", None, "open", 1, None)
        .await
}

/// Writes an item's move with a versioned update and an audit row; its new version.
pub(super) async fn write(
    ctx: &mut Ctx<'_>,
    item: &WorkItem,
    m: Move<WorkItemAction>,
) -> Result<i64, DomainError> {
    let completed_at = matches!(m.action, WorkItemAction::Complete).then_some(ctx.now);
    ctx.versioned_update(
        Entity::WorkItem,
        &item.id,
        q("UPDATE work_items SET status = $1, completed_at = COALESCE($2, completed_at), version = version + 1, \
           updated_at = $3 WHERE id = $4 AND version = $5")
        .bind(m.to.as_str())
        .bind(completed_at)
        .bind(ctx.now)
        .bind(item.id.as_str())
        .bind(item.version),
    )
    .await?;
    ctx.audit(
        Entity::WorkItem,
        &item.id,
        m.action.verb(),
        Some(item.status.as_str()),
        m.to.as_str(),
        item.version + 1,
        None,
    )
    .await?;
    Ok(item.version + 1)
}

/// Claims, completes or cancels an item.
pub async fn act(
    ctx: &mut Ctx<'_>,
    item_id: &str,
    action: WorkItemAction,
) -> Result<Primary, DomainError> {
    let item = ctx
        .load::<StoredWorkItem>(Entity::WorkItem, item_id, true)
        .await?
        .at(ctx.now);
    let coordinates = match item.mentor_id.clone() {
        Some(owner) => ctx.coordinates(&owner).await?,
        None => false,
    };
    let stale = ctx.stale(item.version);
    let verdict = rules::act(ctx.caller(), &item, coordinates, stale, action);
    let m = ctx.decided((Entity::WorkItem, &item.id), verdict).await?;
    write(ctx, &item, m).await?;
    Ok((Entity::WorkItem, item.id))
}
