//! Every command of every role as one typed enum (a sealed class in Kotlin, an enum with
//! associated values in Swift). One enum rather than one method per action: the same
//! type describes what the person asked for, what waits in the outbox and what the
//! server refused, so the app shows a queued or refused command with the words it
//! issued it with; and `execute` stays the one door every command goes through. Ids of
//! rows a command creates are chosen by the core and returned by `execute`.

use crate::types::*;
use mentorsync_core::protocol::command as cmd;
use mentorsync_core::protocol::{Command, Role as CoreRole};
use std::collections::HashMap;
use std::time::SystemTime;

/// Something a person does. Who may do what is DOMAIN.md's table; a command outside it
/// is refused with `RefusalCode::Forbidden`.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
#[allow(missing_docs)] // the fields are named after what they hold
pub enum Action {
    /// Coordinator: pause a mentor from `starts_at` (none: now) until `ends_at` (none:
    /// until resumed).
    PauseMentor {
        mentor_id: String,
        reason: String,
        starts_at: Option<SystemTime>,
        ends_at: Option<SystemTime>,
    },
    /// Coordinator: end a mentor's pause.
    ResumeMentor { mentor_id: String },
    /// Coordinator: take a mentor out of the programme (their mentees go back to matching).
    DeactivateMentor { mentor_id: String },
    /// Admin: bring an inactive mentor back (needs a valid certification).
    ReactivateMentor { mentor_id: String },
    /// Mentor: ask their coordinator for a pause.
    RequestPause {
        mentor_id: String,
        reason: String,
        starts_at: Option<SystemTime>,
        ends_at: Option<SystemTime>,
    },
    /// Coordinator: approve a requested pause.
    ApprovePause { pause_id: String },
    /// Coordinator: decline a requested pause.
    DeclinePause { pause_id: String },
    /// Coordinator or the mentor: withdraw a pause not yet running.
    CancelPause { pause_id: String },
    /// Coordinator: give a mentee a mentor.
    AssignMentee {
        mentor_id: String,
        mentee_id: String,
    },
    /// Coordinator: end a mentee's assignment.
    EndAssignment { assignment_id: String },
    /// Mentor (or their coordinator): schedule a session with a mentee.
    ScheduleSession {
        mentee_id: String,
        /// Defaults to the caller when the caller is a mentor.
        mentor_id: Option<String>,
        scheduled_at: SystemTime,
        duration_minutes: i64,
        meeting_link: Option<String>,
    },
    /// Mentor: the session was held.
    CompleteSession { session_id: String },
    /// Mentor: call a session off.
    CancelSession { session_id: String },
    /// Mentor: the mentee did not come.
    MarkNoShow { session_id: String },
    /// Mentor or mentee: rewrite a session's shared notes (merged with everyone's edits).
    /// A queued edit shows an empty `text`: its words are in the session's notes.
    EditSessionNotes { session_id: String, text: String },
    /// Mentee: submit a mission.
    SubmitMission {
        mission_ref: String,
        title: String,
        content: String,
    },
    /// Mentee: submit again after changes were requested.
    ResubmitMission {
        submission_id: String,
        content: String,
    },
    /// Mentor: review a submission.
    ReviewMission {
        submission_id: String,
        decision: ReviewDecision,
        feedback: Option<String>,
    },
    /// Mentor: start a work item.
    ClaimWorkItem { item_id: String },
    /// Mentor: finish a work item.
    CompleteWorkItem { item_id: String },
    /// Coordinator: drop a work item.
    CancelWorkItem { item_id: String },
    /// Mentor or coordinator: raise a risk flag on a mentee.
    RaiseFlag {
        mentee_id: String,
        severity: FlagSeverity,
        reason: String,
    },
    /// Coordinator: acknowledge a flag.
    AcknowledgeFlag { flag_id: String },
    /// Coordinator: resolve a flag.
    ResolveFlag { flag_id: String },
    /// Anyone: mark one of their inbox items read.
    ReadInboxItem { item_id: String },
    /// Anyone: take one of their inbox items out of the inbox.
    DismissInboxItem { item_id: String },
    /// Admin: create an account (the person signs in with a code an admin issues).
    CreateUser {
        email: String,
        display_name: String,
        role: Role,
        time_zone: Option<String>,
    },
    /// Admin: edit an account (none keeps a field).
    UpdateUser {
        user_id: String,
        email: Option<String>,
        display_name: Option<String>,
        time_zone: Option<String>,
    },
    /// Admin: change a staff member's role.
    ChangeRole { user_id: String, role: Role },
    /// Admin: disable an account (every session ends).
    DisableUser { user_id: String },
    /// Admin: enable it again.
    EnableUser { user_id: String },
    /// Admin: edit a mentor's capacity, specialties or availability (none keeps a field).
    UpdateMentor {
        mentor_id: String,
        capacity_weekly: Option<i64>,
        specialties: Option<Vec<String>>,
        availability: Option<HashMap<String, Vec<String>>>,
    },
    /// Admin: record a renewed certification.
    RenewCertification {
        mentor_id: String,
        expires_at: SystemTime,
    },
    /// Admin: give a mentor a coordinator.
    AssignCoordinator {
        mentor_id: String,
        coordinator_id: String,
    },
    /// Admin: edit a mentee's interests.
    UpdateMentee {
        mentee_id: String,
        interests: Vec<String>,
    },
    /// Admin: enrol a mentee in a cohort (none: in none).
    EnrolMentee {
        mentee_id: String,
        cohort_id: Option<String>,
    },
    /// Admin: create a cohort.
    CreateCohort {
        external_id: Option<String>,
        name: String,
        starts_at: SystemTime,
        ends_at: SystemTime,
        seats: i64,
    },
    /// Admin: edit a cohort (none keeps a field).
    UpdateCohort {
        cohort_id: String,
        name: Option<String>,
        starts_at: Option<SystemTime>,
        ends_at: Option<SystemTime>,
        seats: Option<i64>,
    },
    /// Admin: make a director a cohort's director.
    AddCohortDirector {
        cohort_id: String,
        director_id: String,
    },
    /// Admin: take it back.
    RemoveCohortDirector {
        cohort_id: String,
        director_id: String,
    },
}

