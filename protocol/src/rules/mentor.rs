//! A mentor's own status: resume, deactivate, reactivate, and the certification rule that
//! holds them back. (Pausing lives with the pauses, in `pause.rs`.)

use super::pause::{MentorFacts, PauseChange, cancel_all, ended_now};
use super::{Caller, Clock, Move, access, fresh};
use crate::machine::{MentorAction, PauseAction};
use crate::model::{MenteeAssignment, Mentor};
use crate::{AssignmentStatus, ErrorCode, PauseStatus, Refusal};

/// The effects of a mentor status change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The pauses it ends or cancels.
    pub pauses: Vec<PauseChange>,
    /// The mentor's move.
    pub mentor: Move<MentorAction>,
    /// Active mentee assignments it ends (deactivation: the mentees go back to matching).
    pub ended_assignments: Vec<MenteeAssignment>,
}

/// A mentor goes back to work only with a certification that has not expired; otherwise
/// the next certification run pauses them again, which to a coordinator looks like the
/// resume flapping. A mentor never certified has nothing that expired and is not held
/// back (reactivation, a decision to take someone back, asks more: a valid certification).
pub fn require_unexpired_certification(
    mentor: &Mentor,
    now: i64,
    doing: &str,
) -> Result<(), Refusal> {
    if mentor.certification_expires_at.is_some_and(|t| t <= now) {
        return Err(Refusal::new(
            ErrorCode::CERTIFICATION_INVALID,
            format!("the mentor's certification has expired; renew it before {doing}"),
        ));
    }
    Ok(())
}

/// A paused mentor goes back to work; their active pause ends now. The scheduler resumes
/// a mentor the same way when a pause's planned end passes.
pub fn resume(
    caller: Caller<'_>,
    clock: Clock,
    f: MentorFacts<'_>,
) -> Result<StatusChange, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    let mentor = Move::of(f.mentor.status, MentorAction::Resume)?;
    require_unexpired_certification(f.mentor, clock.now, "resuming")?;
    let pauses = f
        .open_pauses
        .iter()
        .filter(|p| p.status == PauseStatus::Active)
        .map(|p| {
            Ok(PauseChange {
                pause: p.clone(),
                change: Move::of(p.status, PauseAction::End)?,
                ends_at: Some(ended_now(p, clock.now)),
            })
        })
        .collect::<Result<_, Refusal>>()?;
    Ok(StatusChange {
        pauses,
        mentor,
        ended_assignments: Vec::new(),
    })
}

/// A mentor leaves the programme: any open pause is cancelled with them, and their
/// `active` mentee assignments end, so the mentees go back to matching.
pub fn deactivate(
    caller: Caller<'_>,
    f: MentorFacts<'_>,
    active: &[MenteeAssignment],
) -> Result<StatusChange, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    let mentor = Move::of(f.mentor.status, MentorAction::Deactivate)?;
    let pauses = cancel_all(f.open_pauses)?;
    let ended_assignments = active
        .iter()
        .filter(|a| a.status == AssignmentStatus::Active && a.mentor_id == f.mentor.id)
        .cloned()
        .collect();
    Ok(StatusChange {
        pauses,
        mentor,
        ended_assignments,
    })
}

/// A mentor whose profile is inactive has left the programme: the commands only a mentor
/// issues are refused from them (their managers still act on their rows).
pub fn require_mentor_active(status: crate::MentorStatus) -> Result<(), Refusal> {
    if status == crate::MentorStatus::Inactive {
        return Err(Refusal::new(
            ErrorCode::MENTOR_NOT_ACTIVE,
            "your mentor profile is inactive; ask your coordinator to reactivate it",
        ));
    }
    Ok(())
}

/// An admin brings a mentor back; only with a certification that is still valid.
pub fn reactivate(
    caller: Caller<'_>,
    clock: Clock,
    f: MentorFacts<'_>,
) -> Result<StatusChange, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    let mentor = Move::of(f.mentor.status, MentorAction::Reactivate)?;
    if f.mentor
        .certification_expires_at
        .is_none_or(|t| t <= clock.now)
    {
        return Err(Refusal::new(
            ErrorCode::CERTIFICATION_INVALID,
            "the mentor's certification is missing or expired; renew it before reactivating",
        ));
    }
    Ok(StatusChange {
        pauses: Vec::new(),
        mentor,
        ended_assignments: Vec::new(),
    })
}
