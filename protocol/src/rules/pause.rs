//! Pauses: a coordinator's pause, a mentor's request and its decision, cancellation, and
//! the scheduler's starts, ends and certification expiries. A mentor is paused exactly
//! while one of their pauses is active, so every rule that moves one moves the other, and
//! a mentor has at most one requested, scheduled or active pause.

use super::mentor::require_unexpired_certification;
use super::{Caller, Clock, Move, access, forbidden, fresh, input};
use crate::command::PauseMentor;
use crate::machine::{MentorAction, PauseAction};
use crate::model::{Mentor, Pause};
use crate::{ErrorCode, MentorStatus, PauseStatus, Refusal, Role};

/// What a decision about a mentor's status needs to know.
#[derive(Debug, Clone, Copy)]
pub struct MentorFacts<'a> {
    /// The mentor.
    pub mentor: &'a Mentor,
    /// The caller is a coordinator who coordinates this mentor.
    pub coordinates: bool,
    /// The caller expected another version of the mentor.
    pub stale: bool,
    /// The mentor's requested, scheduled and active pauses.
    pub open_pauses: &'a [Pause],
}

/// What a decision about one pause needs to know.
#[derive(Debug, Clone, Copy)]
pub struct PauseFacts<'a> {
    /// The pause.
    pub pause: &'a Pause,
    /// Its mentor.
    pub mentor: &'a Mentor,
    /// The caller is a coordinator who coordinates the pause's mentor.
    pub coordinates: bool,
    /// The caller expected another version of the pause.
    pub stale: bool,
}

/// A pause's input, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseInput {
    /// The new pause's id.
    pub pause_id: String,
    /// Why, trimmed.
    pub reason: String,
    /// When it begins (now, unless given).
    pub starts_at: i64,
    /// When it ends, if planned.
    pub ends_at: Option<i64>,
}

/// A pause to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPause {
    /// Its id.
    pub id: String,
    /// The mentor it pauses.
    pub mentor_id: String,
    /// Requested, scheduled or active.
    pub status: PauseStatus,
    /// Why.
    pub reason: String,
    /// When it begins.
    pub starts_at: i64,
    /// When it ends, if planned.
    pub ends_at: Option<i64>,
    /// Who decided it (the coordinator who paused; none for a request or the scheduler).
    pub decided_by: Option<String>,
}

/// A change to an existing pause.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseChange {
    /// The pause as it was.
    pub pause: Pause,
    /// Its move.
    pub change: Move<PauseAction>,
    /// Its end, when the move sets one.
    pub ends_at: Option<i64>,
}

/// The effects of creating a pause.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// Overtaken pauses, cancelled (the scheduler's certification expiry only).
    pub cancelled: Vec<PauseChange>,
    /// The pause.
    pub pause: NewPause,
    /// The mentor's move, when the pause is active at once.
    pub mentor: Option<Move<MentorAction>>,
}

/// The effects of deciding on an existing pause.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// The pause's change.
    pub pause: PauseChange,
    /// The mentor's move, when the pause starts or ends now.
    pub mentor: Option<Move<MentorAction>>,
}

/// Checks a pause command's input: reason, window, id. A pause whose end was still ahead
/// when its person asked for it but has passed by the time it is decided is refused as
/// `window_passed`: applying it now would pause the mentor for a moment or never.
pub fn input(clock: Clock, a: &PauseMentor) -> Result<PauseInput, Refusal> {
    let reason = input::text("reason", &a.reason, 500)?;
    let starts_at = match a.starts_at {
        Some(t) => input::time("starts_at", t)?,
        None => clock.now,
    };
    if let Some(end) = a.ends_at {
        input::time("ends_at", end)?;
        if end <= clock.now && clock.issued_at.is_some_and(|i| end > i) {
            return Err(Refusal::new(
                ErrorCode::WINDOW_PASSED,
                format!(
                    "the pause was to end at {}, which passed while the command waited to be \
                     sent; nothing was changed",
                    input::rfc3339(end)
                ),
            ));
        }
        if end <= starts_at || end <= clock.now {
            return Err(Refusal::new(
                ErrorCode::VALIDATION_FAILED,
                "`ends_at` must be after `starts_at` and in the future",
            ));
        }
    }
    Ok(PauseInput {
        pause_id: input::new_id("pause_id", a.pause_id.as_deref())?,
        reason,
        starts_at,
        ends_at: a.ends_at,
    })
}

