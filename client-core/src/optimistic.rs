//! Applies a command to the local view as the server would, so its effect shows at once.
//!
//! The decision is the rule book's (`mentorsync_protocol::rules`), the same function the
//! server calls; this file only reads the facts it needs off the rows the device holds and
//! writes the effects it returns into the view. The ties the server looks up are read off
//! the device's rows: a coordinator's device holds exactly the mentors they coordinate, a
//! mentor's holds their own active assignments. A row the device does not hold is "not
//! found" here; the server, which holds every row, decides those commands.

use crate::error::{CoreError, Result};
use crate::rows::{self, Key};
use mentorsync_protocol::command::{Command, Entity};
use mentorsync_protocol::machine::{
    FlagAction, MentorAction, PauseAction, SessionAction, WorkItemAction,
};
use mentorsync_protocol::model::*;
use mentorsync_protocol::rules::access::{self, MenteeTies};
use mentorsync_protocol::rules::inbox::InboxAction;
use mentorsync_protocol::rules::mentor::StatusChange;
use mentorsync_protocol::rules::pause::{Created, Decided, MentorFacts, PauseChange, PauseFacts};
use mentorsync_protocol::rules::{self, Caller, Clock, Move};
use mentorsync_protocol::{ErrorCode, Refusal, Role, WorkItemKind};
use rusqlite::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The device's view while one command is applied: what it read, what it wrote.
struct View<'a> {
    conn: &'a Connection,
    me: &'a Me,
    now: i64,
    touched: Vec<Key>,
}

