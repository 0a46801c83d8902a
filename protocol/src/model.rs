//! Entity rows as they travel on the wire: REST responses, sync pulls, rejected-command
//! details. Times are epoch milliseconds (UTC); ids are UUID strings.

use crate::role::Role;
use crate::status::*;
use serde::{Deserialize, Serialize};

macro_rules! row {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }
    };
}

row!(
    /// A mentor: a user with a mentor profile.
    Mentor {
        /// The mentor's user id.
        id: String,
        /// Display name.
        display_name: String,
        /// Active, paused or inactive.
        status: MentorStatus,
        /// Weekly slots; also the most active mentees they may hold.
        capacity_weekly: i64,
        /// Topics they mentor in.
        specialties: Vec<String>,
        /// Free-form availability (e.g. `{"mon": ["18:00-20:00"]}`).
        availability: serde_json::Value,
        /// Epoch ms; `None` means not certified.
        certification_expires_at: Option<i64>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A mentee.
    Mentee {
        /// The mentee's user id.
        id: String,
        /// Display name.
        display_name: String,
        /// The cohort they are enrolled in.
        cohort_id: Option<String>,
        /// Topics they want mentoring in (matched against mentor specialties).
        interests: Vec<String>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A pause of a mentor's work.
    Pause {
        /// Pause id.
        id: String,
        /// The paused mentor.
        mentor_id: String,
        /// Where it is in its life.
        status: PauseStatus,
        /// Why.
        reason: String,
        /// Epoch ms.
        starts_at: i64,
        /// Epoch ms; `None` until resumed.
        ends_at: Option<i64>,
        /// Who asked for or set it; `None` when the scheduler did.
        created_by: Option<String>,
        /// Who approved or declined it.
        decided_by: Option<String>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A mentee's assignment to a mentor.
    MenteeAssignment {
        /// Assignment id.
        id: String,
        /// The mentor.
        mentor_id: String,
        /// The mentee.
        mentee_id: String,
        /// Active or ended.
        status: AssignmentStatus,
        /// Epoch ms.
        started_at: i64,
        /// Epoch ms.
        ended_at: Option<i64>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// Which coordinator looks after which mentor.
    CoordinatorAssignment {
        /// Assignment id.
        id: String,
        /// The coordinator.
        coordinator_id: String,
        /// The mentor.
        mentor_id: String,
        /// Active or ended.
        status: AssignmentStatus,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A mentoring session.
    Session {
        /// Session id.
        id: String,
        /// The mentor.
        mentor_id: String,
        /// The mentee.
        mentee_id: String,
        /// Scheduled, completed, cancelled or no-show.
        status: SessionStatus,
        /// Epoch ms.
        scheduled_at: i64,
        /// Minutes.
        duration_minutes: i64,
        /// Video-call link.
        meeting_link: Option<String>,
        /// Shared notes, merged from everyone's edits.
        #[serde(default)]
        notes: String,
        /// The notes as an Automerge document (base64), so a device can merge its own
        /// offline edits; absent until someone writes notes.
        #[serde(default)]
        notes_doc: Option<String>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A mentee's mission submission.
    Submission {
        /// Submission id.
        id: String,
        /// The mentee.
        mentee_id: String,
        /// The mentor who reviews it (the mentee's mentor when submitted).
        mentor_id: Option<String>,
        /// The programme's mission reference.
        mission_ref: String,
        /// Short title.
        title: String,
        /// The work, or a link to it.
        content: String,
        /// Submitted, approved or changes requested.
        status: SubmissionStatus,
        /// Epoch ms of the latest (re)submission.
        submitted_at: i64,
        /// Epoch ms of the latest review.
        reviewed_at: Option<i64>,
        /// Who reviewed it.
        reviewed_by: Option<String>,
        /// Review feedback.
        feedback: Option<String>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A work-queue item of a mentor.
    WorkItem {
        /// Item id.
        id: String,
        /// Whose queue.
        mentor_id: Option<String>,
        /// About which mentee.
        mentee_id: Option<String>,
        /// What to do.
        kind: WorkItemKind,
        /// How urgent.
        priority: Priority,
        /// Open, in progress, done or cancelled.
        status: WorkItemStatus,
        /// Epoch ms by which it should be done.
        sla_due_at: i64,
        /// True when past its SLA and not done (computed when read).
        overdue: bool,
        /// The row it is about (a submission id for a mission review).
        reference_id: Option<String>,
        /// Epoch ms.
        created_at: i64,
        /// Epoch ms.
        completed_at: Option<i64>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A risk flag on a mentee.
    Flag {
        /// Flag id.
        id: String,
        /// The mentee at risk.
        mentee_id: String,
        /// Who raised it.
        raised_by: String,
        /// How serious.
        severity: FlagSeverity,
        /// Open, acknowledged or resolved.
        status: FlagStatus,
        /// What was observed.
        reason: String,
        /// Epoch ms.
        created_at: i64,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// A person's account, as an admin manages it (never a password or its hash).
    Account {
        /// User id.
        id: String,
        /// Sign-in email, lowercase.
        email: String,
        /// Display name.
        display_name: String,
        /// Their role.
        role: Role,
        /// Active, or disabled (cannot sign in).
        status: AccountStatus,
        /// IANA time zone; `None` means the chapter's.
        time_zone: Option<String>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// One notification in its recipient's inbox: written when the notification is
    /// dispatched to them (the recipient is resolved then), synced to their devices only.
    InboxItem {
        /// Inbox item id.
        id: String,
        /// The person it was delivered to.
        recipient_id: String,
        /// The notification it carries (one per recipient).
        notification_id: String,
        /// What happened (`pause_requested`, `flag_raised`, …).
        kind: String,
        /// The kind of row it is about (`pause`, `flag`, `session`, …).
        entity: String,
        /// That row's id.
        entity_id: String,
        /// The mentor it originates from, if any.
        mentor_id: Option<String>,
        /// One line for a person.
        message: String,
        /// When the cause happened (epoch ms).
        created_at: i64,
        /// When the recipient read it (epoch ms); `None` while unread.
        read_at: Option<i64>,
        /// When the recipient dismissed it (epoch ms); dismissed items leave the inbox.
        dismissed_at: Option<i64>,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

/// How a person wants to be reached beyond their inbox (which always has everything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// When to send e-mail: `auto` (the default) only while they use no app.
    pub email: EmailChoice,
    /// The kinds that may reach them beyond the inbox (e-mail, push); absent means every
    /// kind.
    #[serde(default)]
    pub kinds: Option<Vec<NotificationKind>>,
    /// Quiet hours start, `HH:MM` in their time zone; e-mail and push wait until
    /// `quiet_until`.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    )]
    pub quiet_from: Option<String>,
    /// Quiet hours end, `HH:MM` in their time zone (earlier than `quiet_from` wraps
    /// midnight: 22:00–07:00).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    )]
    pub quiet_until: Option<String>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            email: EmailChoice::Auto,
            kinds: None,
            quiet_from: None,
            quiet_until: None,
        }
    }
}

impl Preferences {
    /// Quiet hours as minutes of the day, checked: both or neither, each `HH:MM`.
    pub fn quiet_minutes(&self) -> Result<Option<(u32, u32)>, String> {
        match (&self.quiet_from, &self.quiet_until) {
            (None, None) => Ok(None),
            (Some(f), Some(u)) => {
                let m = |s: &str, field: &str| {
                    crate::local_time::minute_of_day(s)
                        .ok_or_else(|| format!("`{field}` must be HH:MM (00:00 to 23:59)"))
                };
                Ok(Some((m(f, "quiet_from")?, m(u, "quiet_until")?)))
            }
            _ => Err("`quiet_from` and `quiet_until` go together".to_owned()),
        }
    }
}

row!(
    /// A page of the caller's inbox, newest first, without dismissed items.
    InboxPage {
        /// The items.
        items: Vec<InboxItem>,
        /// Unread items in the whole inbox (not only this page).
        unread: i64,
        /// Pass as `before` to get the next page; absent on the last page.
        next_before: Option<String>,
    }
);

row!(
    /// A cohort of mentees.
    Cohort {
        /// Cohort id.
        id: String,
        /// The programme's own key (imports match on it).
        #[serde(default)]
        external_id: Option<String>,
        /// Name.
        name: String,
        /// Epoch ms.
        starts_at: i64,
        /// Epoch ms.
        ends_at: i64,
        /// Seats offered.
        seats: i64,
        /// Bumped on every change.
        version: i64,
        /// Epoch ms of the last change.
        updated_at: i64,
    }
);

row!(
    /// The signed-in user.
    Me {
        /// User id.
        id: String,
        /// Their chapter.
        chapter_id: String,
        /// Their role.
        role: Role,
        /// Display name.
        display_name: String,
        /// Sign-in email.
        email: String,
    }
);

row!(
    /// One line of the coordinator roster: the mentor with everything a coordinator
    /// triages on, from one query.
    RosterEntry {
        /// The mentor.
        mentor: Mentor,
        /// Their open (requested, scheduled or active) pause, if any.
        open_pause: Option<Pause>,
        /// Active mentees.
        mentee_count: i64,
        /// Open or acknowledged flags on their mentees.
        open_flags: i64,
    }
);

row!(
    /// A page of a list, with an opaque cursor for the next one.
    RosterPage {
        /// The entries.
        items: Vec<RosterEntry>,
        /// Pass as `cursor` to get the next page; absent on the last page.
        next_cursor: Option<String>,
    }
);

row!(
    /// A mentor's work queue: overdue first, then by priority, then by SLA.
    WorkQueue {
        /// The items, most pressing first.
        items: Vec<WorkItem>,
    }
);

row!(
    /// Everything a mentor needs about one mentee on one screen.
    Cockpit {
        /// The mentee.
        mentee: Mentee,
        /// Their current mentor assignment.
        assignment: Option<MenteeAssignment>,
        /// Scheduled sessions from now on, soonest first.
        upcoming_sessions: Vec<Session>,
        /// The latest past or finished sessions, newest first.
        recent_sessions: Vec<Session>,
        /// Latest submissions, newest first.
        submissions: Vec<Submission>,
        /// Flags not yet resolved.
        open_flags: Vec<Flag>,
        /// Open and in-progress work items about this mentee.
        open_work_items: Vec<WorkItem>,
    }
);
