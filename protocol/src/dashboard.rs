//! Dashboard figures: what the mentor, coordinator and director screens show. The server
//! computes them from real rows; they travel in REST responses and, wrapped in a
//! [`Dashboard`] row, through sync. A rate whose denominator is zero has no value (`None`)
//! rather than a made-up one.

use crate::model::Session;
use crate::status::{FlagSeverity, string_enum};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Whose dashboard a [`Dashboard`] row is.
    DashboardKind { Mentor = "mentor", Coordinator = "coordinator", Cohort = "cohort" }
);

macro_rules! figures {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }
    };
}

figures!(
    /// A share with the counts it comes from, so every figure can be checked.
    Rate {
        /// The part.
        numerator: i64,
        /// The whole.
        denominator: i64,
        /// `numerator / denominator`; `None` when the whole is zero.
        rate: Option<f64>,
    }
);

impl Rate {
    /// `n` out of `d`.
    pub fn of(numerator: i64, denominator: i64) -> Rate {
        Rate {
            numerator,
            denominator,
            rate: (denominator > 0).then(|| numerator as f64 / denominator as f64),
        }
    }

    /// The sum of two rates' counts (how a summary adds cohorts up).
    pub fn plus(&self, other: &Rate) -> Rate {
        Rate::of(
            self.numerator + other.numerator,
            self.denominator + other.denominator,
        )
    }
}

figures!(
    /// A mentor's work queue in numbers.
    QueueStats {
        /// Items waiting to be started.
        open: i64,
        /// Items being worked on.
        in_progress: i64,
        /// Open or in-progress items past their SLA.
        overdue: i64,
        /// Open or in-progress items whose SLA falls within the day shown.
        due_today: i64,
    }
);

figures!(
    /// A mentee with unresolved risk flags.
    AtRiskMentee {
        /// The mentee's user id.
        mentee_id: String,
        /// Display name.
        display_name: String,
        /// Open and acknowledged flags.
        open_flags: i64,
        /// The most serious of them.
        highest_severity: Option<FlagSeverity>,
    }
);

figures!(
    /// Weekly slots in use: active mentees against capacity.
    Capacity {
        /// Active mentees.
        used: i64,
        /// Weekly slots (the most active mentees the mentor may hold).
        weekly: i64,
        /// "7/10 weekly slots".
        label: String,
    }
);

figures!(
    /// The mentor's home screen.
    MentorDashboard {
        /// The mentor's user id.
        mentor_id: String,
        /// Queue counts.
        queue: QueueStats,
        /// Sessions scheduled within the day shown, earliest first.
        today_sessions: Vec<Session>,
        /// Mentees with unresolved flags, most serious first.
        at_risk: Vec<AtRiskMentee>,
        /// Slots used.
        capacity: Capacity,
        /// Start of the day shown (epoch ms).
        day_start: i64,
        /// End of the day shown (epoch ms, exclusive).
        day_end: i64,
        /// When these figures were computed.
        computed_at: i64,
    }
);

figures!(
    /// Open (unresolved) flags per severity.
    FlagCounts {
        /// Low.
        low: i64,
        /// Medium.
        medium: i64,
        /// High.
        high: i64,
        /// Critical.
        critical: i64,
    }
);

impl FlagCounts {
    /// Adds one flag of `severity`.
    pub fn add(&mut self, severity: FlagSeverity, n: i64) {
        match severity {
            FlagSeverity::Low => self.low += n,
            FlagSeverity::Medium => self.medium += n,
            FlagSeverity::High => self.high += n,
            FlagSeverity::Critical => self.critical += n,
        }
    }

    /// Sum of two counts.
    pub fn plus(&self, o: &FlagCounts) -> FlagCounts {
        FlagCounts {
            low: self.low + o.low,
            medium: self.medium + o.medium,
            high: self.high + o.high,
            critical: self.critical + o.critical,
        }
    }
}

figures!(
    /// Mission submissions by their current status.
    Funnel {
        /// Waiting for review.
        submitted: i64,
        /// Approved.
        approved: i64,
        /// Sent back for changes.
        changes_requested: i64,
    }
);

impl Funnel {
    /// Sum of two funnels.
    pub fn plus(&self, o: &Funnel) -> Funnel {
        Funnel {
            submitted: self.submitted + o.submitted,
            approved: self.approved + o.approved,
            changes_requested: self.changes_requested + o.changes_requested,
        }
    }
}

figures!(
    /// One cohort, as a director sees it.
    CohortFigures {
        /// The cohort id.
        cohort_id: String,
        /// Its name.
        name: String,
        /// Enrolled mentees out of seats.
        seats_used: Rate,
        /// Enrolled mentees with an active assignment to an active mentor.
        mentor_coverage: Rate,
        /// Sessions of enrolled mentees scheduled before now that were completed.
        session_completion: Rate,
        /// Open and in-progress work items about enrolled mentees that are past their SLA.
        overdue_rate: Rate,
        /// Unresolved flags on enrolled mentees.
        open_flags: FlagCounts,
        /// Their mission submissions by status.
        funnel: Funnel,
        /// Median time from submission to review of reviewed submissions (ms).
        median_review_ms: Option<i64>,
        /// How many reviewed submissions the median is over.
        reviewed: i64,
        /// When these figures were computed.
        computed_at: i64,
    }
);

