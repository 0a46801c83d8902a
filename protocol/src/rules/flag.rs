//! Risk flags on mentees: raised by whoever looks after the mentee, acknowledged and
//! resolved by them too.

use super::access::{MenteeTies, mentee_access};
use super::{Caller, Clock, Move, fresh, input};
use crate::command::RaiseFlag;
use crate::machine::FlagAction;
use crate::model::Flag;
use crate::{FlagStatus, Refusal};

/// A flag's input, checked: `(flag_id, mentee_id, reason)`.
pub fn raise_input(a: &RaiseFlag) -> Result<(String, String, String), Refusal> {
    Ok((
        input::new_id("flag_id", a.flag_id.as_deref())?,
        input::id("mentee_id", &a.mentee_id)?,
        input::text("reason", &a.reason, 1_000)?,
    ))
}

/// Raises a flag on a mentee (who exists): the new row.
pub fn raise(
    caller: Caller<'_>,
    clock: Clock,
    (id, mentee_id, reason): (String, String, String),
    a: &RaiseFlag,
    ties: MenteeTies,
) -> Result<Flag, Refusal> {
    mentee_access(caller, ties)?;
    Ok(Flag {
        id,
        mentee_id,
        raised_by: caller.id().unwrap_or_default().to_owned(),
        severity: a.severity,
        status: FlagStatus::Open,
        reason,
        created_at: clock.now,
        version: 1,
        updated_at: clock.now,
    })
}

/// Acknowledges or resolves a flag. `ties`: the caller's ties to the flag's mentee.
pub fn decide(
    caller: Caller<'_>,
    flag: &Flag,
    ties: MenteeTies,
    stale: bool,
    action: FlagAction,
) -> Result<Move<FlagAction>, Refusal> {
    mentee_access(caller, ties)?;
    fresh(stale)?;
    Move::of(flag.status, action)
}
