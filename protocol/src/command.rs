//! Domain commands as intents. The REST endpoints and (later) sync push both build a
//! [`Command`] and hand it to the server's one command executor, so there is exactly one
//! implementation of each rule.

use crate::role::Role;
use crate::status::{FlagSeverity, string_enum};
use serde::{Deserialize, Serialize};

string_enum!(
    /// The synced entity kinds.
    Entity {
        Mentor = "mentor", Mentee = "mentee", Pause = "pause",
        MenteeAssignment = "mentee_assignment", CoordinatorAssignment = "coordinator_assignment",
        Session = "session", Submission = "submission", WorkItem = "work_item", Flag = "flag",
        Cohort = "cohort", Dashboard = "dashboard", User = "user", InboxItem = "inbox_item",
    }
);

string_enum!(
    /// A mentor's verdict on a mission submission.
    ReviewDecision { Approved = "approved", ChangesRequested = "changes_requested" }
);

/// A command, as sent by a client: `{"name": "pause_mentor", "args": {...}}`.
///
/// Ids of rows a command creates (`pause_id`, `session_id`, …) may be chosen by the client
/// (UUIDs), so an offline client can refer to the row before the server has seen it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "name", content = "args", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Command {
    PauseMentor(PauseMentor),
    ResumeMentor(MentorRef),
    DeactivateMentor(MentorRef),
    ReactivateMentor(MentorRef),
    RequestPause(PauseMentor),
    ApprovePause(PauseRef),
    DeclinePause(PauseRef),
    CancelPause(PauseRef),
    AssignMentee(AssignMentee),
    EndAssignment(AssignmentRef),
    ScheduleSession(ScheduleSession),
    CompleteSession(SessionRef),
    CancelSession(SessionRef),
    MarkNoShow(SessionRef),
    EditSessionNotes(EditSessionNotes),
    SubmitMission(SubmitMission),
    ResubmitMission(ResubmitMission),
    ReviewMission(ReviewMission),
    ClaimWorkItem(WorkItemRef),
    CompleteWorkItem(WorkItemRef),
    CancelWorkItem(WorkItemRef),
    RaiseFlag(RaiseFlag),
    AcknowledgeFlag(FlagRef),
    ResolveFlag(FlagRef),
    CreateUser(CreateUser),
    UpdateUser(UpdateUser),
    ChangeRole(ChangeRole),
    DisableUser(UserRef),
    EnableUser(UserRef),
    UpdateMentor(UpdateMentor),
    RenewCertification(RenewCertification),
    AssignCoordinator(AssignCoordinator),
    UpdateMentee(UpdateMentee),
    EnrolMentee(EnrolMentee),
    CreateCohort(CreateCohort),
    UpdateCohort(UpdateCohort),
    AddCohortDirector(CohortDirector),
    RemoveCohortDirector(CohortDirector),
    ReadInboxItem(InboxItemRef),
    DismissInboxItem(InboxItemRef),
}

macro_rules! args {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }
    };
}