impl<'a> View<'a> {
    fn caller(&self) -> Caller<'a> {
        Caller::Person {
            id: &self.me.id,
            role: self.me.role,
        }
    }

    fn clock(&self) -> Clock {
        Clock::at(self.now)
    }

    fn load<T: DeserializeOwned>(&self, entity: Entity, id: &str) -> Result<T> {
        match rows::get_view(self.conn, entity, id)? {
            Some((row, _)) => Ok(row),
            None => Err(CoreError::Rejected {
                code: ErrorCode::NOT_FOUND.to_owned(),
                reason: format!(
                    "{} not found on this device",
                    entity.as_str().replace('_', " ")
                ),
            }),
        }
    }

    /// Writes a row, keeping the version its view row is based on (0 for a new row).
    fn save<T: Serialize>(&mut self, entity: Entity, id: &str, row: &T) -> Result<()> {
        let base = rows::get_view::<serde_json::Value>(self.conn, entity, id)?.map_or(0, |r| r.1);
        rows::put_view(self.conn, entity, id, base, row, &self.me.chapter_id)?;
        let key = (entity, id.to_owned());
        if !self.touched.contains(&key) {
            self.touched.push(key);
        }
        Ok(())
    }

    /// Whether the caller coordinates `mentor_id`: a coordinator's device holds exactly
    /// the mentors they coordinate.
    fn coordinates(&self, mentor_id: &str) -> Result<bool> {
        Ok(self.me.role == Role::Coordinator
            && rows::get_view::<serde_json::Value>(self.conn, Entity::Mentor, mentor_id)?.is_some())
    }

    /// Reads or dismisses one of the person's inbox items (the device holds only theirs).
    fn inbox(&mut self, item_id: &str, action: InboxAction) -> Result<()> {
        let id = rules::inbox::item_input(item_id)?;
        let item: InboxItem = self.load(Entity::InboxItem, &id)?;
        if let Some(c) = rules::inbox::decide(self.caller(), &item, action, self.now)? {
            let row = InboxItem {
                read_at: c.read_at,
                dismissed_at: c.dismissed_at,
                updated_at: self.now,
                ..item
            };
            self.save(Entity::InboxItem, &id, &row)?;
        }
        Ok(())
    }

    fn active_assignments(&self, column: &str, id: &str) -> Result<Vec<MenteeAssignment>> {
        let held = rows::view_where(self.conn, Entity::MenteeAssignment, column, id, &["active"])?;
        Ok(held.into_iter().map(|(a, _)| a).collect())
    }

    /// The mentee's current mentor, as far as the device holds their assignment.
    fn current_mentor(&self, mentee_id: &str) -> Result<Option<String>> {
        Ok(self
            .active_assignments("mentee_id", mentee_id)?
            .into_iter()
            .next()
            .map(|a| a.mentor_id))
    }

    fn mentors(&self, mentor_id: &str, mentee_id: &str) -> Result<bool> {
        Ok(self.current_mentor(mentee_id)?.as_deref() == Some(mentor_id))
    }

    fn mentee_ties(&self, mentee_id: &str) -> Result<MenteeTies> {
        let mentor = self.current_mentor(mentee_id)?;
        Ok(MenteeTies {
            mentors: self.me.role == Role::Mentor && mentor.as_deref() == Some(&self.me.id),
            coordinates_mentor: match mentor {
                Some(m) => self.coordinates(&m)?,
                None => false,
            },
        })
    }

    fn open_pauses(&self, mentor_id: &str) -> Result<Vec<Pause>> {
        let open = ["requested", "scheduled", "active"];
        let held = rows::view_where(self.conn, Entity::Pause, "mentor_id", mentor_id, &open)?;
        Ok(held.into_iter().map(|(p, _)| p).collect())
    }

    fn mentor_facts(&self, mentor_id: &str) -> Result<(Mentor, bool, Vec<Pause>)> {
        let mentor: Mentor = self.load(Entity::Mentor, mentor_id)?;
        let coordinates = self.coordinates(&mentor.id)?;
        let open = self.open_pauses(&mentor.id)?;
        Ok((mentor, coordinates, open))
    }

    fn pause_facts(&self, pause_id: &str) -> Result<(Pause, Mentor, bool)> {
        let pause: Pause = self.load(Entity::Pause, pause_id)?;
        let mentor: Mentor = self.load(Entity::Mentor, &pause.mentor_id)?;
        let coordinates = self.coordinates(&pause.mentor_id)?;
        Ok((pause, mentor, coordinates))
    }

    fn move_mentor(&mut self, mentor: &Mentor, m: Move<MentorAction>) -> Result<()> {
        let row = Mentor {
            status: m.to,
            updated_at: self.now,
            ..mentor.clone()
        };
        self.save(Entity::Mentor, &row.id, &row)
    }

    fn change_pause(&mut self, c: &PauseChange) -> Result<()> {
        let decides = matches!(c.change.action, PauseAction::Approve | PauseAction::Decline);
        let row = Pause {
            status: c.change.to,
            ends_at: c.ends_at.or(c.pause.ends_at),
            decided_by: match decides {
                true => Some(self.me.id.clone()),
                false => c.pause.decided_by.clone(),
            },
            updated_at: self.now,
            ..c.pause.clone()
        };
        self.save(Entity::Pause, &row.id, &row)
    }

    fn write_created(&mut self, mentor: &Mentor, c: &Created) -> Result<()> {
        for change in &c.cancelled {
            self.change_pause(change)?;
        }
        let p = &c.pause;
        let row = Pause {
            id: p.id.clone(),
            mentor_id: p.mentor_id.clone(),
            status: p.status,
            reason: p.reason.clone(),
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            created_by: Some(self.me.id.clone()),
            decided_by: p.decided_by.clone(),
            version: 0,
            updated_at: self.now,
        };
        self.save(Entity::Pause, &row.id, &row)?;
        match c.mentor {
            Some(m) => self.move_mentor(mentor, m),
            None => Ok(()),
        }
    }

    fn write_decided(&mut self, mentor: &Mentor, d: &Decided) -> Result<()> {
        if let Some(m) = d.mentor {
            self.move_mentor(mentor, m)?;
        }
        self.change_pause(&d.pause)
    }

    fn mentor_status(&mut self, mentor_id: &str, rule: MentorRule) -> Result<()> {
        let (mentor, coordinates, open) = self.mentor_facts(mentor_id)?;
        let f = MentorFacts {
            mentor: &mentor,
            coordinates,
            stale: false,
            open_pauses: &open,
        };
        let active = self.active_assignments("mentor_id", &mentor.id)?;
        let change = rule(self.caller(), self.clock(), f, &active)?;
        for p in &change.pauses {
            self.change_pause(p)?;
        }
        for a in change.ended_assignments {
            let row = MenteeAssignment {
                status: mentorsync_protocol::AssignmentStatus::Ended,
                ended_at: Some(self.now),
                updated_at: self.now,
                ..a
            };
            self.save(Entity::MenteeAssignment, &row.id.clone(), &row)?;
        }
        self.move_mentor(&mentor, change.mentor)
    }

    fn decide_pause(&mut self, pause_id: &str, rule: PauseRule) -> Result<()> {
        let (pause, mentor, coordinates) = self.pause_facts(pause_id)?;
        let f = PauseFacts {
            pause: &pause,
            mentor: &mentor,
            coordinates,
            stale: false,
        };
        let decided = rule(self.caller(), self.clock(), f)?;
        self.write_decided(&mentor, &decided)
    }

    fn finish_session(&mut self, session_id: &str, outcome: SessionAction) -> Result<()> {
        let s: Session = self.load(Entity::Session, session_id)?;
        let coordinates = self.coordinates(&s.mentor_id)?;
        let m = rules::session::finish(self.caller(), &s, coordinates, false, outcome)?;
        let s = Session {
            status: m.to,
            updated_at: self.now,
            ..s
        };
        self.save(Entity::Session, &s.id, &s)
    }

    fn act_on_item(&mut self, item_id: &str, action: WorkItemAction) -> Result<()> {
        let item: WorkItem = self.load(Entity::WorkItem, item_id)?;
        let coordinates = match &item.mentor_id {
            Some(owner) => self.coordinates(owner)?,
            None => false,
        };
        let m = rules::work_item::act(self.caller(), &item, coordinates, false, action)?;
        self.work_item(&item, m)
    }

    fn decide_flag(&mut self, flag_id: &str, action: FlagAction) -> Result<()> {
        let flag: Flag = self.load(Entity::Flag, flag_id)?;
        let ties = self.mentee_ties(&flag.mentee_id)?;
        let m = rules::flag::decide(self.caller(), &flag, ties, false, action)?;
        let flag = Flag {
            status: m.to,
            updated_at: self.now,
            ..flag
        };
        self.save(Entity::Flag, &flag.id, &flag)
    }

    fn work_item(&mut self, item: &WorkItem, m: Move<WorkItemAction>) -> Result<()> {
        let done = m.action == WorkItemAction::Complete;
        let row = WorkItem {
            status: m.to,
            completed_at: if done {
                Some(self.now)
            } else {
                item.completed_at
            },
            overdue: item.overdue && !done,
            updated_at: self.now,
            ..item.clone()
        };
        self.save(Entity::WorkItem, &row.id, &row)
    }
}

