//! Mentor status commands: resume, deactivate, reactivate. The rules are the rule book's
//! (`mentorsync_protocol::rules::mentor`); this file loads their facts under lock and
//! writes their effects.

use super::pause::{mentor_facts, set_status, update_pause};
use super::{Ctx, DomainError};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use crate::rows::ASSIGNMENT_COLUMNS;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::MenteeAssignment;
use mentorsync_protocol::rules::mentor::{self as rules, StatusChange};
use mentorsync_protocol::rules::pause::MentorFacts;
use mentorsync_protocol::rules::{Caller, Clock};
use mentorsync_protocol::{AssignmentStatus, Refusal};

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

/// A mentor leaves the programme: any open pause is cancelled with them, their active
/// mentee assignments end (the mentees go back to matching) and their coordinator is told.
pub async fn deactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    let (mentor, coordinates, stale, open) = mentor_facts(ctx, mentor_id).await?;
    let lock = ctx.tx.for_update();
    let active: Vec<MenteeAssignment> = ctx
        .tx
        .fetch_all(
            q(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'{lock}"
            ))
            .bind(mentor.id.as_str()),
        )
        .await?;
    let f = MentorFacts {
        mentor: &mentor,
        coordinates,
        stale,
        open_pauses: &open,
    };
    let verdict = rules::deactivate(ctx.caller(), f, &active);
    let change = ctx.decided((Entity::Mentor, &mentor.id), verdict).await?;
    for p in &change.pauses {
        update_pause(ctx, p).await?;
    }
    for a in &change.ended_assignments {
        super::assignment::write_end(ctx, a, AssignmentStatus::Ended).await?;
    }
    set_status(ctx, &mentor, change.mentor).await?;
    if !change.ended_assignments.is_empty() {
        ctx.notify(NewNotification {
            kind: "mentor_deactivated",
            audience: Audience::Coordinator,
            mentor_id: Some(mentor.id.clone()),
            mentee_id: None,
            cohort_id: None,
            entity: Entity::Mentor,
            entity_id: mentor.id.clone(),
            message: format!(
                "{} left the programme; {} mentee(s) go back to matching",
                mentor.display_name,
                change.ended_assignments.len()
            ),
        })
        .await?;
    }
    Ok((Entity::Mentor, mentor.id))
}

/// An admin brings a mentor back; only with a certification that is still valid.
pub async fn reactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    change(ctx, mentor_id, rules::reactivate).await
}
