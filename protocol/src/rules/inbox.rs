//! A person's inbox: only they read or dismiss what was delivered to them.
//!
//! Reading and dismissing only ever move forward (unread → read, → dismissed) and carry
//! no status a coordinator acts on, so they ignore the version the device saw: two of the
//! recipient's phones marking the same item read offline both succeed, and the second
//! changes nothing. That is why these decisions take no `stale` flag.

use super::{Caller, input};
use crate::model::InboxItem;
use crate::{ErrorCode, Refusal};

/// What the recipient does with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxAction {
    /// Mark it read.
    Read,
    /// Take it out of the inbox (it also counts as read).
    Dismiss,
}

/// The item's times after the action; `None` when the action changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxChange {
    /// When it was read.
    pub read_at: Option<i64>,
    /// When it was dismissed.
    pub dismissed_at: Option<i64>,
}

/// The item id, checked.
pub fn item_input(item_id: &str) -> Result<String, Refusal> {
    input::id("item_id", item_id)
}

/// Reads or dismisses an item at `now`. Someone else's item is answered as not found: an
/// inbox is private, and its ids say nothing to anyone else.
pub fn decide(
    caller: Caller<'_>,
    item: &InboxItem,
    action: InboxAction,
    now: i64,
) -> Result<Option<InboxChange>, Refusal> {
    if !caller.is(&item.recipient_id) {
        return Err(Refusal::new(
            ErrorCode::NOT_FOUND,
            format!("inbox item {} not found", item.id),
        ));
    }
    let read_at = item.read_at.or(Some(now));
    let dismissed_at = match action {
        InboxAction::Read => item.dismissed_at,
        InboxAction::Dismiss => item.dismissed_at.or(Some(now)),
    };
    Ok(
        (read_at != item.read_at || dismissed_at != item.dismissed_at).then_some(InboxChange {
            read_at,
            dismissed_at,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn item(read_at: Option<i64>, dismissed_at: Option<i64>) -> InboxItem {
        InboxItem {
            id: "i".into(),
            recipient_id: "me".into(),
            notification_id: "n".into(),
            kind: "pause_requested".into(),
            entity: "pause".into(),
            entity_id: "p".into(),
            mentor_id: None,
            message: "m".into(),
            created_at: 1,
            read_at,
            dismissed_at,
            version: 1,
            updated_at: 1,
        }
    }

    const ME: Caller<'static> = Caller::Person {
        id: "me",
        role: Role::Coordinator,
    };

    #[test]
    fn only_the_recipient_acts_and_others_learn_nothing() {
        let admin = Caller::Person {
            id: "admin",
            role: Role::Admin,
        };
        let r = decide(admin, &item(None, None), InboxAction::Read, 5).unwrap_err();
        assert_eq!(r.code, ErrorCode::NOT_FOUND);
        let r = decide(Caller::Scheduler, &item(None, None), InboxAction::Read, 5).unwrap_err();
        assert_eq!(r.code, ErrorCode::NOT_FOUND);
    }

    #[test]
    fn reading_and_dismissing_move_forward_once() {
        let read = decide(ME, &item(None, None), InboxAction::Read, 5).unwrap();
        assert_eq!(
            read,
            Some(InboxChange {
                read_at: Some(5),
                dismissed_at: None
            })
        );
        assert_eq!(
            decide(ME, &item(Some(3), None), InboxAction::Read, 5).unwrap(),
            None
        );
        let dismissed = decide(ME, &item(None, None), InboxAction::Dismiss, 7).unwrap();
        assert_eq!(
            dismissed,
            Some(InboxChange {
                read_at: Some(7),
                dismissed_at: Some(7)
            })
        );
        assert_eq!(
            decide(ME, &item(Some(3), Some(4)), InboxAction::Dismiss, 9).unwrap(),
            None
        );
        assert_eq!(
            decide(ME, &item(Some(3), Some(4)), InboxAction::Read, 9).unwrap(),
            None
        );
    }
}
