//! Mentee assignments. A paused or inactive mentor gets no new mentees, a mentor never
//! holds more active mentees than their weekly capacity, and a mentee has at most one
//! active mentor.

use super::{Caller, Clock, Move, access, fresh, input};
use crate::command::AssignMentee;
use crate::machine::AssignmentAction;
use crate::model::{MenteeAssignment, Mentor};
use crate::{AssignmentStatus, ErrorCode, MentorStatus, Refusal};

/// What an assignment needs to know.
#[derive(Debug, Clone, Copy)]
pub struct AssignFacts<'a> {
    /// The mentor.
    pub mentor: &'a Mentor,
    /// The caller is a coordinator who coordinates the mentor.
    pub coordinates: bool,
    /// The caller expected another version of the mentor.
    pub stale: bool,
    /// How many active mentees the mentor holds.
    pub held: i64,
    /// The mentee's current mentor, if any.
    pub mentee_mentor: Option<&'a str>,
}

/// An assignment's input, checked: `(assignment_id, mentee_id)`.
pub fn assign_input(a: &AssignMentee) -> Result<(String, String), Refusal> {
    let id = input::new_id("assignment_id", a.assignment_id.as_deref())?;
    Ok((id, input::id("mentee_id", &a.mentee_id)?))
}

/// Whether the caller may assign mentees to the mentor at the version they saw: the part
/// of [`assign`] that needs no facts about the mentee, so that the server reads nothing of
/// a mentee for a caller who may not assign (it checks this before it loads them).
pub fn may_assign(caller: Caller<'_>, coordinates: bool, stale: bool) -> Result<(), Refusal> {
    access::manages_mentor(caller, coordinates)?;
    fresh(stale)
}

/// Assigns a mentee to a mentor: the new assignment.
pub fn assign(
    caller: Caller<'_>,
    clock: Clock,
    (id, mentee_id): (String, String),
    f: AssignFacts<'_>,
) -> Result<MenteeAssignment, Refusal> {
    may_assign(caller, f.coordinates, f.stale)?;
    if f.mentor.status != MentorStatus::Active {
        return Err(Refusal::new(
            ErrorCode::MENTOR_NOT_ACTIVE,
            format!(
                "the mentor is {}; only an active mentor gets new mentees",
                f.mentor.status
            ),
        ));
    }
    if f.held >= f.mentor.capacity_weekly {
        return Err(Refusal::new(
            ErrorCode::CAPACITY_EXCEEDED,
            format!(
                "the mentor already holds {} of {} mentees",
                f.held, f.mentor.capacity_weekly
            ),
        ));
    }
    if let Some(current) = f.mentee_mentor {
        let reason = if current == f.mentor.id {
            "the mentee is already assigned to this mentor"
        } else {
            "the mentee already has an active mentor; end that assignment first"
        };
        return Err(Refusal::new(ErrorCode::MENTEE_ALREADY_ASSIGNED, reason));
    }
    Ok(MenteeAssignment {
        id,
        mentor_id: f.mentor.id.clone(),
        mentee_id,
        status: AssignmentStatus::Active,
        started_at: clock.now,
        ended_at: None,
        version: 1,
        updated_at: clock.now,
    })
}

/// Ends an assignment: the mentee no longer has this mentor. `coordinates`: the caller
/// coordinates the assignment's mentor.
pub fn end(
    caller: Caller<'_>,
    assignment: &MenteeAssignment,
    coordinates: bool,
    stale: bool,
) -> Result<Move<AssignmentAction>, Refusal> {
    access::manages_mentor(caller, coordinates)?;
    fresh(stale)?;
    Move::of(assignment.status, AssignmentAction::End)
}