type MentorRule =
    fn(Caller<'_>, Clock, MentorFacts<'_>, &[MenteeAssignment]) -> Result<StatusChange, Refusal>;
type PauseRule = fn(Caller<'_>, Clock, PauseFacts<'_>) -> Result<Decided, Refusal>;

/// Merges a notes edit into the session, with the server's limits and codes (a document
/// past its size limit is `payload_too_large`, as the server's 413).
fn merge_notes(s: Session, changes: &str, now: i64) -> Result<Session> {
    use base64::Engine;
    use mentorsync_protocol::notes::{Notes, NotesError};
    let b64 = base64::engine::general_purpose::STANDARD;
    let refused = |e: NotesError| match e {
        NotesError::TooLarge(m) => Refusal::new(ErrorCode::PAYLOAD_TOO_LARGE, m),
        e => Refusal::new(ErrorCode::VALIDATION_FAILED, e.to_string()),
    };
    let invalid = |m: String| Refusal::new(ErrorCode::VALIDATION_FAILED, m);
    let stored = s
        .notes_doc
        .as_deref()
        .map(|d| b64.decode(d))
        .transpose()
        .map_err(|e| invalid(e.to_string()))?;
    let mut notes = Notes::load(stored.as_deref()).map_err(|e| invalid(e.to_string()))?;
    let changes = b64
        .decode(changes.trim())
        .map_err(|_| invalid("`changes` must be base64".into()))?;
    notes.apply(&changes).map_err(refused)?;
    Ok(Session {
        notes: notes.text(),
        notes_doc: Some(b64.encode(notes.save().map_err(refused)?)),
        updated_at: now,
        ..s
    })
}

