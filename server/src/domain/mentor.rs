//! Mentor status commands: resume, deactivate, reactivate. The rules are the rule book's
//! (`mentorsync_protocol::rules::mentor`); this file loads their facts under lock and
//! writes their effects.

use super::pause::{mentor_facts, set_status, update_pause};
use super::{Ctx, DomainError};
use mentorsync_protocol::Refusal;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::rules::mentor::{self as rules, StatusChange};
use mentorsync_protocol::rules::pause::MentorFacts;
use mentorsync_protocol::rules::{Caller, Clock};

type Primary = (Entity, String);
type Rule = fn(Caller<'_>, Clock, MentorFacts<'_>) -> Result<StatusChange, Refusal>;

async fn change(ctx: &mut Ctx<'_>, mentor_id: &str, rule: Rule) -> Result<Primary, DomainError> {
    let (mentor, coordinates, stale, open) = mentor_facts(ctx, mentor_id).await?;
    let f = MentorFacts {
        mentor: &mentor,
        coordinates,
        stale,
        open_pauses: &open,
    };
    let verdict = rule(ctx.caller(), ctx.clock(), f);
    let change = ctx.decided((Entity::Mentor, &mentor.id), verdict).await?;
    for p in &change.pauses {
        update_pause(ctx, p).await?;
    }
    set_status(ctx, &mentor, change.mentor).await?;
    Ok((Entity::Mentor, mentor.id))
}

/// A paused mentor goes back to work; their active pause ends now.
pub async fn resume(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    change(ctx, mentor_id, rules::resume).await
}

/// A mentor leaves the programme; any open pause is cancelled with them.
pub async fn deactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    change(ctx, mentor_id, |caller, _, f| rules::deactivate(caller, f)).await
}

/// An admin brings a mentor back; only with a certification that is still valid.
pub async fn reactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    change(ctx, mentor_id, rules::reactivate).await
}
