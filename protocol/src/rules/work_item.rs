//! Work-queue items: claim, complete, cancel. Items are created where the work arises (a
//! submission creates its review item, `submission.rs`).

use super::{Caller, Move, access, forbidden, fresh};
use crate::machine::WorkItemAction;
use crate::model::WorkItem;
use crate::{Refusal, Role};

/// Moves an item. Claiming and completing are the item's mentor's (or an admin's);
/// cancelling is also their coordinator's. `coordinates`: the caller coordinates the
/// item's mentor.
pub fn act(
    caller: Caller<'_>,
    item: &WorkItem,
    coordinates: bool,
    stale: bool,
    action: WorkItemAction,
) -> Result<Move<WorkItemAction>, Refusal> {
    let mentor_only = action != WorkItemAction::Cancel;
    match (caller.role(), item.mentor_id.as_deref()) {
        (Some(Role::Mentor), Some(owner)) if caller.is(owner) => {}
        (Some(Role::Mentor), _) => return Err(forbidden("this item is in another mentor's queue")),
        _ if mentor_only && !caller.chapter_wide() => {
            return Err(forbidden("only the item's mentor may do this"));
        }
        (_, Some(_)) => access::manages_mentor(caller, coordinates)?,
        (_, None) if caller.chapter_wide() => {}
        (_, None) => return Err(forbidden("unassigned items are handled by admins")),
    }
    fresh(stale)?;
    Move::of(item.status, action)
}

/// Whether the scheduler may mark `item` overdue now: open or in progress, past its SLA,
/// and not marked before (`marked`).
pub fn overdue_due(now: i64, item: &WorkItem, marked: bool) -> Result<(), Refusal> {
    let open = matches!(
        item.status,
        crate::WorkItemStatus::Open | crate::WorkItemStatus::InProgress
    );
    if !open || item.sla_due_at >= now || marked {
        return Err(Refusal::new(
            crate::ErrorCode::NOT_DUE,
            "the item is not an unmarked open item past its SLA",
        ));
    }
    Ok(())
}