fn no_open_pause(open: &[Pause]) -> Result<(), Refusal> {
    match open.first() {
        Some(p) => Err(Refusal::new(
            ErrorCode::OPEN_PAUSE_EXISTS,
            format!(
                "the mentor already has a {} pause; decide on it or cancel it first",
                p.status
            ),
        )),
        None => Ok(()),
    }
}

/// A coordinator pauses a mentor now, or schedules a pause from its start.
pub fn pause(
    caller: Caller<'_>,
    clock: Clock,
    i: PauseInput,
    f: MentorFacts<'_>,
) -> Result<Created, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    let mentor = Move::of(f.mentor.status, MentorAction::Pause)?;
    no_open_pause(f.open_pauses)?;
    let immediate = i.starts_at <= clock.now;
    let status = match immediate {
        true => PauseStatus::Active,
        false => PauseStatus::Scheduled,
    };
    Ok(Created {
        cancelled: Vec::new(),
        pause: NewPause {
            id: i.pause_id,
            mentor_id: f.mentor.id.clone(),
            status,
            reason: i.reason,
            starts_at: i.starts_at,
            ends_at: i.ends_at,
            decided_by: caller.id().map(str::to_owned),
        },
        mentor: immediate.then_some(mentor),
    })
}

/// A mentor asks for a pause for themselves; their coordinator decides.
pub fn request(caller: Caller<'_>, i: PauseInput, f: MentorFacts<'_>) -> Result<Created, Refusal> {
    if !caller.is(&f.mentor.id) {
        return Err(forbidden(
            "a mentor may only request a pause for themselves",
        ));
    }
    fresh(f.stale)?;
    Move::of(f.mentor.status, MentorAction::Pause)?;
    no_open_pause(f.open_pauses)?;
    Ok(Created {
        cancelled: Vec::new(),
        pause: NewPause {
            id: i.pause_id,
            mentor_id: f.mentor.id.clone(),
            status: PauseStatus::Requested,
            reason: i.reason,
            starts_at: i.starts_at,
            ends_at: i.ends_at,
            decided_by: None,
        },
        mentor: None,
    })
}

/// Approves a requested pause: active at once if it has begun (the mentor is paused),
/// else scheduled.
pub fn approve(caller: Caller<'_>, clock: Clock, f: PauseFacts<'_>) -> Result<Decided, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    let begun = f.pause.starts_at <= clock.now;
    let to = match begun {
        true => PauseStatus::Active,
        false => PauseStatus::Scheduled,
    };
    let change = Move::to(f.pause.status, PauseAction::Approve, to)?;
    let mentor = match begun {
        true => Some(Move::of(f.mentor.status, MentorAction::Pause)?),
        false => None,
    };
    Ok(Decided {
        pause: PauseChange {
            pause: f.pause.clone(),
            change,
            ends_at: None,
        },
        mentor,
    })
}

/// Declines a requested pause.
pub fn decline(caller: Caller<'_>, f: PauseFacts<'_>) -> Result<Decided, Refusal> {
    access::manages_mentor(caller, f.coordinates)?;
    fresh(f.stale)?;
    Ok(Decided {
        pause: PauseChange {
            pause: f.pause.clone(),
            change: Move::of(f.pause.status, PauseAction::Decline)?,
            ends_at: None,
        },
        mentor: None,
    })
}

