//! The status machines of DOMAIN.md as data plus one pure function.
//!
//! Each action names the transitions it may take (`from → to`). `transition` is the only
//! way any status changes: the server runs it authoritatively inside the command's
//! transaction, the client runs it optimistically over its pending commands, so both
//! refuse with the same words.

use crate::status::*;
use std::fmt::Display;

/// Why a command cannot be applied. `code` is stable and machine-readable; `reason` is a
/// sentence a coordinator can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// Stable error code, e.g. `invalid_transition`.
    pub code: &'static str,
    /// Human-readable explanation naming the current status.
    pub reason: String,
}

impl Refusal {
    /// A refusal with a code and a reason.
    pub fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Refusal {
            code,
            reason: reason.into(),
        }
    }
}

/// An action on an entity with a status machine.
pub trait Action: Copy {
    /// The status type the action moves.
    type Status: Copy + Eq + std::fmt::Debug + Display + 'static;
    /// The entity's name as a person says it ("mentor", "work item").
    const ENTITY: &'static str;
    /// The verb for messages ("pause", "resume").
    fn verb(self) -> &'static str;
    /// Every `(from, to)` pair this action may take.
    fn table(self) -> &'static [(Self::Status, Self::Status)];
}

/// Applies `action` to an entity in `current` status.
///
/// Actions with two possible targets (approving a pause) list both; the caller picks with
/// [`transition_to`]. Here the first listed target wins.
pub fn transition<A: Action>(current: A::Status, action: A) -> Result<A::Status, Refusal> {
    match action.table().iter().find(|(from, _)| *from == current) {
        Some((_, to)) => Ok(*to),
        None => Err(refuse(current, action)),
    }
}

/// Like [`transition`], for an action that may reach several statuses: checks that
/// `current → target` is one of the action's transitions.
pub fn transition_to<A: Action>(
    current: A::Status,
    action: A,
    target: A::Status,
) -> Result<A::Status, Refusal> {
    if action
        .table()
        .iter()
        .any(|&(from, to)| from == current && to == target)
    {
        Ok(target)
    } else {
        Err(refuse(current, action))
    }
}

fn refuse<A: Action>(current: A::Status, action: A) -> Refusal {
    let mut allowed: Vec<String> = Vec::new();
    for (from, _) in action.table() {
        let s = from.to_string();
        if !allowed.contains(&s) {
            allowed.push(s);
        }
    }
    let a = if A::ENTITY.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    Refusal::new(
        crate::ErrorCode::INVALID_TRANSITION,
        format!(
            "cannot {} {a} {} that is {current}; only {a} {} that is {} can be",
            action.verb(),
            A::ENTITY,
            A::ENTITY,
            allowed.join(" or "),
        ),
    )
}

