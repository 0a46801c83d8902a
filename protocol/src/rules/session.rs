//! Sessions between a mentor and their mentee.

use super::{Caller, Clock, Move, access, forbidden, fresh, input};
use crate::command::ScheduleSession;
use crate::machine::SessionAction;
use crate::model::{Mentor, Session};
use crate::{ErrorCode, MentorStatus, Refusal, Role, SessionStatus};

/// How far in the past a session may start: the minutes between picking a time and
/// sending it.
pub const PAST_TOLERANCE_MS: i64 = 5 * 60_000;

/// A session's input, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInput {
    /// The new session's id.
    pub session_id: String,
    /// With whom.
    pub mentee_id: String,
    /// When.
    pub scheduled_at: i64,
    /// How long.
    pub duration_minutes: i64,
    /// Where, if online.
    pub meeting_link: Option<String>,
    /// The mentor: named, or the calling mentor.
    pub mentor_id: String,
}

/// Checks a schedule command's input. A session whose time was still ahead when its person
/// picked it but has passed by the time it is decided is refused as `window_passed`.
pub fn schedule_input(
    caller: Caller<'_>,
    clock: Clock,
    a: &ScheduleSession,
) -> Result<SessionInput, Refusal> {
    let session_id = input::new_id("session_id", a.session_id.as_deref())?;
    let mentee_id = input::id("mentee_id", &a.mentee_id)?;
    let scheduled_at = input::time("scheduled_at", a.scheduled_at)?;
    if scheduled_at < clock.now - PAST_TOLERANCE_MS {
        if clock
            .issued_at
            .is_some_and(|i| scheduled_at >= i - PAST_TOLERANCE_MS)
        {
            return Err(Refusal::new(
                ErrorCode::WINDOW_PASSED,
                format!(
                    "the session was to start at {}, which passed while the command waited to \
                     be sent; nothing was scheduled",
                    input::rfc3339(scheduled_at)
                ),
            ));
        }
        return Err(Refusal::new(
            ErrorCode::VALIDATION_FAILED,
            "`scheduled_at` is in the past; sessions are scheduled from now on",
        ));
    }
    if !(5..=480).contains(&a.duration_minutes) {
        return Err(Refusal::new(
            ErrorCode::VALIDATION_FAILED,
            "`duration_minutes` must be between 5 and 480",
        ));
    }
    let meeting_link = input::link("meeting_link", a.meeting_link.as_deref())?;
    let mentor_id = match (&a.mentor_id, caller) {
        (Some(m), _) => input::id("mentor_id", m)?,
        (
            None,
            Caller::Person {
                id,
                role: Role::Mentor,
            },
        ) => id.to_owned(),
        (None, _) => {
            return Err(Refusal::new(
                ErrorCode::VALIDATION_FAILED,
                "`mentor_id` is required",
            ));
        }
    };
    Ok(SessionInput {
        session_id,
        mentee_id,
        scheduled_at,
        duration_minutes: a.duration_minutes,
        meeting_link,
        mentor_id,
    })
}

/// What scheduling needs to know (the mentee is known to exist).
#[derive(Debug, Clone, Copy)]
pub struct ScheduleFacts<'a> {
    /// The mentor.
    pub mentor: &'a Mentor,
    /// The caller is a coordinator who coordinates the mentor.
    pub coordinates: bool,
    /// The mentor currently mentors the mentee.
    pub assigned: bool,
}

/// Schedules a session: the new row. A mentor schedules with their own mentees; a
/// coordinator or admin names the mentor.
pub fn schedule(
    caller: Caller<'_>,
    clock: Clock,
    i: SessionInput,
    f: ScheduleFacts<'_>,
) -> Result<Session, Refusal> {
    access::mentor_or_manager(caller, &f.mentor.id, f.coordinates)?;
    if f.mentor.status != MentorStatus::Active {
        return Err(Refusal::new(
            ErrorCode::MENTOR_NOT_ACTIVE,
            format!(
                "the mentor is {}; sessions are scheduled with active mentors",
                f.mentor.status
            ),
        ));
    }
    if !f.assigned {
        return Err(Refusal::new(
            ErrorCode::NOT_ASSIGNED,
            "the mentee is not assigned to this mentor",
        ));
    }
    Ok(Session {
        id: i.session_id,
        mentor_id: i.mentor_id,
        mentee_id: i.mentee_id,
        status: SessionStatus::Scheduled,
        scheduled_at: i.scheduled_at,
        duration_minutes: i.duration_minutes,
        meeting_link: i.meeting_link,
        notes: String::new(),
        notes_doc: None,
        version: 1,
        updated_at: clock.now,
    })
}

/// The session's mentor, their coordinator, admins and the scheduler may act on it.
/// `coordinates`: the caller coordinates the session's mentor.
pub fn require_access(caller: Caller<'_>, s: &Session, coordinates: bool) -> Result<(), Refusal> {
    if caller.role() == Some(Role::Mentor) {
        if caller.is(&s.mentor_id) {
            return Ok(());
        }
        return Err(forbidden("this is another mentor's session"));
    }
    access::manages_mentor(caller, coordinates)
}

/// Records a session's outcome (`Complete`, `Cancel`, `NoShow`).
pub fn finish(
    caller: Caller<'_>,
    s: &Session,
    coordinates: bool,
    stale: bool,
    outcome: SessionAction,
) -> Result<Move<SessionAction>, Refusal> {
    require_access(caller, s, coordinates)?;
    fresh(stale)?;
    Move::of(s.status, outcome)
}