/// Cancels an open pause. A mentor may withdraw their own request or scheduled pause;
/// ending an active pause early is a resume, which their coordinator decides (and which,
/// like a resume, needs a certification that has not expired).
pub fn cancel(caller: Caller<'_>, clock: Clock, f: PauseFacts<'_>) -> Result<Decided, Refusal> {
    let active = f.pause.status == PauseStatus::Active;
    if caller.role() == Some(Role::Mentor) {
        if !caller.is(&f.pause.mentor_id) {
            return Err(forbidden("a mentor may only cancel their own pause"));
        }
        if active {
            return Err(Refusal::new(
                ErrorCode::INVALID_TRANSITION,
                "an active pause ends when your coordinator resumes you; ask them to",
            ));
        }
    } else {
        access::manages_mentor(caller, f.coordinates)?;
    }
    fresh(f.stale)?;
    let resumes = active && f.mentor.status == MentorStatus::Paused;
    if resumes {
        require_unexpired_certification(f.mentor, clock.now, "ending their pause")?;
    }
    let change = Move::of(f.pause.status, PauseAction::Cancel)?;
    let mentor = match resumes {
        true => Some(Move::of(f.mentor.status, MentorAction::Resume)?),
        false => None,
    };
    Ok(Decided {
        pause: PauseChange {
            pause: f.pause.clone(),
            change,
            ends_at: active.then(|| ended_now(f.pause, clock.now)),
        },
        mentor,
    })
}

/// When an active pause that is ended now ends: now, or its planned end if that came
/// first, and never before it began. (On PostgreSQL a command's clock is read before it
/// waits for the mentor's row lock, so a pause that committed meanwhile can have begun
/// after "now"; it then ends the moment it began.)
pub fn ended_now(pause: &Pause, now: i64) -> i64 {
    pause
        .ends_at
        .map_or(now, |e| e.min(now))
        .max(pause.starts_at)
}

/// Every pause in `open` cancelled (a mentor deactivated, a certification expired).
pub(crate) fn cancel_all(open: &[Pause]) -> Result<Vec<PauseChange>, Refusal> {
    open.iter()
        .map(|p| {
            Ok(PauseChange {
                pause: p.clone(),
                change: Move::of(p.status, PauseAction::Cancel)?,
                ends_at: None,
            })
        })
        .collect()
}

fn not_due(what: &str) -> Refusal {
    Refusal::new(ErrorCode::NOT_DUE, what)
}

/// The scheduler starts a scheduled pause whose start has passed; the mentor is paused.
pub fn start_due(clock: Clock, f: PauseFacts<'_>) -> Result<Decided, Refusal> {
    if f.pause.status != PauseStatus::Scheduled || f.pause.starts_at > clock.now {
        return Err(not_due(
            "the pause is not a scheduled pause that has started",
        ));
    }
    let mentor = Move::of(f.mentor.status, MentorAction::Pause)?;
    Ok(Decided {
        pause: PauseChange {
            pause: f.pause.clone(),
            change: Move::of(f.pause.status, PauseAction::Start)?,
            ends_at: None,
        },
        mentor: Some(mentor),
    })
}

/// Whether the scheduler may end `pause` now (its planned end has passed); ending it is
/// a resume of its mentor ([`super::mentor::resume`]).
pub fn end_due(clock: Clock, pause: &Pause) -> Result<(), Refusal> {
    if pause.status != PauseStatus::Active || pause.ends_at.is_none_or(|e| e > clock.now) {
        return Err(not_due(
            "the pause is not an active pause whose end has passed",
        ));
    }
    Ok(())
}