fn opt_ms(t: Option<SystemTime>) -> Option<i64> {
    t.map(ms)
}

fn opt_time(t: Option<i64>) -> Option<SystemTime> {
    t.map(time)
}

fn availability_json(a: HashMap<String, Vec<String>>) -> serde_json::Value {
    serde_json::Value::Object(
        a.into_iter()
            .map(|(day, slots)| (day, serde_json::Value::from(slots)))
            .collect(),
    )
}

/// What the core is handed for an action.
pub(crate) enum Prepared {
    /// A wire command.
    Command(Command),
    /// New notes text: the core turns it into a document edit of the session's notes.
    Notes { session_id: String, text: String },
}

impl Action {
    /// What the core is handed for this action.
    pub(crate) fn prepare(self) -> Prepared {
        use Action as A;
        use Command as C;
        Prepared::Command(match self {
            A::PauseMentor {
                mentor_id,
                reason,
                starts_at,
                ends_at,
            } => C::PauseMentor(cmd::PauseMentor {
                mentor_id,
                reason,
                starts_at: opt_ms(starts_at),
                ends_at: opt_ms(ends_at),
                pause_id: None,
            }),
            A::ResumeMentor { mentor_id } => C::ResumeMentor(cmd::MentorRef { mentor_id }),
            A::DeactivateMentor { mentor_id } => C::DeactivateMentor(cmd::MentorRef { mentor_id }),
            A::ReactivateMentor { mentor_id } => C::ReactivateMentor(cmd::MentorRef { mentor_id }),
            A::RequestPause {
                mentor_id,
                reason,
                starts_at,
                ends_at,
            } => C::RequestPause(cmd::PauseMentor {
                mentor_id,
                reason,
                starts_at: opt_ms(starts_at),
                ends_at: opt_ms(ends_at),
                pause_id: None,
            }),
            A::ApprovePause { pause_id } => C::ApprovePause(cmd::PauseRef { pause_id }),
            A::DeclinePause { pause_id } => C::DeclinePause(cmd::PauseRef { pause_id }),
            A::CancelPause { pause_id } => C::CancelPause(cmd::PauseRef { pause_id }),
            A::AssignMentee {
                mentor_id,
                mentee_id,
            } => C::AssignMentee(cmd::AssignMentee {
                mentor_id,
                mentee_id,
                assignment_id: None,
            }),
            A::EndAssignment { assignment_id } => {
                C::EndAssignment(cmd::AssignmentRef { assignment_id })
            }
            A::ScheduleSession {
                mentee_id,
                mentor_id,
                scheduled_at,
                duration_minutes,
                meeting_link,
            } => C::ScheduleSession(cmd::ScheduleSession {
                mentee_id,
                mentor_id,
                scheduled_at: ms(scheduled_at),
                duration_minutes,
                meeting_link,
                session_id: None,
            }),
            A::CompleteSession { session_id } => C::CompleteSession(cmd::SessionRef { session_id }),
            A::CancelSession { session_id } => C::CancelSession(cmd::SessionRef { session_id }),
            A::MarkNoShow { session_id } => C::MarkNoShow(cmd::SessionRef { session_id }),
            A::EditSessionNotes { session_id, text } => {
                return Prepared::Notes { session_id, text };
            }
            A::SubmitMission {
                mission_ref,
                title,
                content,
            } => C::SubmitMission(cmd::SubmitMission {
                mission_ref,
                title,
                content,
                submission_id: None,
            }),
            A::ResubmitMission {
                submission_id,
                content,
            } => C::ResubmitMission(cmd::ResubmitMission {
                submission_id,
                content,
            }),
            A::ReviewMission {
                submission_id,
                decision,
                feedback,
            } => C::ReviewMission(cmd::ReviewMission {
                submission_id,
                decision: decision.into(),
                feedback,
            }),
            A::ClaimWorkItem { item_id } => C::ClaimWorkItem(cmd::WorkItemRef { item_id }),
            A::CompleteWorkItem { item_id } => C::CompleteWorkItem(cmd::WorkItemRef { item_id }),
            A::CancelWorkItem { item_id } => C::CancelWorkItem(cmd::WorkItemRef { item_id }),
            A::RaiseFlag {
                mentee_id,
                severity,
                reason,
            } => C::RaiseFlag(cmd::RaiseFlag {
                mentee_id,
                severity: severity.into(),
                reason,
                flag_id: None,
            }),
            A::AcknowledgeFlag { flag_id } => C::AcknowledgeFlag(cmd::FlagRef { flag_id }),
            A::ResolveFlag { flag_id } => C::ResolveFlag(cmd::FlagRef { flag_id }),
            A::ReadInboxItem { item_id } => C::ReadInboxItem(cmd::InboxItemRef { item_id }),
            A::DismissInboxItem { item_id } => C::DismissInboxItem(cmd::InboxItemRef { item_id }),
            A::CreateUser {
                email,
                display_name,
                role,
                time_zone,
            } => C::CreateUser(cmd::CreateUser {
                user_id: None,
                email,
                display_name,
                role: CoreRole::from(role),
                time_zone,
            }),
            A::UpdateUser {
                user_id,
                email,
                display_name,
                time_zone,
            } => C::UpdateUser(cmd::UpdateUser {
                user_id,
                email,
                display_name,
                time_zone,
            }),
            A::ChangeRole { user_id, role } => C::ChangeRole(cmd::ChangeRole {
                user_id,
                role: role.into(),
            }),
            A::DisableUser { user_id } => C::DisableUser(cmd::UserRef { user_id }),
            A::EnableUser { user_id } => C::EnableUser(cmd::UserRef { user_id }),
            A::UpdateMentor {
                mentor_id,
                capacity_weekly,
                specialties,
                availability,
            } => C::UpdateMentor(cmd::UpdateMentor {
                mentor_id,
                capacity_weekly,
                specialties,
                availability: availability.map(availability_json),
            }),
            A::RenewCertification {
                mentor_id,
                expires_at,
            } => C::RenewCertification(cmd::RenewCertification {
                mentor_id,
                expires_at: ms(expires_at),
            }),
            A::AssignCoordinator {
                mentor_id,
                coordinator_id,
            } => C::AssignCoordinator(cmd::AssignCoordinator {
                mentor_id,
                coordinator_id,
                assignment_id: None,
            }),
            A::UpdateMentee {
                mentee_id,
                interests,
            } => C::UpdateMentee(cmd::UpdateMentee {
                mentee_id,
                interests,
            }),
            A::EnrolMentee {
                mentee_id,
                cohort_id,
            } => C::EnrolMentee(cmd::EnrolMentee {
                mentee_id,
                cohort_id,
            }),
            A::CreateCohort {
                external_id,
                name,
                starts_at,
                ends_at,
                seats,
            } => C::CreateCohort(cmd::CreateCohort {
                cohort_id: None,
                external_id,
                name,
                starts_at: ms(starts_at),
                ends_at: ms(ends_at),
                seats,
            }),
            A::UpdateCohort {
                cohort_id,
                name,
                starts_at,
                ends_at,
                seats,
            } => C::UpdateCohort(cmd::UpdateCohort {
                cohort_id,
                name,
                starts_at: opt_ms(starts_at),
                ends_at: opt_ms(ends_at),
                seats,
            }),
            A::AddCohortDirector {
                cohort_id,
                director_id,
            } => C::AddCohortDirector(cmd::CohortDirector {
                cohort_id,
                director_id,
            }),
            A::RemoveCohortDirector {
                cohort_id,
                director_id,
            } => C::RemoveCohortDirector(cmd::CohortDirector {
                cohort_id,
                director_id,
            }),
        })
    }
}