args!(
    /// Names a mentor.
    MentorRef { /// The mentor's user id.
    mentor_id: String }
);
args!(
    /// Pause a mentor (coordinator) or ask for a pause (the mentor).
    PauseMentor {
        /// The mentor's user id.
        mentor_id: String,
        /// Why; shown to coordinators.
        reason: String,
        /// Epoch ms; absent or past means now.
        #[serde(default)] starts_at: Option<i64>,
        /// Epoch ms; absent means until resumed.
        #[serde(default)] ends_at: Option<i64>,
        /// Client-chosen id of the new pause.
        #[serde(default)] pause_id: Option<String>,
    }
);
args!(
    /// Names a pause.
    PauseRef { /// The pause id.
    pause_id: String }
);
args!(
    /// Assign a mentee to a mentor.
    AssignMentee {
        /// The mentor's user id.
        mentor_id: String,
        /// The mentee's user id.
        mentee_id: String,
        /// Client-chosen id of the new assignment.
        #[serde(default)] assignment_id: Option<String>,
    }
);
args!(
    /// Names a mentee assignment.
    AssignmentRef { /// The assignment id.
    assignment_id: String }
);
args!(
    /// Schedule a session between a mentor and their mentee.
    ScheduleSession {
        /// The mentee's user id.
        mentee_id: String,
        /// The mentor; defaults to the caller when the caller is a mentor.
        #[serde(default)] mentor_id: Option<String>,
        /// Epoch ms.
        scheduled_at: i64,
        /// 5 to 480 minutes.
        duration_minutes: i64,
        /// Video-call link, if any.
        #[serde(default)] meeting_link: Option<String>,
        /// Client-chosen id of the new session.
        #[serde(default)] session_id: Option<String>,
    }
);
args!(
    /// Names a session.
    SessionRef { /// The session id.
    session_id: String }
);
args!(
    /// Merge edits into a session's shared notes.
    EditSessionNotes {
        /// The session id.
        session_id: String,
        /// Automerge changes (base64), made on top of the session's notes document.
        changes: String,
    }
);
args!(
    /// A mentee submits a mission.
    SubmitMission {
        /// Which mission (the programme's own reference).
        mission_ref: String,
        /// Short title.
        title: String,
        /// The work, or a link to it.
        content: String,
        /// Client-chosen id of the new submission.
        #[serde(default)] submission_id: Option<String>,
    }
);
args!(
    /// A mentee submits again after changes were requested.
    ResubmitMission {
        /// The submission id.
        submission_id: String,
        /// The revised work.
        content: String,
    }
);
args!(
    /// A mentor reviews a submission.
    ReviewMission {
        /// The submission id.
        submission_id: String,
        /// Approve or ask for changes.
        decision: ReviewDecision,
        /// Feedback for the mentee.
        #[serde(default)] feedback: Option<String>,
    }
);
args!(
    /// Names a work-queue item.
    WorkItemRef { /// The item id.
    item_id: String }
);
args!(
    /// Raise a risk flag on a mentee.
    RaiseFlag {
        /// The mentee's user id.
        mentee_id: String,
        /// How serious.
        severity: FlagSeverity,
        /// What was observed.
        reason: String,
        /// Client-chosen id of the new flag.
        #[serde(default)] flag_id: Option<String>,
    }
);
args!(
    /// Names a flag.
    FlagRef { /// The flag id.
    flag_id: String }
);
args!(
    /// Names one of the caller's own inbox items.
    InboxItemRef { /// The inbox item id.
    item_id: String }
);

