//! Mentee assignments. A paused or inactive mentor gets no new mentees, a mentor never
//! holds more active mentees than their weekly capacity, and a mentee has at most one
//! active mentor (a unique partial index backs this up under concurrency).

use super::access::require_manages_mentor;
use super::{Ctx, DomainError, validate};
use crate::db::q;
use mentorsync_protocol::MentorStatus;
use mentorsync_protocol::command::{AssignMentee, Entity};
use mentorsync_protocol::machine::{AssignmentAction, transition};
use mentorsync_protocol::model::{Mentee, MenteeAssignment, Mentor};

type Primary = (Entity, String);

/// Assigns a mentee to a mentor.
pub async fn assign(ctx: &mut Ctx<'_>, a: &AssignMentee) -> Result<Primary, DomainError> {
    let id = ctx.new_id("assignment_id", a.assignment_id.as_deref())?;
    let mentee_id = validate::id("mentee_id", &a.mentee_id)?;
    // The mentor row is locked so two concurrent assignments cannot both see free capacity.
    let mentor: Mentor = ctx.load(Entity::Mentor, &a.mentor_id, true).await?;
    require_manages_mentor(ctx, &mentor.id).await?;
    ctx.check_version(Entity::Mentor, &mentor.id, mentor.version)
        .await?;
    let mentee: Mentee = ctx.load(Entity::Mentee, &mentee_id, true).await?;
    if mentor.status != MentorStatus::Active {
        return Err(DomainError::refuse(
            "mentor_not_active",
            format!(
                "the mentor is {}; only an active mentor gets new mentees",
                mentor.status
            ),
        ));
    }
    let held: i64 = ctx
        .tx
        .fetch_one(
            q("SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'")
                .bind(&mentor.id),
        )
        .await?;
    if held >= mentor.capacity_weekly {
        return Err(DomainError::refuse(
            "capacity_exceeded",
            format!(
                "the mentor already holds {held} of {} mentees",
                mentor.capacity_weekly
            ),
        ));
    }
    if let Some(current) = super::access::current_mentor(ctx.tx, &mentee.id).await? {
        let reason = if current == mentor.id {
            "the mentee is already assigned to this mentor"
        } else {
            "the mentee already has an active mentor; end that assignment first"
        };
        return Err(DomainError::refuse("mentee_already_assigned", reason));
    }
    ctx.tx
        .execute(
            q("INSERT INTO mentee_assignments (id, chapter_id, mentor_id, mentee_id, status, started_at, version, \
               updated_at) VALUES ($1, $2, $3, $4, 'active', $5, 1, $5)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(mentor.id.as_str())
            .bind(mentee.id.as_str())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::MenteeAssignment,
        &id,
        "create",
        None,
        "active",
        1,
        None,
    )
    .await?;
    Ok((Entity::MenteeAssignment, id))
}

/// Ends an assignment: the mentee no longer has this mentor.
pub async fn end(ctx: &mut Ctx<'_>, assignment_id: &str) -> Result<Primary, DomainError> {
    let a: MenteeAssignment = ctx
        .load(Entity::MenteeAssignment, assignment_id, true)
        .await?;
    require_manages_mentor(ctx, &a.mentor_id).await?;
    ctx.check_version(Entity::MenteeAssignment, &a.id, a.version)
        .await?;
    let next = transition(a.status, AssignmentAction::End)?;
    ctx.versioned_update(
        Entity::MenteeAssignment,
        &a.id,
        q("UPDATE mentee_assignments SET status = $1, ended_at = $2, version = version + 1, updated_at = $2 \
           WHERE id = $3 AND version = $4")
        .bind(next.as_str())
        .bind(ctx.now)
        .bind(a.id.as_str())
        .bind(a.version),
    )
    .await?;
    ctx.audit(
        Entity::MenteeAssignment,
        &a.id,
        "end",
        Some(a.status.as_str()),
        next.as_str(),
        a.version + 1,
        None,
    )
    .await?;
    Ok((Entity::MenteeAssignment, a.id))
}
