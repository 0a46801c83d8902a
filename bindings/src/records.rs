//! What the screens show, as typed records converted from the core's rows.

use crate::action::Action;
use crate::error::RefusalCode;
use crate::types::*;
use mentorsync_core::protocol::{dashboard as dash, model};
use std::collections::HashMap;
use std::time::SystemTime;

/// The signed-in person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Me {
    /// User id.
    pub id: String,
    /// Their chapter.
    pub chapter_id: String,
    /// Their role.
    pub role: Role,
    /// Display name.
    pub display_name: String,
    /// Sign-in email.
    pub email: String,
}

impl From<model::Me> for Me {
    fn from(m: model::Me) -> Self {
        Me {
            id: m.id,
            chapter_id: m.chapter_id,
            role: m.role.into(),
            display_name: m.display_name,
            email: m.email,
        }
    }
}

/// A mentor.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Mentor {
    /// User id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Status as shown (queued commands applied).
    pub status: MentorStatus,
    /// Weekly slots: the most active mentees they may hold.
    pub capacity_weekly: i64,
    /// Topics they mentor in.
    pub specialties: Vec<String>,
    /// Availability per day (`mon` → `["18:00-20:00"]`).
    pub availability: HashMap<String, Vec<String>>,
    /// When their certification expires; none when not certified.
    pub certification_expires_at: Option<SystemTime>,
    /// The confirmed version.
    pub version: i64,
}

/// Reads the free-form availability object as day → time ranges; anything else in it is
/// not shown (the server accepts any JSON object of that size).
pub(crate) fn availability_of(v: &serde_json::Value) -> HashMap<String, Vec<String>> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(day, slots)| {
                    let slots = match slots {
                        serde_json::Value::Array(a) => a
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect(),
                        serde_json::Value::String(s) => vec![s.clone()],
                        _ => Vec::new(),
                    };
                    (day.clone(), slots)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl From<model::Mentor> for Mentor {
    fn from(m: model::Mentor) -> Self {
        Mentor {
            availability: availability_of(&m.availability),
            id: m.id,
            display_name: m.display_name,
            status: m.status.into(),
            capacity_weekly: m.capacity_weekly,
            specialties: m.specialties,
            certification_expires_at: m.certification_expires_at.map(time),
            version: m.version,
        }
    }
}

/// A mentee.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Mentee {
    /// User id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Their cohort.
    pub cohort_id: Option<String>,
    /// Topics they want mentoring in.
    pub interests: Vec<String>,
    /// The confirmed version.
    pub version: i64,
}

impl From<model::Mentee> for Mentee {
    fn from(m: model::Mentee) -> Self {
        Mentee {
            id: m.id,
            display_name: m.display_name,
            cohort_id: m.cohort_id,
            interests: m.interests,
            version: m.version,
        }
    }
}

/// A pause of a mentor's work.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Pause {
    /// Pause id.
    pub id: String,
    /// The mentor.
    pub mentor_id: String,
    /// Where it is in its life.
    pub status: PauseStatus,
    /// Why.
    pub reason: String,
    /// When it starts (or started).
    pub starts_at: SystemTime,
    /// When it ends; none means until resumed.
    pub ends_at: Option<SystemTime>,
    /// Who asked for or set it.
    pub created_by: Option<String>,
}

impl From<model::Pause> for Pause {
    fn from(p: model::Pause) -> Self {
        Pause {
            id: p.id,
            mentor_id: p.mentor_id,
            status: p.status.into(),
            reason: p.reason,
            starts_at: time(p.starts_at),
            ends_at: p.ends_at.map(time),
            created_by: p.created_by,
        }
    }
}

/// A mentee's assignment to a mentor.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Assignment {
    /// Assignment id.
    pub id: String,
    /// The mentor.
    pub mentor_id: String,
    /// The mentee.
    pub mentee_id: String,
    /// Active or ended.
    pub status: AssignmentStatus,
    /// Since when.
    pub started_at: SystemTime,
}