impl From<Command> for Action {
    fn from(c: Command) -> Self {
        use Action as A;
        use Command as C;
        match c {
            C::PauseMentor(a) => A::PauseMentor {
                mentor_id: a.mentor_id,
                reason: a.reason,
                starts_at: opt_time(a.starts_at),
                ends_at: opt_time(a.ends_at),
            },
            C::ResumeMentor(a) => A::ResumeMentor {
                mentor_id: a.mentor_id,
            },
            C::DeactivateMentor(a) => A::DeactivateMentor {
                mentor_id: a.mentor_id,
            },
            C::ReactivateMentor(a) => A::ReactivateMentor {
                mentor_id: a.mentor_id,
            },
            C::RequestPause(a) => A::RequestPause {
                mentor_id: a.mentor_id,
                reason: a.reason,
                starts_at: opt_time(a.starts_at),
                ends_at: opt_time(a.ends_at),
            },
            C::ApprovePause(a) => A::ApprovePause {
                pause_id: a.pause_id,
            },
            C::DeclinePause(a) => A::DeclinePause {
                pause_id: a.pause_id,
            },
            C::CancelPause(a) => A::CancelPause {
                pause_id: a.pause_id,
            },
            C::AssignMentee(a) => A::AssignMentee {
                mentor_id: a.mentor_id,
                mentee_id: a.mentee_id,
            },
            C::EndAssignment(a) => A::EndAssignment {
                assignment_id: a.assignment_id,
            },
            C::ScheduleSession(a) => A::ScheduleSession {
                mentee_id: a.mentee_id,
                mentor_id: a.mentor_id,
                scheduled_at: time(a.scheduled_at),
                duration_minutes: a.duration_minutes,
                meeting_link: a.meeting_link,
            },
            C::CompleteSession(a) => A::CompleteSession {
                session_id: a.session_id,
            },
            C::CancelSession(a) => A::CancelSession {
                session_id: a.session_id,
            },
            C::MarkNoShow(a) => A::MarkNoShow {
                session_id: a.session_id,
            },
            C::EditSessionNotes(a) => A::EditSessionNotes {
                session_id: a.session_id,
                text: String::new(),
            },
            C::SubmitMission(a) => A::SubmitMission {
                mission_ref: a.mission_ref,
                title: a.title,
                content: a.content,
            },
            C::ResubmitMission(a) => A::ResubmitMission {
                submission_id: a.submission_id,
                content: a.content,
            },
            C::ReviewMission(a) => A::ReviewMission {
                submission_id: a.submission_id,
                decision: a.decision.into(),
                feedback: a.feedback,
            },
            C::ClaimWorkItem(a) => A::ClaimWorkItem { item_id: a.item_id },
            C::CompleteWorkItem(a) => A::CompleteWorkItem { item_id: a.item_id },
            C::CancelWorkItem(a) => A::CancelWorkItem { item_id: a.item_id },
            C::RaiseFlag(a) => A::RaiseFlag {
                mentee_id: a.mentee_id,
                severity: a.severity.into(),
                reason: a.reason,
            },
            C::AcknowledgeFlag(a) => A::AcknowledgeFlag { flag_id: a.flag_id },
            C::ResolveFlag(a) => A::ResolveFlag { flag_id: a.flag_id },
            C::ReadInboxItem(a) => A::ReadInboxItem { item_id: a.item_id },
            C::DismissInboxItem(a) => A::DismissInboxItem { item_id: a.item_id },
            C::CreateUser(a) => A::CreateUser {
                email: a.email,
                display_name: a.display_name,
                role: a.role.into(),
                time_zone: a.time_zone,
            },
            C::UpdateUser(a) => A::UpdateUser {
                user_id: a.user_id,
                email: a.email,
                display_name: a.display_name,
                time_zone: a.time_zone,
            },
            C::ChangeRole(a) => A::ChangeRole {
                user_id: a.user_id,
                role: a.role.into(),
            },
            C::DisableUser(a) => A::DisableUser { user_id: a.user_id },
            C::EnableUser(a) => A::EnableUser { user_id: a.user_id },
            C::UpdateMentor(a) => A::UpdateMentor {
                mentor_id: a.mentor_id,
                capacity_weekly: a.capacity_weekly,
                specialties: a.specialties,
                availability: a.availability.as_ref().map(crate::records::availability_of),
            },
            C::RenewCertification(a) => A::RenewCertification {
                mentor_id: a.mentor_id,
                expires_at: time(a.expires_at),
            },
            C::AssignCoordinator(a) => A::AssignCoordinator {
                mentor_id: a.mentor_id,
                coordinator_id: a.coordinator_id,
            },
            C::UpdateMentee(a) => A::UpdateMentee {
                mentee_id: a.mentee_id,
                interests: a.interests,
            },
            C::EnrolMentee(a) => A::EnrolMentee {
                mentee_id: a.mentee_id,
                cohort_id: a.cohort_id,
            },
            C::CreateCohort(a) => A::CreateCohort {
                external_id: a.external_id,
                name: a.name,
                starts_at: time(a.starts_at),
                ends_at: time(a.ends_at),
                seats: a.seats,
            },
            C::UpdateCohort(a) => A::UpdateCohort {
                cohort_id: a.cohort_id,
                name: a.name,
                starts_at: opt_time(a.starts_at),
                ends_at: opt_time(a.ends_at),
                seats: a.seats,
            },
            C::AddCohortDirector(a) => A::AddCohortDirector {
                cohort_id: a.cohort_id,
                director_id: a.director_id,
            },
            C::RemoveCohortDirector(a) => A::RemoveCohortDirector {
                cohort_id: a.cohort_id,
                director_id: a.director_id,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An action survives the trip to the wire command and back (what the outbox shows is
    /// what was issued), for a command with times, enums and optional fields.
    #[test]
    fn actions_round_trip_through_the_wire_command() {
        let at = time(1_795_895_133_000);
        for action in [
            Action::ScheduleSession {
                mentee_id: "e".into(),
                mentor_id: None,
                scheduled_at: at,
                duration_minutes: 45,
                meeting_link: Some("https://meet.example.org/x".into()),
            },
            Action::ReviewMission {
                submission_id: "s".into(),
                decision: ReviewDecision::ChangesRequested,
                feedback: None,
            },
            Action::RaiseFlag {
                mentee_id: "e".into(),
                severity: FlagSeverity::Critical,
                reason: "r".into(),
            },
            Action::UpdateMentor {
                mentor_id: "m".into(),
                capacity_weekly: Some(4),
                specialties: None,
                availability: Some(HashMap::from([("mon".into(), vec!["18:00-20:00".into()])])),
            },
            Action::CreateUser {
                email: "a@b.c".into(),
                display_name: "A".into(),
                role: Role::Director,
                time_zone: None,
            },
        ] {
            let Prepared::Command(command) = action.clone().prepare() else {
                panic!("{action:?} is a command");
            };
            assert_eq!(Action::from(command), action);
        }
    }
}
