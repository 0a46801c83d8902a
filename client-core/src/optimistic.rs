//! Applies a command to the local view as the server would, so its effect shows at once.
//! The checks are the server's own (the status machines of `mentorsync-protocol`, the same
//! role table, the same one-open-pause and capacity rules), so a command that cannot
//! succeed is refused here with the server's words instead of waiting to be rejected.
//! Relationship checks (is this my mentor?) are implied: the device only holds rows its
//! user may see.

use crate::error::{CoreError, Result};
use crate::rows::{self, Key};
use mentorsync_protocol::command::{Command, Entity, ReviewDecision};
use mentorsync_protocol::machine::*;
use mentorsync_protocol::model::*;
use mentorsync_protocol::{MentorStatus, PauseStatus, Role, WorkItemStatus};
use rusqlite::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::str::FromStr;

fn refuse(code: &str, reason: impl Into<String>) -> CoreError {
    CoreError::Rejected {
        code: code.to_owned(),
        reason: reason.into(),
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

struct View<'a> {
    conn: &'a Connection,
    me: &'a Me,
    now: i64,
    touched: Vec<Key>,
}

impl View<'_> {
    fn load<T: DeserializeOwned>(&self, entity: Entity, id: &str) -> Result<(T, i64)> {
        rows::get_view(self.conn, entity, id)?.ok_or_else(|| {
            refuse(
                "not_found",
                format!(
                    "{} not found on this device",
                    entity.as_str().replace('_', " ")
                ),
            )
        })
    }

    fn save<T: Serialize>(
        &mut self,
        entity: Entity,
        id: &str,
        version: i64,
        row: &T,
    ) -> Result<()> {
        rows::put_view(self.conn, entity, id, version, row, &self.me.chapter_id)?;
        let key = (entity, id.to_owned());
        if !self.touched.contains(&key) {
            self.touched.push(key);
        }
        Ok(())
    }

    /// A plain status step on any row: the protocol decides, the row keeps its version.
    fn step<A>(&mut self, entity: Entity, id: &str, action: A) -> Result<Value>
    where
        A: Action,
        A::Status: FromStr + Serialize,
    {
        let (mut row, version): (Value, i64) = self.load(entity, id)?;
        let current: A::Status = row["status"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CoreError::Storage(format!("{entity} {id} has no readable status")))?;
        let next = transition(current, action)?;
        row["status"] = serde_json::to_value(next)?;
        row["updated_at"] = json!(self.now);
        self.save(entity, id, version, &row)?;
        Ok(row)
    }

    fn open_pauses(&self, mentor_id: &str) -> Result<Vec<(Pause, i64)>> {
        rows::view_where(
            self.conn,
            Entity::Pause,
            "mentor_id",
            mentor_id,
            &["requested", "scheduled", "active"],
        )
    }

    fn no_open_pause(&self, mentor_id: &str) -> Result<()> {
        match self.open_pauses(mentor_id)?.first() {
            Some((p, _)) => Err(refuse(
                "open_pause_exists",
                format!(
                    "the mentor already has a {} pause; decide on it or cancel it first",
                    p.status
                ),
            )),
            None => Ok(()),
        }
    }

    fn set_mentor(
        &mut self,
        mentor: &mut Mentor,
        version: i64,
        action: MentorAction,
    ) -> Result<()> {
        mentor.status = transition(mentor.status, action)?;
        mentor.updated_at = self.now;
        let id = mentor.id.clone();
        self.save(Entity::Mentor, &id, version, mentor)
    }

    fn insert_pause(
        &mut self,
        id: &str,
        mentor_id: &str,
        status: PauseStatus,
        a: &mentorsync_protocol::command::PauseMentor,
        decided: bool,
    ) -> Result<()> {
        let pause = Pause {
            id: id.to_owned(),
            mentor_id: mentor_id.to_owned(),
            status,
            reason: a.reason.trim().to_owned(),
            starts_at: a.starts_at.unwrap_or(self.now),
            ends_at: a.ends_at,
            created_by: Some(self.me.id.clone()),
            decided_by: decided.then(|| self.me.id.clone()),
            version: 0,
            updated_at: self.now,
        };
        self.save(Entity::Pause, id, 0, &pause)
    }
}