/// A new row as the device keeps it until the server's copy arrives: version 0.
fn local<T>(mut row: T, version: impl FnOnce(&mut T) -> &mut i64) -> T {
    *version(&mut row) = 0;
    row
}

/// Applies `command` to the view. Ids of rows it creates are chosen here (and written into
/// the command, so the server creates the same ids). Returns the rows it changed.
pub fn apply(conn: &Connection, me: &Me, now: i64, command: &mut Command) -> Result<Vec<Key>> {
    let mut v = View {
        conn,
        me,
        now,
        touched: Vec::new(),
    };
    access::may_issue(v.caller(), command)?;
    if me.role == Role::Mentor
        && let Some((mine, _)) = rows::get_view::<Mentor>(conn, Entity::Mentor, &me.id)?
    {
        rules::mentor::require_mentor_active(mine.status)?;
    }
    if command.is_admin() {
        admin_input(now, command)?;
        // Not predicted, but the row it changes is touched: a later command on it must
        // not carry the version from before this one (the server would refuse it as a
        // conflict with this device's own command).
        return Ok(command
            .target()
            .map(|(entity, id)| vec![(entity, id.to_owned())])
            .unwrap_or_default());
    }
    let requesting = matches!(command, Command::RequestPause(_));
    use Command::*;
    match command {
        PauseMentor(a) | RequestPause(a) => {
            let input = rules::pause::input(v.clock(), a)?;
            a.pause_id = Some(input.pause_id.clone());
            let (mentor, coordinates, open) = v.mentor_facts(&a.mentor_id)?;
            let f = MentorFacts {
                mentor: &mentor,
                coordinates,
                stale: false,
                open_pauses: &open,
            };
            let created = match requesting {
                true => rules::pause::request(v.caller(), input, f)?,
                false => rules::pause::pause(v.caller(), v.clock(), input, f)?,
            };
            v.write_created(&mentor, &created)?;
        }
        ResumeMentor(a) => {
            v.mentor_status(&a.mentor_id, |c, k, f, _| rules::mentor::resume(c, k, f))?
        }
        DeactivateMentor(a) => v.mentor_status(&a.mentor_id, |c, _, f, active| {
            rules::mentor::deactivate(c, f, active)
        })?,
        ReactivateMentor(a) => v.mentor_status(&a.mentor_id, |c, k, f, _| {
            rules::mentor::reactivate(c, k, f)
        })?,
        ApprovePause(a) => v.decide_pause(&a.pause_id, rules::pause::approve)?,
        DeclinePause(a) => v.decide_pause(&a.pause_id, |c, _, f| rules::pause::decline(c, f))?,
        CancelPause(a) => v.decide_pause(&a.pause_id, rules::pause::cancel)?,
        AssignMentee(a) => {
            let input = rules::assignment::assign_input(a)?;
            a.assignment_id = Some(input.0.clone());
            let mentor: Mentor = v.load(Entity::Mentor, &a.mentor_id)?;
            let coordinates = v.coordinates(&mentor.id)?;
            rules::assignment::may_assign(v.caller(), coordinates, false)?;
            let mentee: Mentee = v.load(Entity::Mentee, &input.1)?;
            let held = v.active_assignments("mentor_id", &mentor.id)?.len() as i64;
            let mentee_mentor = v.current_mentor(&mentee.id)?;
            let f = rules::assignment::AssignFacts {
                mentor: &mentor,
                coordinates,
                stale: false,
                held,
                mentee_mentor: mentee_mentor.as_deref(),
            };
            let row = rules::assignment::assign(v.caller(), v.clock(), input, f)?;
            v.save(
                Entity::MenteeAssignment,
                &row.id.clone(),
                &local(row, |r| &mut r.version),
            )?;
        }
        EndAssignment(a) => {
            let row: MenteeAssignment = v.load(Entity::MenteeAssignment, &a.assignment_id)?;
            let coordinates = v.coordinates(&row.mentor_id)?;
            let m = rules::assignment::end(v.caller(), &row, coordinates, false)?;
            let row = MenteeAssignment {
                status: m.to,
                ended_at: Some(now),
                updated_at: now,
                ..row
            };
            v.save(Entity::MenteeAssignment, &row.id, &row)?;
        }
        ScheduleSession(a) => {
            let input = rules::session::schedule_input(v.caller(), v.clock(), a)?;
            a.session_id = Some(input.session_id.clone());
            a.mentor_id = Some(input.mentor_id.clone());
            let mentor: Mentor = v.load(Entity::Mentor, &input.mentor_id)?;
            v.load::<Mentee>(Entity::Mentee, &input.mentee_id)?;
            let f = rules::session::ScheduleFacts {
                mentor: &mentor,
                coordinates: v.coordinates(&mentor.id)?,
                assigned: v.mentors(&mentor.id, &input.mentee_id)?,
            };
            let row = rules::session::schedule(v.caller(), v.clock(), input, f)?;
            v.save(
                Entity::Session,
                &row.id.clone(),
                &local(row, |r| &mut r.version),
            )?;
        }
        CompleteSession(a) => v.finish_session(&a.session_id, SessionAction::Complete)?,
        CancelSession(a) => v.finish_session(&a.session_id, SessionAction::Cancel)?,
        MarkNoShow(a) => v.finish_session(&a.session_id, SessionAction::NoShow)?,
        EditSessionNotes(a) => {
            let s: Session = v.load(Entity::Session, &a.session_id)?;
            let coordinates = v.coordinates(&s.mentor_id)?;
            rules::session::require_access(v.caller(), &s, coordinates)?;
            let s = merge_notes(s, &a.changes, now)?;
            v.save(Entity::Session, &s.id, &s)?;
        }
        SubmitMission(a) => {
            let input = rules::submission::submit_input(a)?;
            a.submission_id = Some(input[0].clone());
            let mentee: Mentee = v.load(Entity::Mentee, &me.id)?;
            let mentor = v.current_mentor(&mentee.id)?;
            let done = rules::submission::submit(v.clock(), &mentee.id, input, mentor.as_deref());
            // The review item's id is the server's; it arrives with the next pull (and the
            // mentee who submits does not see queues).
            let row = local(done.submission, |r| &mut r.version);
            v.save(Entity::Submission, &row.id.clone(), &row)?;
        }
        ResubmitMission(a) => {
            let content = rules::submission::resubmit_input(&a.content)?;
            let s: Submission = v.load(Entity::Submission, &a.submission_id)?;
            let mentor = v.current_mentor(&s.mentee_id)?;
            let done = rules::submission::resubmit(
                v.caller(),
                v.clock(),
                content,
                &s,
                false,
                mentor.as_deref(),
            )?;
            v.save(Entity::Submission, &s.id, &done.submission)?;
        }
        ReviewMission(a) => {
            let feedback = rules::submission::review_input(a.feedback.as_deref())?;
            let s: Submission = v.load(Entity::Submission, &a.submission_id)?;
            let reviewer = match s.mentor_id.clone() {
                Some(m) => Some(m),
                None => v.current_mentor(&s.mentee_id)?,
            };
            let open = ["open", "in_progress"];
            let items: Vec<WorkItem> = rows::view_where::<WorkItem>(
                conn,
                Entity::WorkItem,
                "mentee_id",
                &s.mentee_id,
                &open,
            )?
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| {
                i.kind == WorkItemKind::MissionReview
                    && i.reference_id.as_deref() == Some(s.id.as_str())
            })
            .collect();
            let f = rules::submission::ReviewFacts {
                submission: &s,
                reviewer: reviewer.as_deref(),
                mentors_mentee: me.role == Role::Mentor && v.mentors(&me.id, &s.mentee_id)?,
                coordinates_reviewer: match &reviewer {
                    Some(r) => v.coordinates(r)?,
                    None => false,
                },
                stale: false,
                items: &items,
            };
            let done = rules::submission::review(v.caller(), feedback, a.decision, f)?;
            let row = Submission {
                status: done.change.to,
                reviewed_at: Some(now),
                reviewed_by: Some(me.id.clone()),
                feedback: done.feedback,
                updated_at: now,
                ..s
            };
            v.save(Entity::Submission, &row.id, &row)?;
            for (mut item, moves) in done.items {
                for m in moves {
                    v.work_item(&item, m)?;
                    item.status = m.to;
                }
            }
        }
        ClaimWorkItem(a) => v.act_on_item(&a.item_id, WorkItemAction::Claim)?,
        CompleteWorkItem(a) => v.act_on_item(&a.item_id, WorkItemAction::Complete)?,
        CancelWorkItem(a) => v.act_on_item(&a.item_id, WorkItemAction::Cancel)?,
        RaiseFlag(a) => {
            let input = rules::flag::raise_input(a)?;
            a.flag_id = Some(input.0.clone());
            let mentee: Mentee = v.load(Entity::Mentee, &input.1)?;
            let ties = v.mentee_ties(&mentee.id)?;
            let row = rules::flag::raise(v.caller(), v.clock(), input, a, ties)?;
            v.save(
                Entity::Flag,
                &row.id.clone(),
                &local(row, |r| &mut r.version),
            )?;
        }
        AcknowledgeFlag(a) => v.decide_flag(&a.flag_id, FlagAction::Acknowledge)?,
        ResolveFlag(a) => v.decide_flag(&a.flag_id, FlagAction::Resolve)?,
        ReadInboxItem(a) => v.inbox(&a.item_id, InboxAction::Read)?,
        DismissInboxItem(a) => v.inbox(&a.item_id, InboxAction::Dismiss)?,
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
        | RemoveCohortDirector(_) => unreachable!("admin commands return above"),
    }
    Ok(v.touched)
}