/// The scheduler pauses an active mentor whose certification has expired, until it is
/// renewed. A request or a scheduled pause is overtaken by the expiry and cancelled.
pub fn expire_certification(
    clock: Clock,
    pause_id: String,
    f: MentorFacts<'_>,
) -> Result<Created, Refusal> {
    let m = f.mentor;
    if m.status != MentorStatus::Active || m.certification_expires_at.is_none_or(|t| t > clock.now)
    {
        return Err(not_due(
            "the mentor is not an active mentor with an expired certification",
        ));
    }
    let cancelled = cancel_all(f.open_pauses)?;
    Ok(Created {
        cancelled,
        pause: NewPause {
            id: pause_id,
            mentor_id: m.id.clone(),
            status: PauseStatus::Active,
            reason: "certification expired".to_owned(),
            starts_at: clock.now,
            ends_at: None,
            decided_by: None,
        },
        mentor: Some(Move::of(m.status, MentorAction::Pause)?),
    })
}

#[cfg(test)]
mod tests {
    //! The order a decision checks in, and the pause rules' arithmetic. (That the server
    //! and the device decide alike is `tests/tests/rule_book.rs`.)
    use super::*;
    use crate::ErrorCode;

    const NOW: i64 = 1_795_305_600_000;
    const DAY: i64 = 86_400_000;

    fn mentor(status: MentorStatus, cert: Option<i64>) -> Mentor {
        Mentor {
            id: "m".into(),
            display_name: "Mo".into(),
            status,
            capacity_weekly: 3,
            specialties: Vec::new(),
            availability: serde_json::json!({}),
            certification_expires_at: cert,
            version: 4,
            updated_at: NOW,
        }
    }

    fn a_pause(status: PauseStatus, starts_at: i64, ends_at: Option<i64>) -> Pause {
        Pause {
            id: "p".into(),
            mentor_id: "m".into(),
            status,
            reason: "leave".into(),
            starts_at,
            ends_at,
            created_by: None,
            decided_by: None,
            version: 2,
            updated_at: NOW,
        }
    }

