//! Domain enums and their wire/database spelling. One macro defines each so that the
//! spelling used in JSON, in SQL CHECK constraints and in error messages cannot drift.

/// A value that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}")]
pub struct UnknownValue {
    /// Which enum was being parsed.
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        #[allow(missing_docs)] // the spelling is the documentation
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used on the wire and in the database.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::status::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::status::UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Whether an account may sign in.
    AccountStatus { Active = "active", Disabled = "disabled" }
);
string_enum!(
    /// A mentor's availability for new work.
    MentorStatus { Active = "active", Paused = "paused", Inactive = "inactive" }
);
string_enum!(
    /// Where a pause is in its life.
    PauseStatus {
        Requested = "requested", Scheduled = "scheduled", Active = "active",
        Ended = "ended", Declined = "declined", Cancelled = "cancelled",
    }
);
string_enum!(
    /// A mentor↔mentee or coordinator↔mentor assignment.
    AssignmentStatus { Active = "active", Ended = "ended" }
);
string_enum!(
    /// A mentoring session.
    SessionStatus { Scheduled = "scheduled", Completed = "completed", Cancelled = "cancelled", NoShow = "no_show" }
);
string_enum!(
    /// A mission submission under review.
    SubmissionStatus { Submitted = "submitted", Approved = "approved", ChangesRequested = "changes_requested" }
);
string_enum!(
    /// A work-queue item.
    WorkItemStatus { Open = "open", InProgress = "in_progress", Done = "done", Cancelled = "cancelled" }
);
string_enum!(
    /// What a work-queue item asks the mentor to do.
    WorkItemKind {
        MissionReview = "mission_review", SessionFollowup = "session_followup",
        RiskAssessment = "risk_assessment", GoalFeedback = "goal_feedback",
    }
);
string_enum!(
    /// Work-queue priority, lowest first (so `Ord` sorts by urgency).
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);
string_enum!(
    /// A risk flag on a mentee.
    FlagStatus { Open = "open", Acknowledged = "acknowledged", Resolved = "resolved" }
);
string_enum!(
    /// How serious a risk flag is, lowest first.
    FlagSeverity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
);

impl PauseStatus {
    /// Requested, scheduled and active pauses are "open": at most one per mentor.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            PauseStatus::Requested | PauseStatus::Scheduled | PauseStatus::Active
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_round_trips_through_text_and_json() {
        for s in WorkItemStatus::ALL {
            assert_eq!(s.as_str().parse::<WorkItemStatus>().unwrap(), *s);
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("paused ".parse::<MentorStatus>().is_err());
    }

    #[test]
    fn priority_orders_by_urgency() {
        assert!(Priority::Urgent > Priority::High && Priority::High > Priority::Normal);
    }
}

string_enum!(
    /// When a person is sent e-mail: `auto` while they use no app (no device of theirs
    /// synced in 30 days), `always`, or `never`.
    EmailChoice { Auto = "auto", Always = "always", Never = "never" }
);
string_enum!(
    /// What a notification is about; people choose which kinds reach them by e-mail.
    NotificationKind {
        PauseRequested = "pause_requested", PauseStarted = "pause_started",
        PauseEnded = "pause_ended", CertificationExpired = "certification_expired",
        WorkItemOverdue = "work_item_overdue", FlagRaised = "flag_raised",
        MentorDeactivated = "mentor_deactivated", SessionScheduled = "session_scheduled",
        SessionCancelled = "session_cancelled",
    }
);
string_enum!(
    /// Who carries a push to a phone: Firebase Cloud Messaging (Android) or Apple's APNs.
    PushPlatform { Fcm = "fcm", Apns = "apns" }
);
