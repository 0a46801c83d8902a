//! Work-queue items: claim, complete, cancel. Creation happens where the work arises
//! (a mission submission creates its review item).

use super::access::require_manages_mentor;
use super::{Ctx, DomainError};
use crate::db::q;
use crate::rows::StoredWorkItem;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::machine::{WorkItemAction, transition};
use mentorsync_protocol::model::WorkItem;
use mentorsync_protocol::{Priority, Role, WorkItemKind};

type Primary = (Entity, String);

/// A new item for a mentor's queue.
pub(super) struct NewItem<'a> {
    pub mentor_id: Option<&'a str>,
    pub mentee_id: Option<&'a str>,
    pub kind: WorkItemKind,
    pub priority: Priority,
    pub sla_ms: i64,
    pub reference_id: Option<&'a str>,
}

/// Inserts an open item due `sla_ms` from now.
pub(super) async fn create(ctx: &mut Ctx<'_>, item: NewItem<'_>) -> Result<String, DomainError> {
    let id = uuid::Uuid::now_v7().to_string();
    ctx.tx
        .execute(
            q("INSERT INTO work_items (id, chapter_id, mentor_id, mentee_id, kind, priority, status, sla_due_at, \
               reference_id, created_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, 1, $9)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(item.mentor_id)
            .bind(item.mentee_id)
            .bind(item.kind.as_str())
            .bind(item.priority.as_str())
            .bind(ctx.now + item.sla_ms)
            .bind(item.reference_id)
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(Entity::WorkItem, &id, "create", None, "open", 1, None)
        .await?;
    Ok(id)
}

/// Moves an item by `action` with a versioned update and an audit row.
pub(super) async fn apply(
    ctx: &mut Ctx<'_>,
    item: &WorkItem,
    action: WorkItemAction,
) -> Result<i64, DomainError> {
    let next = transition(item.status, action)?;
    let completed_at = matches!(action, WorkItemAction::Complete).then_some(ctx.now);
    ctx.versioned_update(
        Entity::WorkItem,
        &item.id,
        q("UPDATE work_items SET status = $1, completed_at = COALESCE($2, completed_at), version = version + 1, \
           updated_at = $3 WHERE id = $4 AND version = $5")
        .bind(next.as_str())
        .bind(completed_at)
        .bind(ctx.now)
        .bind(item.id.as_str())
        .bind(item.version),
    )
    .await?;
    let verb = match action {
        WorkItemAction::Claim => "claim",
        WorkItemAction::Complete => "complete",
        WorkItemAction::Cancel => "cancel",
    };
    ctx.audit(
        Entity::WorkItem,
        &item.id,
        verb,
        Some(item.status.as_str()),
        next.as_str(),
        item.version + 1,
        None,
    )
    .await?;
    Ok(item.version + 1)
}

async fn target(
    ctx: &mut Ctx<'_>,
    item_id: &str,
    mentor_only: bool,
) -> Result<WorkItem, DomainError> {
    let item = ctx
        .load::<StoredWorkItem>(Entity::WorkItem, item_id, true)
        .await?
        .at(ctx.now);
    let owner = item.mentor_id.clone();
    match (ctx.actor.role(), owner) {
        (Some(Role::Mentor), Some(owner)) if ctx.actor.is(&owner) => {}
        (Some(Role::Mentor), _) => {
            return Err(DomainError::Forbidden(
                "this item is in another mentor's queue".into(),
            ));
        }
        _ if mentor_only && !ctx.actor.is_chapter_wide() => {
            return Err(DomainError::Forbidden(
                "only the item's mentor may do this".into(),
            ));
        }
        (_, Some(owner)) => require_manages_mentor(ctx, &owner).await?,
        (_, None) if ctx.actor.is_chapter_wide() => {}
        (_, None) => {
            return Err(DomainError::Forbidden(
                "unassigned items are handled by admins".into(),
            ));
        }
    }
    ctx.check_version(Entity::WorkItem, &item.id, item.version)
        .await?;
    Ok(item)
}

/// The mentor starts on an item.
pub async fn claim(ctx: &mut Ctx<'_>, item_id: &str) -> Result<Primary, DomainError> {
    let item = target(ctx, item_id, true).await?;
    apply(ctx, &item, WorkItemAction::Claim).await?;
    Ok((Entity::WorkItem, item.id))
}

/// The mentor finished an item.
pub async fn complete(ctx: &mut Ctx<'_>, item_id: &str) -> Result<Primary, DomainError> {
    let item = target(ctx, item_id, true).await?;
    apply(ctx, &item, WorkItemAction::Complete).await?;
    Ok((Entity::WorkItem, item.id))
}

/// The item is no longer needed.
pub async fn cancel(ctx: &mut Ctx<'_>, item_id: &str) -> Result<Primary, DomainError> {
    let item = target(ctx, item_id, false).await?;
    apply(ctx, &item, WorkItemAction::Cancel).await?;
    Ok((Entity::WorkItem, item.id))
}
