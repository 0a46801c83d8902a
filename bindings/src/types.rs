//! The domain's enums as native enums, and times as the platform's time type
//! (`java.time.Instant` in Kotlin, `Date` in Swift, `datetime` in Python). The wire's
//! epoch milliseconds stay inside the core.

use mentorsync_core::protocol;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Epoch milliseconds as the platform's time.
pub(crate) fn time(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// The platform's time as epoch milliseconds.
pub(crate) fn ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_millis().min(i64::MAX as u128) as i64),
    }
}

/// A native enum mirroring a core one, converted both ways by name.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident = $core:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<$core> for $name {
            fn from(c: $core) -> Self {
                type C = $core;
                match c { $(C::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $core {
            fn from(c: $name) -> Self {
                type C = $core;
                match c { $($name::$variant => C::$variant),+ }
            }
        }
    };
}
pub(crate) use mirror;

mirror!(
    /// A person's role in their chapter.
    Role = protocol::Role {
        /// Runs the chapter.
        Admin,
        /// Looks after a roster of mentors.
        Coordinator,
        /// Mentors mentees.
        Mentor,
        /// Is mentored.
        Mentee,
        /// Reads cohort dashboards.
        Director,
    }
);
mirror!(
    /// Who carries a push to this phone.
    PushPlatform = protocol::PushPlatform {
        /// Firebase Cloud Messaging (Android).
        Fcm,
        /// Apple Push Notification service (iOS).
        Apns,
    }
);
mirror!(
    /// Whether an account may sign in.
    AccountStatus = protocol::AccountStatus {
        /// May sign in.
        Active,
        /// Cannot sign in.
        Disabled,
    }
);
mirror!(
    /// A mentor's availability for new work.
    MentorStatus = protocol::MentorStatus {
        /// Available.
        Active,
        /// On a pause.
        Paused,
        /// Left the programme.
        Inactive,
    }
);
mirror!(
    /// Where a pause is in its life.
    PauseStatus = protocol::PauseStatus {
        /// Asked for by the mentor; waits for a coordinator.
        Requested,
        /// Approved or set for later.
        Scheduled,
        /// Running.
        Active,
        /// Over.
        Ended,
        /// Refused by a coordinator.
        Declined,
        /// Withdrawn.
        Cancelled,
    }
);
mirror!(
    /// A mentor↔mentee or coordinator↔mentor assignment.
    AssignmentStatus = protocol::AssignmentStatus {
        /// Current.
        Active,
        /// Over.
        Ended,
    }
);
mirror!(
    /// A mentoring session.
    SessionStatus = protocol::SessionStatus {
        /// Planned.
        Scheduled,
        /// Held.
        Completed,
        /// Called off.
        Cancelled,
        /// The mentee did not come.
        NoShow,
    }
);
mirror!(
    /// A mission submission.
    SubmissionStatus = protocol::SubmissionStatus {
        /// Waiting for review.
        Submitted,
        /// Accepted.
        Approved,
        /// Sent back.
        ChangesRequested,
    }
);
mirror!(
    /// A work-queue item.
    WorkItemStatus = protocol::WorkItemStatus {
        /// Not started.
        Open,
        /// Being worked on.
        InProgress,
        /// Finished.
        Done,
        /// Dropped.
        Cancelled,
    }
);
mirror!(
    /// What a work-queue item asks for.
    WorkItemKind = protocol::WorkItemKind {
        /// Review a mission submission.
        MissionReview,
        /// Follow a session up.
        SessionFollowup,
        /// Assess a mentee at risk.
        RiskAssessment,
        /// Give feedback on a goal.
        GoalFeedback,
    }
);
mirror!(
    /// Work-queue priority.
    Priority = protocol::Priority {
        /// Low.
        Low,
        /// Normal.
        Normal,
        /// High.
        High,
        /// Urgent.
        Urgent,
    }
);
mirror!(
    /// A risk flag's state.
    FlagStatus = protocol::FlagStatus {
        /// Raised, not looked at.
        Open,
        /// Seen by the coordinator.
        Acknowledged,
        /// Dealt with.
        Resolved,
    }
);
mirror!(
    /// How serious a risk flag is.
    FlagSeverity = protocol::FlagSeverity {
        /// Low.
        Low,
        /// Medium.
        Medium,
        /// High.
        High,
        /// Critical.
        Critical,
    }
);
mirror!(
    /// A mentor's verdict on a submission.
    ReviewDecision = protocol::command::ReviewDecision {
        /// Accept it.
        Approved,
        /// Ask for changes.
        ChangesRequested,
    }
);
mirror!(
    /// A kind of data the device syncs, each brought up to date on its own.
    DataSet = protocol::sync::SyncSet {
        /// Mentors, pauses, assignments, flags, dashboards.
        Roster,
        /// Work items and submissions.
        Queue,
        /// Mentees, cohorts, sessions, accounts.
        Rest,
    }
);

/// Where a queued command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CommandState {
    /// Not sent yet.
    Pending,
    /// Sent; no verdict yet.
    Sent,
    /// Applied by the server; its rows arrive with the next pull.
    Applied,
}

impl CommandState {
    pub(crate) fn parse(s: &str) -> CommandState {
        match s {
            "sent" => CommandState::Sent,
            "applied" => CommandState::Applied,
            _ => CommandState::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_the_platform_type() {
        for t in [0, 1, 1_795_895_133_180, -86_400_000] {
            assert_eq!(ms(time(t)), t);
        }
    }

    #[test]
    fn enums_convert_both_ways() {
        for s in protocol::SessionStatus::ALL {
            assert_eq!(protocol::SessionStatus::from(SessionStatus::from(*s)), *s);
        }
        for r in protocol::Role::ALL {
            assert_eq!(protocol::Role::from(Role::from(*r)), *r);
        }
    }
}