impl From<model::MenteeAssignment> for Assignment {
    fn from(a: model::MenteeAssignment) -> Self {
        Assignment {
            id: a.id,
            mentor_id: a.mentor_id,
            mentee_id: a.mentee_id,
            status: a.status.into(),
            started_at: time(a.started_at),
        }
    }
}

/// A mentoring session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// The mentor.
    pub mentor_id: String,
    /// The mentee.
    pub mentee_id: String,
    /// Scheduled, completed, cancelled or no-show.
    pub status: SessionStatus,
    /// When.
    pub scheduled_at: SystemTime,
    /// Minutes.
    pub duration_minutes: i64,
    /// The video-call link.
    pub meeting_link: Option<String>,
    /// Shared notes, merged from everyone's edits.
    pub notes: String,
}

impl From<model::Session> for Session {
    fn from(s: model::Session) -> Self {
        Session {
            id: s.id,
            mentor_id: s.mentor_id,
            mentee_id: s.mentee_id,
            status: s.status.into(),
            scheduled_at: time(s.scheduled_at),
            duration_minutes: s.duration_minutes,
            meeting_link: s.meeting_link,
            notes: s.notes,
        }
    }
}

/// A mission submission.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Submission {
    /// Submission id.
    pub id: String,
    /// The mentee.
    pub mentee_id: String,
    /// The mentor who reviews it.
    pub mentor_id: Option<String>,
    /// The programme's mission reference.
    pub mission_ref: String,
    /// Short title.
    pub title: String,
    /// The work, or a link to it.
    pub content: String,
    /// Where it stands.
    pub status: SubmissionStatus,
    /// Latest (re)submission.
    pub submitted_at: SystemTime,
    /// Latest review.
    pub reviewed_at: Option<SystemTime>,
    /// Review feedback.
    pub feedback: Option<String>,
}

impl From<model::Submission> for Submission {
    fn from(s: model::Submission) -> Self {
        Submission {
            id: s.id,
            mentee_id: s.mentee_id,
            mentor_id: s.mentor_id,
            mission_ref: s.mission_ref,
            title: s.title,
            content: s.content,
            status: s.status.into(),
            submitted_at: time(s.submitted_at),
            reviewed_at: s.reviewed_at.map(time),
            feedback: s.feedback,
        }
    }
}

/// A work-queue item.
#[derive(Debug, Clone, uniffi::Record)]
pub struct WorkItem {
    /// Item id.
    pub id: String,
    /// Whose queue.
    pub mentor_id: Option<String>,
    /// The mentee it is about.
    pub mentee_id: Option<String>,
    /// What to do.
    pub kind: WorkItemKind,
    /// How urgent.
    pub priority: Priority,
    /// Open, in progress, done or cancelled.
    pub status: WorkItemStatus,
    /// Due by.
    pub sla_due_at: SystemTime,
    /// Past its SLA.
    pub overdue: bool,
    /// The row it is about (the submission of a mission review).
    pub reference_id: Option<String>,
    /// Created.
    pub created_at: SystemTime,
}

impl From<model::WorkItem> for WorkItem {
    fn from(w: model::WorkItem) -> Self {
        WorkItem {
            id: w.id,
            mentor_id: w.mentor_id,
            mentee_id: w.mentee_id,
            kind: w.kind.into(),
            priority: w.priority.into(),
            status: w.status.into(),
            sla_due_at: time(w.sla_due_at),
            overdue: w.overdue,
            reference_id: w.reference_id,
            created_at: time(w.created_at),
        }
    }
}

/// A risk flag on a mentee.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Flag {
    /// Flag id.
    pub id: String,
    /// The mentee at risk.
    pub mentee_id: String,
    /// Who raised it.
    pub raised_by: String,
    /// How serious.
    pub severity: FlagSeverity,
    /// Open, acknowledged or resolved.
    pub status: FlagStatus,
    /// What was observed.
    pub reason: String,
    /// Raised at.
    pub created_at: SystemTime,
}

impl From<model::Flag> for Flag {
    fn from(f: model::Flag) -> Self {
        Flag {
            id: f.id,
            mentee_id: f.mentee_id,
            raised_by: f.raised_by,
            severity: f.severity.into(),
            status: f.status.into(),
            reason: f.reason,
            created_at: time(f.created_at),
        }
    }
}