figures!(
    /// A director's cohorts added up. Rates add their counts; a median does not add up,
    /// so the summary has none (each cohort has its own).
    DirectorSummary {
        /// Cohorts the caller directs.
        cohorts: i64,
        /// Enrolled mentees out of seats.
        seats_used: Rate,
        /// Enrolled mentees with an active mentor.
        mentor_coverage: Rate,
        /// Past sessions completed.
        session_completion: Rate,
        /// Open work items overdue.
        overdue_rate: Rate,
        /// Unresolved flags.
        open_flags: FlagCounts,
        /// Submissions by status.
        funnel: Funnel,
        /// The oldest computation among the cohorts (how stale the summary may be).
        computed_at: Option<i64>,
    }
);

figures!(
    /// A coordinator's roster in numbers, and what needs their attention.
    CoordinatorFigures {
        /// Mentors they coordinate.
        mentors: i64,
        /// Of which active.
        active: i64,
        /// Of which paused.
        paused: i64,
        /// Of which inactive.
        inactive: i64,
        /// Mentors holding more active mentees than their capacity.
        over_capacity: i64,
        /// Unresolved flags on their mentors' mentees.
        open_flags: i64,
        /// Overdue work items of their mentors.
        overdue_items: i64,
        /// Notifications of the chapter that reached nobody.
        undeliverable_notifications: i64,
        /// Open reconciliation discrepancies about their mentors.
        open_discrepancies: i64,
        /// When these figures were computed.
        computed_at: i64,
    }
);

figures!(
    /// A notification that reached nobody: no coordinator, no admin, no director.
    UndeliverableNotification {
        /// The notification id.
        id: String,
        /// What happened.
        kind: String,
        /// The mentor it originates from.
        mentor_id: Option<String>,
        /// The row it is about.
        entity: String,
        /// That row's id.
        entity_id: String,
        /// Its text.
        message: String,
        /// Why nobody could receive it.
        reason: Option<String>,
        /// When its cause happened.
        created_at: i64,
    }
);

figures!(
    /// Something a check found: a mentor over capacity, or a discrepancy between status,
    /// pauses and audit log. Shown until a later check no longer finds it; never fixed
    /// silently.
    Finding {
        /// The finding id.
        id: String,
        /// `over_capacity`, `paused_without_active_pause`, `active_pause_but_not_paused`,
        /// `status_differs_from_audit` or `missing_audit_trail`.
        kind: String,
        /// The kind of row it is about.
        entity: String,
        /// That row's id.
        entity_id: String,
        /// The mentor concerned.
        mentor_id: Option<String>,
        /// What was seen (expected and found values).
        details: serde_json::Value,
        /// First found.
        first_seen_at: i64,
        /// Last confirmed.
        last_seen_at: i64,
    }
);

/// The coordinator's screen (an admin's covers the whole chapter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoordinatorDashboard {
    /// Figures.
    pub figures: CoordinatorFigures,
    /// One page of the roster (same filters and cursor as the roster endpoint).
    pub roster: crate::model::RosterPage,
    /// The chapter's newest undeliverable notifications (the count is in `figures`).
    pub undeliverable: Vec<UndeliverableNotification>,
    /// Open findings about the caller's mentors.
    pub findings: Vec<Finding>,
}

figures!(
    /// One page of a director's cohorts.
    CohortPage {
        /// The cohorts, by name.
        cohorts: Vec<CohortFigures>,
        /// Pass as `cursor` for the next page; `None` on the last.
        next_cursor: Option<String>,
    }
);

/// A dashboard as a synced row: computed by the server, with its computation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// `mentor:<id>`, `coordinator:<id>` or `cohort:<id>`.
    pub id: String,
    /// Whose dashboard.
    pub kind: DashboardKind,
    /// The mentor, coordinator or cohort id.
    pub subject_id: String,
    /// Scope: set on mentor dashboards (their coordinator sees them too).
    pub mentor_id: Option<String>,
    /// Scope: set on coordinator dashboards.
    pub coordinator_id: Option<String>,
    /// Scope: set on cohort dashboards (the cohort's directors see them).
    pub cohort_id: Option<String>,
    /// [`MentorDashboard`], [`CoordinatorFigures`] or [`CohortFigures`] as JSON.
    pub figures: serde_json::Value,
    /// When the figures were computed.
    pub computed_at: i64,
    /// Bumped whenever the figures change.
    pub version: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

/// The median of `values` (sorted in place); the lower middle for an even count, so it is
/// always one of the observed values.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_has_no_value_over_nothing() {
        assert_eq!(Rate::of(0, 0).rate, None);
        assert_eq!(Rate::of(1, 4).rate, Some(0.25));
        assert_eq!(Rate::of(1, 4).plus(&Rate::of(1, 0)).rate, Some(0.5));
    }

    #[test]
    fn median_is_an_observed_value() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
    }
}
