//! A person's inbox: reading and dismissing the items dispatch delivered to them. The
//! rule is `mentorsync_protocol::rules::inbox`; the items are written by
//! `crate::notify::inbox` when a notification is dispatched.
//!
//! No audit row: an inbox item is the recipient's own state, not the programme's, and an
//! audit trail of who read what would only grow.

use super::{Ctx, DomainError};
use crate::db::q;
use mentorsync_protocol::ErrorCode;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::InboxItem;
use mentorsync_protocol::rules::inbox::{self as rules, InboxAction};

/// Reads or dismisses one of the caller's inbox items. One that is already so is applied
/// without a change (the recipient's other phone got there first).
pub async fn act(
    ctx: &mut Ctx<'_>,
    item_id: &str,
    action: InboxAction,
) -> Result<(Entity, String), DomainError> {
    let id = rules::item_input(item_id)?;
    let item: InboxItem = ctx.load(Entity::InboxItem, &id, true).await?;
    let change = match rules::decide(ctx.caller(), &item, action, ctx.now) {
        Err(r) if r.code == ErrorCode::NOT_FOUND => {
            return Err(DomainError::NotFound(Entity::InboxItem));
        }
        other => other?,
    };
    if let Some(c) = change {
        ctx.versioned_update(
            Entity::InboxItem,
            &item.id,
            q("UPDATE inbox_items SET read_at = $1, dismissed_at = $2, version = version + 1, updated_at = $3 \
               WHERE id = $4 AND version = $5")
            .bind(c.read_at)
            .bind(c.dismissed_at)
            .bind(ctx.now)
            .bind(item.id.as_str())
            .bind(item.version),
        )
        .await?;
        ctx.touched(Entity::InboxItem, &item.id, item.version + 1);
    }
    Ok((Entity::InboxItem, item.id))
}