/// A notification in the signed-in person's inbox.
#[derive(Debug, Clone, uniffi::Record)]
pub struct InboxItem {
    /// Inbox item id (read and dismiss it with this).
    pub id: String,
    /// What happened (`pause_requested`, `flag_raised`, `session_scheduled`, …).
    pub kind: String,
    /// The kind of row it is about (`pause`, `flag`, `session`, …): where a tap leads.
    pub entity: String,
    /// That row's id.
    pub entity_id: String,
    /// The mentor it originates from, if any.
    pub mentor_id: Option<String>,
    /// One line for a person.
    pub message: String,
    /// When it happened.
    pub created_at: SystemTime,
    /// When it was read; `None` while unread.
    pub read_at: Option<SystemTime>,
}

impl From<model::InboxItem> for InboxItem {
    fn from(i: model::InboxItem) -> Self {
        InboxItem {
            id: i.id,
            kind: i.kind,
            entity: i.entity,
            entity_id: i.entity_id,
            mentor_id: i.mentor_id,
            message: i.message,
            created_at: time(i.created_at),
            read_at: i.read_at.map(time),
        }
    }
}

/// The inbox screen: its items and the unread count for the badge.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Inbox {
    /// Newest first, without dismissed items.
    pub items: Vec<InboxItem>,
    /// Items neither read nor dismissed.
    pub unread: i64,
}

/// A cohort.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Cohort {
    /// Cohort id.
    pub id: String,
    /// The programme's own key.
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Starts.
    pub starts_at: SystemTime,
    /// Ends.
    pub ends_at: SystemTime,
    /// Seats offered.
    pub seats: i64,
}

impl From<model::Cohort> for Cohort {
    fn from(c: model::Cohort) -> Self {
        Cohort {
            id: c.id,
            external_id: c.external_id,
            name: c.name,
            starts_at: time(c.starts_at),
            ends_at: time(c.ends_at),
            seats: c.seats,
        }
    }
}

/// One roster line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RosterItem {
    /// The mentor as shown.
    pub mentor: Mentor,
    /// Their open pause.
    pub open_pause: Option<Pause>,
    /// Active mentees.
    pub mentee_count: i64,
    /// Unresolved flags on those mentees.
    pub open_flags: i64,
    /// A command about this mentor waits for the server.
    pub pending: bool,
}

impl From<mentorsync_core::RosterItem> for RosterItem {
    fn from(r: mentorsync_core::RosterItem) -> Self {
        RosterItem {
            mentor: r.mentor.into(),
            open_pause: r.open_pause.map(Into::into),
            mentee_count: r.mentee_count,
            open_flags: r.open_flags,
            pending: r.pending,
        }
    }
}

/// Which mentors to list.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct RosterQuery {
    /// Only this status.
    #[uniffi(default = None)]
    pub status: Option<MentorStatus>,
    /// Only certifications expiring within this many days (or expired).
    #[uniffi(default = None)]
    pub certification_expiring_within_days: Option<u32>,
    /// Case-insensitive part of the name.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// Soonest certification expiry first instead of by name.
    #[uniffi(default = false)]
    pub sort_by_expiry: bool,
    /// Page size (0 means 50).
    #[uniffi(default = 0)]
    pub limit: u32,
    /// Rows to skip.
    #[uniffi(default = 0)]
    pub offset: u32,
}

impl From<RosterQuery> for mentorsync_core::RosterFilter {
    fn from(q: RosterQuery) -> Self {
        mentorsync_core::RosterFilter {
            status: q.status.map(Into::into),
            certification_expiring_within_days: q.certification_expiring_within_days,
            name: q.name,
            sort: if q.sort_by_expiry {
                mentorsync_core::RosterSort::CertificationExpiry
            } else {
                mentorsync_core::RosterSort::Name
            },
            limit: q.limit,
            offset: q.offset,
        }
    }
}

