//! The rule book: every command decided once, as a pure function over the facts it needs.
//!
//! The server and the device both decide commands here. Each side loads the facts its own
//! way (the server from its tables under row locks, the device from the rows it holds),
//! calls the same decision, and writes the effects it returns (the server with versioned
//! updates and audit rows, the device into its view). Nothing here does I/O or reads a
//! clock, so a decision is a function of its arguments, and the device's verdict is the
//! server's whenever the device holds the rows the command touches (the differential test
//! in `tests/tests/rule_book.rs` holds both sides to that).
//!
//! A decision checks, in this order: the input, who is asking, whether the caller's
//! version is current ([`fresh`]), then the command's own rules. Refusals carry a code from
//! [`crate::ErrorCode`], the one list of codes.

pub mod access;
pub mod admin;
pub mod assignment;
pub mod flag;
pub mod inbox;
pub mod input;
pub mod mentor;
pub mod pause;
pub mod session;
pub mod submission;
pub mod work_item;

use crate::machine::{Action, transition, transition_to};
use crate::{ErrorCode, Refusal, Role};

/// Who issues a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// A signed-in person.
    Person {
        /// Their user id.
        id: &'a str,
        /// Their role.
        role: Role,
    },
    /// The server's scheduled jobs: act anywhere in the chapter.
    Scheduler,
}

impl Caller<'_> {
    /// The person's role; `None` for the scheduler.
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Person { role, .. } => Some(*role),
            Caller::Scheduler => None,
        }
    }

    /// The person's id; `None` for the scheduler.
    pub fn id(&self) -> Option<&str> {
        match self {
            Caller::Person { id, .. } => Some(id),
            Caller::Scheduler => None,
        }
    }

    /// True when the caller is this user.
    pub fn is(&self, user_id: &str) -> bool {
        self.id() == Some(user_id)
    }

    /// Admins and the scheduler may act on anything in their chapter.
    pub fn chapter_wide(&self) -> bool {
        matches!(
            self,
            Caller::Scheduler
                | Caller::Person {
                    role: Role::Admin,
                    ..
                }
        )
    }
}

/// When a command is decided: `now` on the deciding side's clock, and, for a command that
/// waited on a device, when its person issued it (on the same clock). A time window the
/// person named may have passed meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The decision's time, epoch milliseconds.
    pub now: i64,
    /// When the person issued the command, if it waited offline.
    pub issued_at: Option<i64>,
}

impl Clock {
    /// A command decided the moment it was issued.
    pub fn at(now: i64) -> Self {
        Clock {
            now,
            issued_at: None,
        }
    }
}

/// Refuses when the caller said which version of the target row they saw and it is not the
/// current one (`stale`). Decided after access, so a stranger learns nothing of the row, and
/// before the status rules, so a race ends in a version conflict, never a misleading refusal.
/// The server adds the current row and who changed it.
pub fn fresh(stale: bool) -> Result<(), Refusal> {
    if stale {
        return Err(Refusal::new(
            ErrorCode::VERSION_CONFLICT,
            "the row was changed since you read it",
        ));
    }
    Ok(())
}

/// A refusal for a caller who may not act on the row.
pub(crate) fn forbidden(reason: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::FORBIDDEN, reason)
}

/// A status move a decision makes on an existing row: the action (the writer names it in
/// the audit log) and the status it leads to, already checked against the action's machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move<A: Action> {
    /// What happens to the row.
    pub action: A,
    /// The row's status after it.
    pub to: A::Status,
}

impl<A: Action> Move<A> {
    /// `action` from `from`, to its first target.
    pub fn of(from: A::Status, action: A) -> Result<Self, Refusal> {
        Ok(Move {
            action,
            to: transition(from, action)?,
        })
    }

    /// `action` from `from` to the chosen one of its targets.
    pub fn to(from: A::Status, action: A, to: A::Status) -> Result<Self, Refusal> {
        Ok(Move {
            action,
            to: transition_to(from, action, to)?,
        })
    }
}