args!(
    /// Names a user account.
    UserRef { /// The user id.
    user_id: String }
);
args!(
    /// An admin creates an account in their chapter. It has no password: the person signs
    /// in first with a one-time code an admin issues (`POST /api/v1/admin/users/{id}/sign-in-code`),
    /// which never travels through sync.
    CreateUser {
        /// Client-chosen id of the new user.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(format = Uuid))]
        user_id: Option<String>,
        /// Sign-in email; unique in the deployment, compared case-insensitively.
        #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 320))]
        email: String,
        /// Name shown to others, up to 200 characters.
        #[cfg_attr(feature = "openapi", schema(pattern = r"\S", max_length = 200))]
        display_name: String,
        /// The person's role; a mentor or mentee also gets their profile.
        role: Role,
        /// IANA time zone (`Europe/Lisbon`); absent means the chapter's.
        #[serde(default)] time_zone: Option<String>,
    }
);
args!(
    /// An admin edits an account's name, email or time zone (absent fields stay).
    UpdateUser {
        /// The user id.
        user_id: String,
        /// New sign-in email.
        #[serde(default)] email: Option<String>,
        /// New display name.
        #[serde(default)] display_name: Option<String>,
        /// New IANA time zone; an empty string goes back to the chapter's.
        #[serde(default)] time_zone: Option<String>,
    }
);
args!(
    /// An admin changes a staff member's role (admin, coordinator, director).
    ChangeRole {
        /// The user id.
        user_id: String,
        /// The new role.
        role: Role,
    }
);
args!(
    /// Edit a mentor's capacity, specialties or availability (absent fields stay).
    UpdateMentor {
        /// The mentor's user id.
        mentor_id: String,
        /// Weekly slots, 1 to 100; never below the mentees they hold.
        #[serde(default)] capacity_weekly: Option<i64>,
        /// Topics, at most 20 of at most 50 characters.
        #[serde(default)] specialties: Option<Vec<String>>,
        /// Free-form availability, a JSON object of at most 2,000 bytes.
        #[serde(default)] availability: Option<serde_json::Value>,
    }
);
args!(
    /// Record a renewed certification.
    RenewCertification {
        /// The mentor's user id.
        mentor_id: String,
        /// Epoch ms of the new expiry; must be in the future.
        expires_at: i64,
    }
);
args!(
    /// An admin gives a mentor a coordinator (ending the current coordination, if any).
    AssignCoordinator {
        /// The mentor's user id.
        mentor_id: String,
        /// The coordinator's user id.
        coordinator_id: String,
        /// Client-chosen id of the new coordinator assignment.
        #[serde(default)] assignment_id: Option<String>,
    }
);
args!(
    /// An admin edits a mentee's interests.
    UpdateMentee {
        /// The mentee's user id.
        mentee_id: String,
        /// Topics, at most 20 of at most 50 characters.
        interests: Vec<String>,
    }
);
args!(
    /// An admin enrols a mentee in a cohort (or takes them out of theirs, with none).
    EnrolMentee {
        /// The mentee's user id.
        mentee_id: String,
        /// The cohort; absent or null leaves every cohort.
        #[serde(default)] cohort_id: Option<String>,
    }
);
args!(
    /// An admin creates a cohort.
    CreateCohort {
        /// Client-chosen id of the new cohort.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(format = Uuid))]
        cohort_id: Option<String>,
        /// The programme's own key for it (imports match on it); unique in the chapter.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
        external_id: Option<String>,
        /// Name, up to 200 characters.
        #[cfg_attr(feature = "openapi", schema(pattern = r"\S", max_length = 200))]
        name: String,
        /// Epoch ms (between 2000 and 2200).
        #[cfg_attr(feature = "openapi", schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64))]
        starts_at: i64,
        /// Epoch ms (before 2200); after `starts_at`.
        #[cfg_attr(feature = "openapi", schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64))]
        ends_at: i64,
        /// Seats offered, 0 to 100,000.
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000))]
        seats: i64,
    }
);
args!(
    /// An admin edits a cohort (absent fields stay).
    UpdateCohort {
        /// The cohort id.
        cohort_id: String,
        /// New name.
        #[serde(default)] name: Option<String>,
        /// New start, epoch ms.
        #[serde(default)] starts_at: Option<i64>,
        /// New end, epoch ms.
        #[serde(default)] ends_at: Option<i64>,
        /// New seat count; never below the mentees enrolled.
        #[serde(default)] seats: Option<i64>,
    }
);
args!(
    /// A director of a cohort (added or removed).
    CohortDirector {
        /// The cohort id.
        cohort_id: String,
        /// The director's user id.
        director_id: String,
    }
);