    const COORDINATOR: Caller<'static> = Caller::Person {
        id: "c",
        role: Role::Coordinator,
    };

    fn facts<'a>(
        m: &'a Mentor,
        open: &'a [Pause],
        coordinates: bool,
        stale: bool,
    ) -> MentorFacts<'a> {
        MentorFacts {
            mentor: m,
            coordinates,
            stale,
            open_pauses: open,
        }
    }

    fn input(starts_at: Option<i64>, ends_at: Option<i64>) -> PauseMentor {
        PauseMentor {
            mentor_id: "m".into(),
            reason: " leave ".into(),
            starts_at,
            ends_at,
            pause_id: None,
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, Refusal>) -> &'static str {
        r.expect_err("refused").code
    }

    #[test]
    fn a_stranger_learns_nothing_and_a_stale_caller_gets_a_conflict_before_the_rules() {
        let paused = mentor(MentorStatus::Paused, None);
        let i = input(None, None);
        let clock = Clock::at(NOW);
        // Not their mentor: forbidden, whatever the version or status.
        let ok_input = || super::input(clock, &i).unwrap();
        assert_eq!(
            code(pause(
                COORDINATOR,
                clock,
                ok_input(),
                facts(&paused, &[], false, true)
            )),
            ErrorCode::FORBIDDEN
        );
        // Their mentor, a stale version: a conflict, not "already paused".
        assert_eq!(
            code(pause(
                COORDINATOR,
                clock,
                ok_input(),
                facts(&paused, &[], true, true)
            )),
            ErrorCode::VERSION_CONFLICT
        );
        // Current: the status machine speaks.
        assert_eq!(
            code(pause(
                COORDINATOR,
                clock,
                ok_input(),
                facts(&paused, &[], true, false)
            )),
            ErrorCode::INVALID_TRANSITION
        );
    }

    #[test]
    fn a_pause_is_active_now_or_scheduled_and_one_at_a_time() {
        let active = mentor(MentorStatus::Active, None);
        let clock = Clock::at(NOW);
        let now = super::input(clock, &input(None, None)).unwrap();
        assert_eq!(now.reason, "leave", "trimmed");
        let created = pause(COORDINATOR, clock, now, facts(&active, &[], true, false)).unwrap();
        assert_eq!(created.pause.status, PauseStatus::Active);
        assert_eq!(created.mentor.map(|m| m.to), Some(MentorStatus::Paused));
        let later = super::input(clock, &input(Some(NOW + DAY), None)).unwrap();
        let created = pause(
            COORDINATOR,
            clock,
            later.clone(),
            facts(&active, &[], true, false),
        )
        .unwrap();
        assert_eq!(created.pause.status, PauseStatus::Scheduled);
        assert_eq!(created.mentor, None, "the mentor works until it starts");
        let open = [a_pause(PauseStatus::Requested, NOW + DAY, None)];
        assert_eq!(
            code(pause(
                COORDINATOR,
                clock,
                later,
                facts(&active, &open, true, false)
            )),
            ErrorCode::OPEN_PAUSE_EXISTS
        );
    }

    #[test]
    fn a_window_that_passed_while_offline_is_not_a_bad_window() {
        let sent_offline = Clock {
            now: NOW,
            issued_at: Some(NOW - 3 * DAY),
        };
        // Meant to end two days ago, issued three days ago: its time is over.
        let missed = input(None, Some(NOW - 2 * DAY));
        assert_eq!(
            code(super::input(sent_offline, &missed)),
            ErrorCode::WINDOW_PASSED
        );
        // Issued now with an end in the past: a bad request.
        assert_eq!(
            code(super::input(Clock::at(NOW), &missed)),
            ErrorCode::VALIDATION_FAILED
        );
        // An end before the start, an end in seconds instead of milliseconds.
        assert_eq!(
            code(super::input(
                Clock::at(NOW),
                &input(Some(NOW + 2 * DAY), Some(NOW + DAY))
            )),
            ErrorCode::VALIDATION_FAILED
        );
        assert_eq!(
            code(super::input(
                Clock::at(NOW),
                &input(None, Some(1_900_000_000))
            )),
            ErrorCode::VALIDATION_FAILED
        );
    }

    #[test]
    fn an_ended_pause_ends_now_or_at_its_planned_end_and_never_before_it_began() {
        assert_eq!(
            ended_now(&a_pause(PauseStatus::Active, NOW - DAY, None), NOW),
            NOW
        );
        assert_eq!(
            ended_now(&a_pause(PauseStatus::Active, NOW - DAY, Some(NOW - 1)), NOW),
            NOW - 1
        );
        assert_eq!(
            ended_now(&a_pause(PauseStatus::Active, NOW + 5, None), NOW),
            NOW + 5
        );
    }

    #[test]
    fn ending_an_active_pause_early_needs_a_valid_certification_and_is_not_the_mentors() {
        let expired = mentor(MentorStatus::Paused, Some(NOW - DAY));
        let active_pause = a_pause(PauseStatus::Active, NOW - DAY, None);
        let f = PauseFacts {
            pause: &active_pause,
            mentor: &expired,
            coordinates: true,
            stale: false,
        };
        assert_eq!(
            code(cancel(COORDINATOR, Clock::at(NOW), f)),
            ErrorCode::CERTIFICATION_INVALID
        );
        let me = Caller::Person {
            id: "m",
            role: Role::Mentor,
        };
        assert_eq!(
            code(cancel(me, Clock::at(NOW), f)),
            ErrorCode::INVALID_TRANSITION
        );
        let valid = mentor(MentorStatus::Paused, Some(NOW + DAY));
        let decided = cancel(
            COORDINATOR,
            Clock::at(NOW),
            PauseFacts {
                mentor: &valid,
                ..f
            },
        )
        .unwrap();
        assert_eq!(decided.pause.change.to, PauseStatus::Cancelled);
        assert_eq!(decided.pause.ends_at, Some(NOW));
        assert_eq!(decided.mentor.map(|m| m.to), Some(MentorStatus::Active));
    }
}