/// Which mentees to list.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct MenteeQuery {
    /// Only those enrolled in this cohort.
    #[uniffi(default = None)]
    pub cohort_id: Option<String>,
    /// Only this mentor's.
    #[uniffi(default = None)]
    pub mentor_id: Option<String>,
    /// Case-insensitive part of the name.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// Page size (0 means 50).
    #[uniffi(default = 0)]
    pub limit: u32,
    /// Rows to skip.
    #[uniffi(default = 0)]
    pub offset: u32,
}

impl From<MenteeQuery> for mentorsync_core::MenteeFilter {
    fn from(q: MenteeQuery) -> Self {
        mentorsync_core::MenteeFilter {
            cohort_id: q.cohort_id,
            mentor_id: q.mentor_id,
            name: q.name,
            limit: q.limit,
            offset: q.offset,
        }
    }
}

/// One line of the mentee list.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MenteeItem {
    /// The mentee.
    pub mentee: Mentee,
    /// Their mentor, while assigned.
    pub mentor_id: Option<String>,
    /// Unresolved flags on them.
    pub open_flags: i64,
}

impl From<mentorsync_core::MenteeItem> for MenteeItem {
    fn from(m: mentorsync_core::MenteeItem) -> Self {
        MenteeItem {
            mentee: m.mentee.into(),
            mentor_id: m.mentor_id,
            open_flags: m.open_flags,
        }
    }
}

/// Everything about one mentee on one screen.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Cockpit {
    /// The mentee.
    pub mentee: Mentee,
    /// Their current assignment.
    pub assignment: Option<Assignment>,
    /// Scheduled sessions from now on, soonest first.
    pub upcoming_sessions: Vec<Session>,
    /// Past and finished sessions, newest first.
    pub recent_sessions: Vec<Session>,
    /// Submissions, newest first.
    pub submissions: Vec<Submission>,
    /// Flags not yet resolved.
    pub open_flags: Vec<Flag>,
    /// Open and in-progress work items about them.
    pub open_work_items: Vec<WorkItem>,
}

fn all<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

impl From<model::Cockpit> for Cockpit {
    fn from(c: model::Cockpit) -> Self {
        Cockpit {
            mentee: c.mentee.into(),
            assignment: c.assignment.map(Into::into),
            upcoming_sessions: all(c.upcoming_sessions),
            recent_sessions: all(c.recent_sessions),
            submissions: all(c.submissions),
            open_flags: all(c.open_flags),
            open_work_items: all(c.open_work_items),
        }
    }
}

/// A mentee with unresolved flags.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AtRiskMentee {
    /// The mentee.
    pub mentee_id: String,
    /// Display name.
    pub display_name: String,
    /// Unresolved flags.
    pub open_flags: i64,
    /// The most serious.
    pub highest_severity: Option<FlagSeverity>,
}

/// A mentor's home screen, as the server last computed it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MentorDashboard {
    /// The mentor.
    pub mentor_id: String,
    /// Work items not started.
    pub open: i64,
    /// Work items being worked on.
    pub in_progress: i64,
    /// Of those, past their SLA.
    pub overdue: i64,
    /// Due within the day shown.
    pub due_today: i64,
    /// Sessions that day, earliest first.
    pub today_sessions: Vec<Session>,
    /// Mentees with unresolved flags, most serious first.
    pub at_risk: Vec<AtRiskMentee>,
    /// Active mentees.
    pub capacity_used: i64,
    /// Weekly slots.
    pub capacity_weekly: i64,
    /// "7/10 weekly slots".
    pub capacity_label: String,
    /// The day shown.
    pub day_start: SystemTime,
    /// Its end (exclusive).
    pub day_end: SystemTime,
    /// When the server computed the figures.
    pub computed_at: SystemTime,
}