macro_rules! actions {
    ($(#[$meta:meta])* $name:ident: $status:ident, $entity:literal {
        $($(#[$vmeta:meta])* $variant:ident $verb:literal [$(($from:ident, $to:ident)),+]),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every action, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl Action for $name {
            type Status = $status;
            const ENTITY: &'static str = $entity;
            fn verb(self) -> &'static str { match self { $($name::$variant => $verb),+ } }
            fn table(self) -> &'static [($status, $status)] {
                match self { $($name::$variant => &[$(($status::$from, $status::$to)),+]),+ }
            }
        }
    };
}

actions!(
    /// What can happen to a mentor's status.
    MentorAction: MentorStatus, "mentor" {
        /// Coordinator, admin, or the scheduler when a certification expires or a pause starts.
        Pause "pause" [(Active, Paused)],
        /// Coordinator, admin, or the scheduler when the pause's end passes.
        Resume "resume" [(Paused, Active)],
        /// Coordinator or admin.
        Deactivate "deactivate" [(Active, Inactive), (Paused, Inactive)],
        /// Admin only, with a valid certification.
        Reactivate "reactivate" [(Inactive, Active)],
    }
);

actions!(
    /// What can happen to a pause.
    PauseAction: PauseStatus, "pause" {
        /// Approve a request: active when it has started, else scheduled.
        Approve "approve" [(Requested, Active), (Requested, Scheduled)],
        /// Decline a request.
        Decline "decline" [(Requested, Declined)],
        /// A scheduled pause whose start has passed.
        Start "start" [(Scheduled, Active)],
        /// The mentor resumes.
        End "end" [(Active, Ended)],
        /// Withdrawn before or during.
        Cancel "cancel" [(Requested, Cancelled), (Scheduled, Cancelled), (Active, Cancelled)],
    }
);

actions!(
    /// What can happen to an account.
    AccountAction: AccountStatus, "account" {
        /// Admin: every session ends, sign-in is refused.
        Disable "disable" [(Active, Disabled)],
        /// Admin.
        Enable "enable" [(Disabled, Active)],
    }
);

actions!(
    /// What can happen to a mentor↔mentee assignment.
    AssignmentAction: AssignmentStatus, "mentee assignment" {
        /// The mentee leaves this mentor.
        End "end" [(Active, Ended)],
    }
);

actions!(
    /// What can happen to a session.
    SessionAction: SessionStatus, "session" {
        /// It took place.
        Complete "complete" [(Scheduled, Completed)],
        /// Called off beforehand.
        Cancel "cancel" [(Scheduled, Cancelled)],
        /// The mentee did not come.
        NoShow "mark as no-show" [(Scheduled, NoShow)],
    }
);

actions!(
    /// What can happen to a mission submission.
    SubmissionAction: SubmissionStatus, "submission" {
        /// The mentor accepts the work.
        Approve "approve" [(Submitted, Approved)],
        /// The mentor asks for another attempt.
        RequestChanges "request changes on" [(Submitted, ChangesRequested)],
        /// The mentee submits again after changes were requested.
        Resubmit "resubmit" [(ChangesRequested, Submitted)],
    }
);

actions!(
    /// What can happen to a work-queue item.
    WorkItemAction: WorkItemStatus, "work item" {
        /// The mentor starts on it.
        Claim "claim" [(Open, InProgress)],
        /// The mentor finished it.
        Complete "complete" [(InProgress, Done)],
        /// No longer needed.
        Cancel "cancel" [(Open, Cancelled), (InProgress, Cancelled)],
    }
);

actions!(
    /// What can happen to a risk flag.
    FlagAction: FlagStatus, "flag" {
        /// A coordinator has seen it.
        Acknowledge "acknowledge" [(Open, Acknowledged)],
        /// The risk is dealt with.
        Resolve "resolve" [(Acknowledged, Resolved)],
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every (status, action) pair of one machine against the expected list of
    /// allowed transitions written out independently of the tables above.
    fn check_machine<A>(
        statuses: &[A::Status],
        actions: &[A],
        allowed: &[(A::Status, A, A::Status)],
    ) where
        A: Action + std::fmt::Debug + PartialEq,
        A::Status: std::fmt::Debug,
    {
        for &current in statuses {
            for &action in actions {
                let expected: Vec<A::Status> = allowed
                    .iter()
                    .filter(|(f, a, _)| *f == current && *a == action)
                    .map(|t| t.2)
                    .collect();
                match transition(current, action) {
                    Ok(next) => {
                        assert!(
                            !expected.is_empty(),
                            "{action:?} from {current} should be refused"
                        );
                        assert_eq!(next, expected[0], "{action:?} from {current}");
                        for &target in &expected {
                            assert_eq!(transition_to(current, action, target), Ok(target));
                        }
                    }
                    Err(refusal) => {
                        assert!(
                            expected.is_empty(),
                            "{action:?} from {current} should be allowed"
                        );
                        assert_eq!(refusal.code, "invalid_transition");
                        assert!(
                            refusal.reason.contains(&format!("that is {current};")),
                            "reason must name the current status: {}",
                            refusal.reason
                        );
                        assert!(refusal.reason.contains(action.verb()), "{}", refusal.reason);
                    }
                }
                for &target in statuses {
                    if !expected.contains(&target) {
                        assert!(transition_to(current, action, target).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn mentor_machine() {
        use MentorAction::*;
        use MentorStatus::*;
        check_machine(
            MentorStatus::ALL,
            MentorAction::ALL,
            &[
                (Active, Pause, Paused),
                (Paused, Resume, Active),
                (Active, Deactivate, Inactive),
                (Paused, Deactivate, Inactive),
                (Inactive, Reactivate, Active),
            ],
        );
    }

    #[test]
    fn pause_machine() {
        use PauseAction::*;
        use PauseStatus::*;
        check_machine(
            PauseStatus::ALL,
            PauseAction::ALL,
            &[
                (Requested, Approve, Active),
                (Requested, Approve, Scheduled),
                (Requested, Decline, Declined),
                (Scheduled, Start, Active),
                (Active, End, Ended),
                (Requested, PauseAction::Cancel, Cancelled),
                (Scheduled, PauseAction::Cancel, Cancelled),
                (Active, PauseAction::Cancel, Cancelled),
            ],
        );
    }

    #[test]
    fn account_machine() {
        use AccountAction as A;
        use AccountStatus as S;
        check_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Active, A::Disable, S::Disabled),
                (S::Disabled, A::Enable, S::Active),
            ],
        );
    }

    #[test]
    fn assignment_machine() {
        check_machine(
            AssignmentStatus::ALL,
            AssignmentAction::ALL,
            &[(
                AssignmentStatus::Active,
                AssignmentAction::End,
                AssignmentStatus::Ended,
            )],
        );
    }

    #[test]
    fn session_machine() {
        use SessionAction as A;
        use SessionStatus as S;
        check_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Scheduled, A::Complete, S::Completed),
                (S::Scheduled, A::Cancel, S::Cancelled),
                (S::Scheduled, A::NoShow, S::NoShow),
            ],
        );
    }

    #[test]
    fn submission_machine() {
        use SubmissionAction as A;
        use SubmissionStatus as S;
        check_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Submitted, A::Approve, S::Approved),
                (S::Submitted, A::RequestChanges, S::ChangesRequested),
                (S::ChangesRequested, A::Resubmit, S::Submitted),
            ],
        );
    }

    #[test]
    fn work_item_machine() {
        use WorkItemAction as A;
        use WorkItemStatus as S;
        check_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Open, A::Claim, S::InProgress),
                (S::InProgress, A::Complete, S::Done),
                (S::Open, A::Cancel, S::Cancelled),
                (S::InProgress, A::Cancel, S::Cancelled),
            ],
        );
    }

    #[test]
    fn flag_machine() {
        use FlagAction as A;
        use FlagStatus as S;
        check_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Open, A::Acknowledge, S::Acknowledged),
                (S::Acknowledged, A::Resolve, S::Resolved),
            ],
        );
    }

    #[test]
    fn refusal_reads_like_a_sentence_with_its_article() {
        let r = transition(AccountStatus::Disabled, AccountAction::Disable).unwrap_err();
        assert_eq!(
            r.reason,
            "cannot disable an account that is disabled; only an account that is active can be"
        );
    }

    #[test]
    fn refusal_reads_like_a_sentence() {
        let r = transition(MentorStatus::Active, MentorAction::Resume).unwrap_err();
        assert_eq!(
            r.reason,
            "cannot resume a mentor that is active; only a mentor that is paused can be"
        );
    }
}
