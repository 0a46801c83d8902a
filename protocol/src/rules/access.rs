//! Who may act on whose rows inside a chapter. Chapter isolation comes from every lookup
//! filtering by chapter (a foreign id is "not found"); these rules decide relationships.
//! The deciding side supplies the ties as facts: the server looks them up, the device
//! reads them off the rows it holds (a coordinator's device holds exactly their mentors).

use super::{Caller, forbidden};
use crate::command::Command;
use crate::{Refusal, Role};

/// Whether the caller's role may issue the command at all.
pub fn may_issue(caller: Caller<'_>, command: &Command) -> Result<(), Refusal> {
    match caller.role() {
        Some(role) if !command.allowed_roles().contains(&role) => Err(forbidden(format!(
            "a {role} may not {}",
            command.name().replace('_', " ")
        ))),
        _ => Ok(()),
    }
}

/// Admins, the scheduler, and the mentor's coordinator manage a mentor. `coordinates`:
/// the caller is a coordinator who currently coordinates the mentor.
pub fn manages_mentor(caller: Caller<'_>, coordinates: bool) -> Result<(), Refusal> {
    if caller.chapter_wide() || (caller.role() == Some(Role::Coordinator) && coordinates) {
        return Ok(());
    }
    Err(forbidden("you do not coordinate this mentor"))
}

/// The mentor themselves, or whoever manages them.
pub fn mentor_or_manager(
    caller: Caller<'_>,
    mentor_id: &str,
    coordinates: bool,
) -> Result<(), Refusal> {
    if caller.is(mentor_id) {
        return Ok(());
    }
    manages_mentor(caller, coordinates)
}

/// The caller's ties to a mentee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MenteeTies {
    /// The caller is the mentee's current mentor.
    pub mentors: bool,
    /// The caller coordinates the mentee's current mentor.
    pub coordinates_mentor: bool,
}

/// Who may act about a mentee: their mentor, that mentor's coordinator, admins and the
/// scheduler. (The mentee acts on their own rows through their own commands.)
pub fn mentee_access(caller: Caller<'_>, ties: MenteeTies) -> Result<(), Refusal> {
    let allowed = caller.chapter_wide()
        || match caller.role() {
            Some(Role::Mentor) => ties.mentors,
            Some(Role::Coordinator) => ties.coordinates_mentor,
            _ => false,
        };
    if allowed {
        Ok(())
    } else {
        Err(forbidden("this mentee is not in your care"))
    }
}