impl From<dash::MentorDashboard> for MentorDashboard {
    fn from(d: dash::MentorDashboard) -> Self {
        MentorDashboard {
            mentor_id: d.mentor_id,
            open: d.queue.open,
            in_progress: d.queue.in_progress,
            overdue: d.queue.overdue,
            due_today: d.queue.due_today,
            today_sessions: all(d.today_sessions),
            at_risk: d
                .at_risk
                .into_iter()
                .map(|a| AtRiskMentee {
                    mentee_id: a.mentee_id,
                    display_name: a.display_name,
                    open_flags: a.open_flags,
                    highest_severity: a.highest_severity.map(Into::into),
                })
                .collect(),
            capacity_used: d.capacity.used,
            capacity_weekly: d.capacity.weekly,
            capacity_label: d.capacity.label,
            day_start: time(d.day_start),
            day_end: time(d.day_end),
            computed_at: time(d.computed_at),
        }
    }
}

/// A coordinator's figures, as the server last computed them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CoordinatorDashboard {
    /// Mentors they coordinate.
    pub mentors: i64,
    /// Of which active.
    pub active: i64,
    /// Of which paused.
    pub paused: i64,
    /// Of which inactive.
    pub inactive: i64,
    /// Mentors holding more mentees than their capacity.
    pub over_capacity: i64,
    /// Unresolved flags on their mentors' mentees.
    pub open_flags: i64,
    /// Overdue work items of their mentors.
    pub overdue_items: i64,
    /// Notifications of the chapter that reached nobody.
    pub undeliverable_notifications: i64,
    /// Open reconciliation findings about their mentors.
    pub open_findings: i64,
    /// When the server computed them.
    pub computed_at: SystemTime,
}

impl From<dash::CoordinatorFigures> for CoordinatorDashboard {
    fn from(f: dash::CoordinatorFigures) -> Self {
        CoordinatorDashboard {
            mentors: f.mentors,
            active: f.active,
            paused: f.paused,
            inactive: f.inactive,
            over_capacity: f.over_capacity,
            open_flags: f.open_flags,
            overdue_items: f.overdue_items,
            undeliverable_notifications: f.undeliverable_notifications,
            open_findings: f.open_discrepancies,
            computed_at: time(f.computed_at),
        }
    }
}

/// A share with the counts it comes from.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Rate {
    /// The part.
    pub numerator: i64,
    /// The whole.
    pub denominator: i64,
    /// The share (0–1); none when the whole is zero.
    pub rate: Option<f64>,
}

impl From<dash::Rate> for Rate {
    fn from(r: dash::Rate) -> Self {
        Rate {
            numerator: r.numerator,
            denominator: r.denominator,
            rate: r.rate,
        }
    }
}

/// One cohort, as a director sees it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CohortDashboard {
    /// The cohort.
    pub cohort_id: String,
    /// Its name.
    pub name: String,
    /// Enrolled mentees out of seats.
    pub seats_used: Rate,
    /// Enrolled mentees with an active mentor.
    pub mentor_coverage: Rate,
    /// Past sessions that were completed.
    pub session_completion: Rate,
    /// Open work items past their SLA.
    pub overdue_rate: Rate,
    /// Unresolved flags: low.
    pub open_flags_low: i64,
    /// Medium.
    pub open_flags_medium: i64,
    /// High.
    pub open_flags_high: i64,
    /// Critical.
    pub open_flags_critical: i64,
    /// Submissions waiting for review.
    pub submitted: i64,
    /// Approved.
    pub approved: i64,
    /// Sent back for changes.
    pub changes_requested: i64,
    /// Median time from submission to review, in milliseconds.
    pub median_review_ms: Option<i64>,
    /// Reviewed submissions the median is over.
    pub reviewed: i64,
    /// When the server computed them.
    pub computed_at: SystemTime,
}

impl From<dash::CohortFigures> for CohortDashboard {
    fn from(c: dash::CohortFigures) -> Self {
        CohortDashboard {
            cohort_id: c.cohort_id,
            name: c.name,
            seats_used: c.seats_used.into(),
            mentor_coverage: c.mentor_coverage.into(),
            session_completion: c.session_completion.into(),
            overdue_rate: c.overdue_rate.into(),
            open_flags_low: c.open_flags.low,
            open_flags_medium: c.open_flags.medium,
            open_flags_high: c.open_flags.high,
            open_flags_critical: c.open_flags.critical,
            submitted: c.funnel.submitted,
            approved: c.funnel.approved,
            changes_requested: c.funnel.changes_requested,
            median_review_ms: c.median_review_ms,
            reviewed: c.reviewed,
            computed_at: time(c.computed_at),
        }
    }
}

