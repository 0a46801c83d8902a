//! Mentee assignments: the facts an assignment decision needs, read under lock, and the
//! writes of its effects. The rules are `mentorsync_protocol::rules::assignment`.

use super::{Ctx, DomainError};
use crate::db::q;
use mentorsync_protocol::command::{AssignMentee, Entity};
use mentorsync_protocol::model::{Mentee, MenteeAssignment, Mentor};
use mentorsync_protocol::rules::assignment::{self as rules, AssignFacts};

type Primary = (Entity, String);

/// Assigns a mentee to a mentor.
pub async fn assign(ctx: &mut Ctx<'_>, a: &AssignMentee) -> Result<Primary, DomainError> {
    let input = rules::assign_input(a)?;
    // The mentor row is locked so two concurrent assignments cannot both see free capacity
    // (a unique partial index backs up "one active mentor per mentee").
    let mentor: Mentor = ctx.load(Entity::Mentor, &a.mentor_id, true).await?;
    let coordinates = ctx.coordinates(&mentor.id).await?;
    let stale = ctx.stale(mentor.version);
    let gate = rules::may_assign(ctx.caller(), coordinates, stale);
    ctx.decided((Entity::Mentor, &mentor.id), gate).await?;
    let mentee: Mentee = ctx.load(Entity::Mentee, &input.1, true).await?;
    let held: i64 = ctx
        .tx
        .fetch_one(
            q("SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'")
                .bind(&mentor.id),
        )
        .await?;
    let mentee_mentor = super::access::current_mentor(ctx.tx, &mentee.id).await?;
    let f = AssignFacts {
        mentor: &mentor,
        coordinates,
        stale,
        held,
        mentee_mentor: mentee_mentor.as_deref(),
    };
    let verdict = rules::assign(ctx.caller(), ctx.clock(), input, f);
    let row = ctx.decided((Entity::Mentor, &mentor.id), verdict).await?;
    ctx.tx
        .execute(
            q("INSERT INTO mentee_assignments (id, chapter_id, mentor_id, mentee_id, status, started_at, version, \
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $6)")
            .bind(row.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(row.mentor_id.as_str())
            .bind(row.mentee_id.as_str())
            .bind(row.status.as_str())
            .bind(row.started_at),
        )
        .await?;
    ctx.audit(
        Entity::MenteeAssignment,
        &row.id,
        "create",
        None,
        row.status.as_str(),
        1,
        None,
    )
    .await?;
    Ok((Entity::MenteeAssignment, row.id))
}

/// Ends an assignment: the mentee no longer has this mentor.
pub async fn end(ctx: &mut Ctx<'_>, assignment_id: &str) -> Result<Primary, DomainError> {
    let a: MenteeAssignment = ctx
        .load(Entity::MenteeAssignment, assignment_id, true)
        .await?;
    let coordinates = ctx.coordinates(&a.mentor_id).await?;
    let stale = ctx.stale(a.version);
    let verdict = rules::end(ctx.caller(), &a, coordinates, stale);
    let m = ctx
        .decided((Entity::MenteeAssignment, &a.id), verdict)
        .await?;
    write_end(ctx, &a, m.to).await?;
    Ok((Entity::MenteeAssignment, a.id))
}

/// Writes the end of an assignment (version checked) and its audit row.
pub(super) async fn write_end(
    ctx: &mut Ctx<'_>,
    a: &MenteeAssignment,
    to: mentorsync_protocol::AssignmentStatus,
) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::MenteeAssignment,
        &a.id,
        q("UPDATE mentee_assignments SET status = $1, ended_at = $2, version = version + 1, updated_at = $2 \
           WHERE id = $3 AND version = $4")
        .bind(to.as_str())
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
        to.as_str(),
        a.version + 1,
        None,
    )
    .await
}