/// An admin's provisioning command, checked offline as far as it can be without the
/// server's facts (every account of the deployment): its input, and the ids of the rows
/// it creates, chosen here so that a retry creates the same rows. The view does not change
/// until the server's rows arrive.
fn admin_input(now: i64, command: &mut Command) -> Result<()> {
    use mentorsync_protocol::rules::{admin, input};
    match command {
        Command::CreateUser(a) => a.user_id = Some(admin::create_user_input(a)?.id),
        Command::CreateCohort(a) => a.cohort_id = Some(admin::create_cohort(a, now)?.id),
        Command::AssignCoordinator(a) => {
            input::id("coordinator_id", &a.coordinator_id)?;
            a.assignment_id = Some(input::new_id("assignment_id", a.assignment_id.as_deref())?);
        }
        Command::UpdateUser(a) => {
            if let Some(e) = &a.email {
                admin::email(e)?;
            }
            admin::time_zone(a.time_zone.as_deref())?;
        }
        Command::UpdateMentor(a) => {
            a.capacity_weekly.map(admin::capacity).transpose()?;
            if let Some(s) = &a.specialties {
                admin::topics("specialties", s)?;
            }
        }
        Command::UpdateMentee(a) => {
            admin::topics("interests", &a.interests)?;
        }
        Command::RenewCertification(a) => {
            input::time("expires_at", a.expires_at)?;
        }
        _ => {}
    }
    Ok(())
}