/// Every dashboard this device holds.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Dashboards {
    /// The signed-in mentor's own.
    pub mine: Option<MentorDashboard>,
    /// The signed-in coordinator's (or admin's).
    pub coordinator: Option<CoordinatorDashboard>,
    /// The cohorts a director directs, by name.
    pub cohorts: Vec<CohortDashboard>,
}

/// A command waiting for the server.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingCommand {
    /// Mutation id.
    pub mutation_id: i64,
    /// What it does.
    pub action: Action,
    /// Where it is.
    pub state: CommandState,
    /// When it was issued.
    pub created_at: SystemTime,
}

impl From<mentorsync_core::PendingCommand> for PendingCommand {
    fn from(p: mentorsync_core::PendingCommand) -> Self {
        PendingCommand {
            mutation_id: p.mutation_id,
            action: p.command.into(),
            state: CommandState::parse(&p.state),
            created_at: time(p.created_at),
        }
    }
}

/// A command the server refused.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedCommand {
    /// Mutation id.
    pub mutation_id: i64,
    /// What it would have done.
    pub action: Action,
    /// What kind of refusal.
    pub code: RefusalCode,
    /// The server's reason, for the person.
    pub reason: String,
    /// When the verdict arrived.
    pub at: SystemTime,
}

impl From<mentorsync_core::RejectedCommand> for RejectedCommand {
    fn from(r: mentorsync_core::RejectedCommand) -> Self {
        RejectedCommand {
            mutation_id: r.mutation_id,
            action: r.command.into(),
            code: RefusalCode::parse(&r.code),
            reason: r.reason,
            at: time(r.at),
        }
    }
}

/// The device's commands: waiting, and refused.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Commands {
    /// Waiting for the server, oldest first.
    pub pending: Vec<PendingCommand>,
    /// Refused, newest first, until dismissed.
    pub rejected: Vec<RejectedCommand>,
}

/// Freshness of one kind of data.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SetStatus {
    /// Which data.
    pub set: DataSet,
    /// When it was last brought up to date.
    pub last_success_at: Option<SystemTime>,
    /// Pages of an unfinished download on the device.
    pub staged_pages: i64,
}

/// The sync state to show.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    /// The last attempt reached the server.
    pub online: bool,
    /// When a sync last completed.
    pub last_sync_at: Option<SystemTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Commands waiting.
    pub pending: i64,
    /// Commands refused.
    pub rejected: i64,
    /// Someone is signed in.
    pub signed_in: bool,
    /// Per kind of data.
    pub sets: Vec<SetStatus>,
}

impl From<mentorsync_core::SyncStatus> for SyncStatus {
    fn from(s: mentorsync_core::SyncStatus) -> Self {
        SyncStatus {
            online: s.online,
            last_sync_at: s.last_sync_at.map(time),
            last_error: s.last_error,
            pending: s.pending,
            rejected: s.rejected,
            signed_in: s.signed_in,
            sets: s
                .sets
                .into_iter()
                .filter_map(|x| {
                    let set = mentorsync_core::protocol::sync::SyncSet::ALL
                        .iter()
                        .find(|s| s.as_str() == x.set)?;
                    Some(SetStatus {
                        set: (*set).into(),
                        last_success_at: x.last_success_at.map(time),
                        staged_pages: x.staged_pages,
                    })
                })
                .collect(),
        }
    }
}

/// Sync totals so far.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncProgress {
    /// Commands pushed.
    pub pushed: u64,
    /// Row changes received.
    pub rows: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Pages received.
    pub pages: u64,
    /// Commands refused (final report only).
    pub rejected: u64,
}

/// A command queued on the device.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Issued {
    /// Its mutation id.
    pub mutation_id: i64,
    /// The id of the row it creates (the new session, flag, pause, …), so the app can
    /// open it at once.
    pub created_id: Option<String>,
}