impl Command {
    /// The command's wire name (`pause_mentor`).
    pub fn name(&self) -> &'static str {
        use Command::*;
        match self {
            PauseMentor(_) => "pause_mentor",
            ResumeMentor(_) => "resume_mentor",
            DeactivateMentor(_) => "deactivate_mentor",
            ReactivateMentor(_) => "reactivate_mentor",
            RequestPause(_) => "request_pause",
            ApprovePause(_) => "approve_pause",
            DeclinePause(_) => "decline_pause",
            CancelPause(_) => "cancel_pause",
            AssignMentee(_) => "assign_mentee",
            EndAssignment(_) => "end_assignment",
            ScheduleSession(_) => "schedule_session",
            CompleteSession(_) => "complete_session",
            CancelSession(_) => "cancel_session",
            MarkNoShow(_) => "mark_no_show",
            EditSessionNotes(_) => "edit_session_notes",
            SubmitMission(_) => "submit_mission",
            ResubmitMission(_) => "resubmit_mission",
            ReviewMission(_) => "review_mission",
            ClaimWorkItem(_) => "claim_work_item",
            CompleteWorkItem(_) => "complete_work_item",
            CancelWorkItem(_) => "cancel_work_item",
            RaiseFlag(_) => "raise_flag",
            AcknowledgeFlag(_) => "acknowledge_flag",
            ResolveFlag(_) => "resolve_flag",
            CreateUser(_) => "create_user",
            UpdateUser(_) => "update_user",
            ChangeRole(_) => "change_role",
            DisableUser(_) => "disable_user",
            EnableUser(_) => "enable_user",
            UpdateMentor(_) => "update_mentor",
            RenewCertification(_) => "renew_certification",
            AssignCoordinator(_) => "assign_coordinator",
            UpdateMentee(_) => "update_mentee",
            EnrolMentee(_) => "enrol_mentee",
            CreateCohort(_) => "create_cohort",
            UpdateCohort(_) => "update_cohort",
            AddCohortDirector(_) => "add_cohort_director",
            RemoveCohortDirector(_) => "remove_cohort_director",
            ReadInboxItem(_) => "read_inbox_item",
            DismissInboxItem(_) => "dismiss_inbox_item",
        }
    }

    /// The roles that may issue this command at all. Whether the row is theirs (their
    /// roster, their mentee) is checked against the data by the server.
    pub fn allowed_roles(&self) -> &'static [Role] {
        use Command::*;
        use Role::*;
        match self {
            PauseMentor(_)
            | ResumeMentor(_)
            | DeactivateMentor(_)
            | ApprovePause(_)
            | DeclinePause(_)
            | AssignMentee(_)
            | EndAssignment(_)
            | AcknowledgeFlag(_)
            | ResolveFlag(_)
            | UpdateMentor(_)
            | RenewCertification(_) => &[Admin, Coordinator],
            ReactivateMentor(_) => &[Admin],
            RequestPause(_) => &[Mentor],
            CancelPause(_) => &[Admin, Coordinator, Mentor],
            ScheduleSession(_) | CompleteSession(_) | CancelSession(_) | MarkNoShow(_)
            | EditSessionNotes(_) | ReviewMission(_) | CancelWorkItem(_) | RaiseFlag(_) => {
                &[Admin, Coordinator, Mentor]
            }
            SubmitMission(_) | ResubmitMission(_) => &[Mentee],
            ClaimWorkItem(_) | CompleteWorkItem(_) => &[Mentor],
            CreateUser(_)
            | UpdateUser(_)
            | ChangeRole(_)
            | DisableUser(_)
            | EnableUser(_)
            | AssignCoordinator(_)
            | UpdateMentee(_)
            | EnrolMentee(_)
            | CreateCohort(_)
            | UpdateCohort(_)
            | AddCohortDirector(_)
            | RemoveCohortDirector(_) => &[Admin],
            ReadInboxItem(_) | DismissInboxItem(_) => {
                &[Admin, Coordinator, Mentor, Mentee, Director]
            }
        }
    }

    /// Whether the command provisions the programme (accounts, profiles, coordination,
    /// cohorts): an admin's work that a device queues but does not predict, since its
    /// facts (deployment-wide email uniqueness, every account) are the server's alone.
    pub fn is_admin(&self) -> bool {
        use Command::*;
        matches!(
            self,
            CreateUser(_)
                | UpdateUser(_)
                | ChangeRole(_)
                | DisableUser(_)
                | EnableUser(_)
                | UpdateMentor(_)
                | RenewCertification(_)
                | AssignCoordinator(_)
                | UpdateMentee(_)
                | EnrolMentee(_)
                | CreateCohort(_)
                | UpdateCohort(_)
                | AddCohortDirector(_)
                | RemoveCohortDirector(_)
        )
    }

    /// Moves the times the device chose by `-offset` (the device's clock minus the
    /// server's), so they mean on the server's clock what they meant on the device's.
    pub fn to_server_clock(&mut self, offset: i64) {
        match self {
            Command::PauseMentor(a) | Command::RequestPause(a) => {
                a.starts_at = a.starts_at.map(|t| t.saturating_sub(offset));
                a.ends_at = a.ends_at.map(|t| t.saturating_sub(offset));
            }
            Command::ScheduleSession(a) => a.scheduled_at = a.scheduled_at.saturating_sub(offset),
            _ => {}
        }
    }

    /// The existing row the command acts on, whose version `expected_version` refers to.
    /// Commands that create a row name its parent (the mentor of a new pause); a mission
    /// submission names none (its parent is the caller).
    pub fn target(&self) -> Option<(Entity, &str)> {
        use Command::*;
        Some(match self {
            PauseMentor(a) | RequestPause(a) => (Entity::Mentor, &a.mentor_id),
            ResumeMentor(a) | DeactivateMentor(a) | ReactivateMentor(a) => {
                (Entity::Mentor, &a.mentor_id)
            }
            AssignMentee(a) => (Entity::Mentor, &a.mentor_id),
            ApprovePause(a) | DeclinePause(a) | CancelPause(a) => (Entity::Pause, &a.pause_id),
            EndAssignment(a) => (Entity::MenteeAssignment, &a.assignment_id),
            ScheduleSession(a) => (Entity::Mentee, &a.mentee_id),
            CompleteSession(a) | CancelSession(a) | MarkNoShow(a) => {
                (Entity::Session, &a.session_id)
            }
            EditSessionNotes(a) => (Entity::Session, &a.session_id),
            SubmitMission(_) => return None,
            ResubmitMission(a) => (Entity::Submission, &a.submission_id),
            ReviewMission(a) => (Entity::Submission, &a.submission_id),
            ClaimWorkItem(a) | CompleteWorkItem(a) | CancelWorkItem(a) => {
                (Entity::WorkItem, &a.item_id)
            }
            RaiseFlag(a) => (Entity::Mentee, &a.mentee_id),
            AcknowledgeFlag(a) | ResolveFlag(a) => (Entity::Flag, &a.flag_id),
            CreateUser(_) | CreateCohort(_) => return None,
            UpdateUser(a) => (Entity::User, &a.user_id),
            ChangeRole(a) => (Entity::User, &a.user_id),
            DisableUser(a) | EnableUser(a) => (Entity::User, &a.user_id),
            UpdateMentor(a) => (Entity::Mentor, &a.mentor_id),
            RenewCertification(a) => (Entity::Mentor, &a.mentor_id),
            AssignCoordinator(a) => (Entity::Mentor, &a.mentor_id),
            UpdateMentee(a) => (Entity::Mentee, &a.mentee_id),
            EnrolMentee(a) => (Entity::Mentee, &a.mentee_id),
            UpdateCohort(a) => (Entity::Cohort, &a.cohort_id),
            AddCohortDirector(a) | RemoveCohortDirector(a) => (Entity::Cohort, &a.cohort_id),
            ReadInboxItem(a) | DismissInboxItem(a) => (Entity::InboxItem, &a.item_id),
        })
    }

    /// The id of the row the command creates, once chosen (the device fills it in when
    /// the command is queued, so an app can open the new session or flag at once).
    pub fn created_id(&self) -> Option<&str> {
        use Command::*;
        match self {
            PauseMentor(a) | RequestPause(a) => a.pause_id.as_deref(),
            AssignMentee(a) => a.assignment_id.as_deref(),
            ScheduleSession(a) => a.session_id.as_deref(),
            SubmitMission(a) => a.submission_id.as_deref(),
            RaiseFlag(a) => a.flag_id.as_deref(),
            CreateUser(a) => a.user_id.as_deref(),
            AssignCoordinator(a) => a.assignment_id.as_deref(),
            CreateCohort(a) => a.cohort_id.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_name_plus_args() {
        let c: Command = serde_json::from_str(
            r#"{"name":"pause_mentor","args":{"mentor_id":"m1","reason":"leave","ends_at":5}}"#,
        )
        .unwrap();
        assert_eq!(c.name(), "pause_mentor");
        assert_eq!(c.target(), Some((Entity::Mentor, "m1")));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["name"], "pause_mentor");
    }

    #[test]
    fn unknown_argument_fields_are_refused() {
        let r: Result<Command, _> =
            serde_json::from_str(r#"{"name":"resume_mentor","args":{"mentor_id":"m1","extra":1}}"#);
        assert!(r.is_err());
    }

    #[test]
    fn only_admins_reactivate() {
        let c = Command::ReactivateMentor(MentorRef {
            mentor_id: "m".into(),
        });
        assert_eq!(c.allowed_roles(), &[Role::Admin]);
    }
}