/// Applies `command` to the view. Ids of rows it creates are chosen here (and written into
/// the command, so the server creates the same ids). Returns the rows it changed.
pub fn apply(conn: &Connection, me: &Me, now: i64, command: &mut Command) -> Result<Vec<Key>> {
    if !command.allowed_roles().contains(&me.role) {
        return Err(refuse(
            "forbidden",
            format!("a {} may not {}", me.role, command.name().replace('_', " ")),
        ));
    }
    let mut v = View {
        conn,
        me,
        now,
        touched: Vec::new(),
    };
    use Command::*;
    match command {
        PauseMentor(a) | RequestPause(a) => {
            if a.reason.trim().is_empty() {
                return Err(refuse("validation_failed", "`reason` must not be empty"));
            }
            let requesting = me.role == Role::Mentor;
            if requesting && a.mentor_id != me.id {
                return Err(refuse(
                    "forbidden",
                    "a mentor may only request a pause for themselves",
                ));
            }
            let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &a.mentor_id)?;
            transition(mentor.status, MentorAction::Pause)?;
            v.no_open_pause(&mentor.id)?;
            let id = a.pause_id.get_or_insert_with(new_id).clone();
            let a = a.clone();
            if requesting {
                v.insert_pause(&id, &mentor.id, PauseStatus::Requested, &a, false)?;
            } else if a.starts_at.is_none_or(|s| s <= now) {
                v.insert_pause(&id, &mentor.id, PauseStatus::Active, &a, true)?;
                v.set_mentor(&mut mentor, version, MentorAction::Pause)?;
            } else {
                v.insert_pause(&id, &mentor.id, PauseStatus::Scheduled, &a, true)?;
            }
        }
        ResumeMentor(a) => {
            let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &a.mentor_id)?;
            transition(mentor.status, MentorAction::Resume)?;
            for (mut p, pv) in v.open_pauses(&mentor.id)? {
                if p.status == PauseStatus::Active {
                    p.status = transition(p.status, PauseAction::End)?;
                    p.ends_at = Some(p.ends_at.map_or(now, |e| e.min(now)));
                    let pid = p.id.clone();
                    v.save(Entity::Pause, &pid, pv, &p)?;
                }
            }
            v.set_mentor(&mut mentor, version, MentorAction::Resume)?;
        }
        DeactivateMentor(a) => {
            let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &a.mentor_id)?;
            transition(mentor.status, MentorAction::Deactivate)?;
            for (mut p, pv) in v.open_pauses(&mentor.id)? {
                p.status = transition(p.status, PauseAction::Cancel)?;
                let pid = p.id.clone();
                v.save(Entity::Pause, &pid, pv, &p)?;
            }
            v.set_mentor(&mut mentor, version, MentorAction::Deactivate)?;
        }
        ReactivateMentor(a) => {
            let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &a.mentor_id)?;
            transition(mentor.status, MentorAction::Reactivate)?;
            if mentor.certification_expires_at.is_none_or(|t| t <= now) {
                return Err(refuse(
                    "certification_invalid",
                    "the mentor's certification is missing or expired; renew it before reactivating",
                ));
            }
            v.set_mentor(&mut mentor, version, MentorAction::Reactivate)?;
        }
        ApprovePause(a) => {
            let (mut p, pv): (Pause, i64) = v.load(Entity::Pause, &a.pause_id)?;
            let starts_now = p.starts_at <= now;
            let to = if starts_now {
                PauseStatus::Active
            } else {
                PauseStatus::Scheduled
            };
            p.status = transition_to(p.status, PauseAction::Approve, to)?;
            if starts_now {
                let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &p.mentor_id)?;
                v.set_mentor(&mut mentor, version, MentorAction::Pause)?;
            }
            p.decided_by = Some(me.id.clone());
            let pid = p.id.clone();
            v.save(Entity::Pause, &pid, pv, &p)?;
        }
        DeclinePause(a) => {
            v.step(Entity::Pause, &a.pause_id, PauseAction::Decline)?;
        }
        CancelPause(a) => {
            let (p, _): (Pause, i64) = v.load(Entity::Pause, &a.pause_id)?;
            if me.role == Role::Mentor {
                if p.mentor_id != me.id {
                    return Err(refuse(
                        "forbidden",
                        "a mentor may only cancel their own pause",
                    ));
                }
                if p.status == PauseStatus::Active {
                    return Err(refuse(
                        "invalid_transition",
                        "an active pause ends when your coordinator resumes you; ask them to",
                    ));
                }
            }
            v.step(Entity::Pause, &a.pause_id, PauseAction::Cancel)?;
            if p.status == PauseStatus::Active {
                let (mut mentor, version): (Mentor, i64) = v.load(Entity::Mentor, &p.mentor_id)?;
                if mentor.status == MentorStatus::Paused {
                    v.set_mentor(&mut mentor, version, MentorAction::Resume)?;
                }
            }
        }
        AssignMentee(a) => {
            let (mentor, _): (Mentor, i64) = v.load(Entity::Mentor, &a.mentor_id)?;
            if mentor.status != MentorStatus::Active {
                return Err(refuse(
                    "mentor_not_active",
                    format!(
                        "the mentor is {}; only an active mentor gets new mentees",
                        mentor.status
                    ),
                ));
            }
            let held = rows::view_where::<Value>(
                conn,
                Entity::MenteeAssignment,
                "mentor_id",
                &mentor.id,
                &["active"],
            )?
            .len() as i64;
            if held >= mentor.capacity_weekly {
                return Err(refuse(
                    "capacity_exceeded",
                    format!(
                        "the mentor already holds {held} of {} mentees",
                        mentor.capacity_weekly
                    ),
                ));
            }
            if !rows::view_where::<Value>(
                conn,
                Entity::MenteeAssignment,
                "mentee_id",
                &a.mentee_id,
                &["active"],
            )?
            .is_empty()
            {
                return Err(refuse(
                    "mentee_already_assigned",
                    "the mentee already has an active mentor; end that assignment first",
                ));
            }
            let id = a.assignment_id.get_or_insert_with(new_id).clone();
            let row = MenteeAssignment {
                id: id.clone(),
                mentor_id: mentor.id.clone(),
                mentee_id: a.mentee_id.clone(),
                status: mentorsync_protocol::AssignmentStatus::Active,
                started_at: now,
                ended_at: None,
                version: 0,
                updated_at: now,
            };
            v.save(Entity::MenteeAssignment, &id, 0, &row)?;
        }
        EndAssignment(a) => {
            let mut row = v.step(
                Entity::MenteeAssignment,
                &a.assignment_id,
                AssignmentAction::End,
            )?;
            row["ended_at"] = json!(now);
            let version =
                rows::get_view::<Value>(conn, Entity::MenteeAssignment, &a.assignment_id)?
                    .map_or(0, |r| r.1);
            v.save(Entity::MenteeAssignment, &a.assignment_id, version, &row)?;
        }
        ScheduleSession(a) => {
            if !(5..=480).contains(&a.duration_minutes) {
                return Err(refuse(
                    "validation_failed",
                    "`duration_minutes` must be between 5 and 480",
                ));
            }
            let mentor_id = a.mentor_id.get_or_insert_with(|| me.id.clone()).clone();
            let (mentor, _): (Mentor, i64) = v.load(Entity::Mentor, &mentor_id)?;
            if mentor.status != MentorStatus::Active {
                return Err(refuse(
                    "mentor_not_active",
                    format!(
                        "the mentor is {}; sessions are scheduled with active mentors",
                        mentor.status
                    ),
                ));
            }
            let id = a.session_id.get_or_insert_with(new_id).clone();
            let row = Session {
                id: id.clone(),
                mentor_id,
                mentee_id: a.mentee_id.clone(),
                status: mentorsync_protocol::SessionStatus::Scheduled,
                scheduled_at: a.scheduled_at,
                duration_minutes: a.duration_minutes,
                meeting_link: a.meeting_link.clone(),
                notes: String::new(),
                notes_doc: None,
                version: 0,
                updated_at: now,
            };
            v.save(Entity::Session, &id, 0, &row)?;
        }
        CompleteSession(a) => {
            v.step(Entity::Session, &a.session_id, SessionAction::Complete)?;
        }
        CancelSession(a) => {
            v.step(Entity::Session, &a.session_id, SessionAction::Cancel)?;
        }
        MarkNoShow(a) => {
            v.step(Entity::Session, &a.session_id, SessionAction::NoShow)?;
        }
        EditSessionNotes(a) => {
            use base64::Engine;
            let (mut s, version): (Session, i64) = v.load(Entity::Session, &a.session_id)?;
            let b64 = base64::engine::general_purpose::STANDARD;
            let invalid = |e: String| refuse("validation_failed", e);
            let stored = s
                .notes_doc
                .as_deref()
                .map(|d| b64.decode(d))
                .transpose()
                .map_err(|e| invalid(e.to_string()))?;
            let mut notes = mentorsync_protocol::notes::Notes::load(stored.as_deref())
                .map_err(|e| invalid(e.to_string()))?;
            let changes = b64
                .decode(a.changes.trim())
                .map_err(|_| invalid("`changes` must be base64".into()))?;
            // The server's limits, with the server's codes (413 → payload_too_large).
            let refused = |e: mentorsync_protocol::notes::NotesError| match e {
                mentorsync_protocol::notes::NotesError::TooLarge(m) => {
                    refuse("payload_too_large", m)
                }
                e => invalid(e.to_string()),
            };
            notes.apply(&changes).map_err(refused)?;
            s.notes = notes.text();
            s.notes_doc = Some(b64.encode(notes.save().map_err(refused)?));
            s.updated_at = now;
            let id = s.id.clone();
            v.save(Entity::Session, &id, version, &s)?;
        }
        SubmitMission(a) => {
            let id = a.submission_id.get_or_insert_with(new_id).clone();
            let row = Submission {
                id: id.clone(),
                mentee_id: me.id.clone(),
                mentor_id: None,
                mission_ref: a.mission_ref.clone(),
                title: a.title.clone(),
                content: a.content.clone(),
                status: mentorsync_protocol::SubmissionStatus::Submitted,
                submitted_at: now,
                reviewed_at: None,
                reviewed_by: None,
                feedback: None,
                version: 0,
                updated_at: now,
            };
            v.save(Entity::Submission, &id, 0, &row)?;
        }
        ResubmitMission(a) => {
            let mut row = v.step(
                Entity::Submission,
                &a.submission_id,
                SubmissionAction::Resubmit,
            )?;
            row["content"] = json!(a.content);
            let version = rows::get_view::<Value>(conn, Entity::Submission, &a.submission_id)?
                .map_or(0, |r| r.1);
            v.save(Entity::Submission, &a.submission_id, version, &row)?;
        }
        ReviewMission(a) => {
            let action = match a.decision {
                ReviewDecision::Approved => SubmissionAction::Approve,
                ReviewDecision::ChangesRequested => SubmissionAction::RequestChanges,
            };
            let mut row = v.step(Entity::Submission, &a.submission_id, action)?;
            row["reviewed_at"] = json!(now);
            row["reviewed_by"] = json!(me.id);
            row["feedback"] = json!(a.feedback);
            let version = rows::get_view::<Value>(conn, Entity::Submission, &a.submission_id)?
                .map_or(0, |r| r.1);
            v.save(Entity::Submission, &a.submission_id, version, &row)?;
            let mentee = row["mentee_id"].as_str().unwrap_or_default().to_owned();
            for (mut item, iv) in rows::view_where::<WorkItem>(
                conn,
                Entity::WorkItem,
                "mentee_id",
                &mentee,
                &["open", "in_progress"],
            )? {
                if item.reference_id.as_deref() == Some(a.submission_id.as_str()) {
                    item.status = WorkItemStatus::Done;
                    item.completed_at = Some(now);
                    item.overdue = false;
                    let iid = item.id.clone();
                    v.save(Entity::WorkItem, &iid, iv, &item)?;
                }
            }
        }
        ClaimWorkItem(a) | CompleteWorkItem(a) | CancelWorkItem(a) => {
            let (item, _): (WorkItem, i64) = v.load(Entity::WorkItem, &a.item_id)?;
            if me.role == Role::Mentor && item.mentor_id.as_deref() != Some(me.id.as_str()) {
                return Err(refuse(
                    "forbidden",
                    "this item is in another mentor's queue",
                ));
            }
            let action = match command {
                ClaimWorkItem(_) => WorkItemAction::Claim,
                CompleteWorkItem(_) => WorkItemAction::Complete,
                _ => WorkItemAction::Cancel,
            };
            let mut row = v.step(Entity::WorkItem, &item.id, action)?;
            if action == WorkItemAction::Complete {
                row["completed_at"] = json!(now);
                let version =
                    rows::get_view::<Value>(conn, Entity::WorkItem, &item.id)?.map_or(0, |r| r.1);
                v.save(Entity::WorkItem, &item.id, version, &row)?;
            }
        }
        RaiseFlag(a) => {
            if a.reason.trim().is_empty() {
                return Err(refuse("validation_failed", "`reason` must not be empty"));
            }
            v.load::<Value>(Entity::Mentee, &a.mentee_id)?;
            let id = a.flag_id.get_or_insert_with(new_id).clone();
            let row = Flag {
                id: id.clone(),
                mentee_id: a.mentee_id.clone(),
                raised_by: me.id.clone(),
                severity: a.severity,
                status: mentorsync_protocol::FlagStatus::Open,
                reason: a.reason.trim().to_owned(),
                created_at: now,
                version: 0,
                updated_at: now,
            };
            v.save(Entity::Flag, &id, 0, &row)?;
        }
        AcknowledgeFlag(a) => {
            v.step(Entity::Flag, &a.flag_id, FlagAction::Acknowledge)?;
        }
        ResolveFlag(a) => {
            v.step(Entity::Flag, &a.flag_id, FlagAction::Resolve)?;
        }
    }
    Ok(v.touched)
}
