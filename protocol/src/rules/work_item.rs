//! Work-queue items: claim, complete, cancel, and the triggers that create them where the
//! work arises (DOMAIN.md, "Work-queue triggers"): a submission its review item
//! (`submission.rs`), a held session its follow-up, a no-show or a serious flag a risk
//! assessment. The server writes a trigger's item in the transaction of its cause.

use super::{Caller, Move, access, forbidden, fresh};
use crate::machine::{SessionAction, WorkItemAction};
use crate::model::{Flag, Session, WorkItem};
use crate::{FlagSeverity, Priority, Refusal, Role, WorkItemKind};

/// How long a mentor has to follow a session up, or to assess a mentee at risk.
pub const FOLLOWUP_SLA_MS: i64 = 24 * 3600 * 1000;

/// An item a trigger puts in a mentor's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Whose queue (none while the mentee has no mentor: admins handle it).
    pub mentor_id: Option<String>,
    /// The mentee it is about.
    pub mentee_id: String,
    /// The row that caused it (a submission, a session, a flag).
    pub reference_id: String,
    /// What to do.
    pub kind: WorkItemKind,
    /// How urgent.
    pub priority: Priority,
    /// When it is due.
    pub sla_due_at: i64,
}

/// The item a session's outcome creates: a follow-up of a held session (normal), a risk
/// assessment of a missed one (high), both due in 24 h; none for a cancelled one.
pub fn after_session(s: &Session, outcome: SessionAction, now: i64) -> Option<NewItem> {
    let (kind, priority) = match outcome {
        SessionAction::Complete => (WorkItemKind::SessionFollowup, Priority::Normal),
        SessionAction::NoShow => (WorkItemKind::RiskAssessment, Priority::High),
        SessionAction::Cancel => return None,
    };
    Some(NewItem {
        mentor_id: Some(s.mentor_id.clone()),
        mentee_id: s.mentee_id.clone(),
        reference_id: s.id.clone(),
        kind,
        priority,
        sla_due_at: now + FOLLOWUP_SLA_MS,
    })
}

/// The item a raised flag creates: a high or critical flag asks the mentee's mentor for an
/// urgent risk assessment within 24 h; a low or medium one creates none.
pub fn after_flag(flag: &Flag, mentor_id: Option<&str>, now: i64) -> Option<NewItem> {
    matches!(flag.severity, FlagSeverity::High | FlagSeverity::Critical).then(|| NewItem {
        mentor_id: mentor_id.map(str::to_owned),
        mentee_id: flag.mentee_id.clone(),
        reference_id: flag.id.clone(),
        kind: WorkItemKind::RiskAssessment,
        priority: Priority::Urgent,
        sla_due_at: now + FOLLOWUP_SLA_MS,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FlagStatus, SessionStatus};

    fn session() -> Session {
        Session {
            id: "s".into(),
            mentor_id: "m".into(),
            mentee_id: "e".into(),
            status: SessionStatus::Scheduled,
            scheduled_at: 0,
            duration_minutes: 30,
            meeting_link: None,
            notes: String::new(),
            notes_doc: None,
            version: 1,
            updated_at: 0,
        }
    }

    #[test]
    fn a_session_outcome_asks_for_a_follow_up_or_a_risk_assessment() {
        let held = after_session(&session(), SessionAction::Complete, 10).unwrap();
        assert_eq!(
            (
                held.kind,
                held.priority,
                held.sla_due_at,
                held.mentor_id.as_deref()
            ),
            (
                WorkItemKind::SessionFollowup,
                Priority::Normal,
                10 + FOLLOWUP_SLA_MS,
                Some("m")
            )
        );
        assert_eq!(held.reference_id, "s");
        let missed = after_session(&session(), SessionAction::NoShow, 10).unwrap();
        assert_eq!(
            (missed.kind, missed.priority),
            (WorkItemKind::RiskAssessment, Priority::High)
        );
        assert_eq!(after_session(&session(), SessionAction::Cancel, 10), None);
    }

    #[test]
    fn only_a_serious_flag_asks_for_an_urgent_assessment() {
        let flag = |severity| Flag {
            id: "f".into(),
            mentee_id: "e".into(),
            raised_by: "m".into(),
            severity,
            status: FlagStatus::Open,
            reason: "r".into(),
            created_at: 0,
            version: 1,
            updated_at: 0,
        };
        for s in [FlagSeverity::Low, FlagSeverity::Medium] {
            assert_eq!(after_flag(&flag(s), Some("m"), 0), None);
        }
        for s in [FlagSeverity::High, FlagSeverity::Critical] {
            let item = after_flag(&flag(s), Some("m"), 5).unwrap();
            assert_eq!(
                (
                    item.kind,
                    item.priority,
                    item.sla_due_at,
                    item.reference_id.as_str()
                ),
                (
                    WorkItemKind::RiskAssessment,
                    Priority::Urgent,
                    5 + FOLLOWUP_SLA_MS,
                    "f"
                )
            );
        }
        assert_eq!(
            after_flag(&flag(FlagSeverity::High), None, 0)
                .unwrap()
                .mentor_id,
            None
        );
    }
}
