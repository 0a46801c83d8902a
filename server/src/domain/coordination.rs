//! Who coordinates a mentor: an admin gives a mentor a coordinator, ending the current
//! coordination in the same transaction. The old coordinator's devices drop the mentor's
//! rows (their scope set loses the mentor), the new one's receive them, and notifications
//! still waiting reach the new coordinator, since dispatch looks the coordinator up when it
//! sends.

use super::{Ctx, DomainError};
use crate::db::q;
use mentorsync_protocol::command::{AssignCoordinator, Entity};
use mentorsync_protocol::model::{Account, CoordinatorAssignment, Mentor};
use mentorsync_protocol::rules::admin as rules;
use mentorsync_protocol::rules::input;

type Primary = (Entity, String);

/// Gives the mentor `a.coordinator_id` as coordinator.
pub async fn assign(ctx: &mut Ctx<'_>, a: &AssignCoordinator) -> Result<Primary, DomainError> {
    let id = input::new_id("assignment_id", a.assignment_id.as_deref())?;
    let coordinator_id = input::id("coordinator_id", &a.coordinator_id)?;
    let mentor: Mentor = ctx.load(Entity::Mentor, &a.mentor_id, true).await?;
    let stale = ctx.stale(mentor.version);
    let coordinator: Account = ctx.load(Entity::User, &coordinator_id, false).await?;
    let lock = ctx.tx.for_update();
    let current: Option<CoordinatorAssignment> = ctx
        .tx
        .fetch_optional(
            q(format!(
                "SELECT {} FROM coordinator_assignments WHERE mentor_id = $1 AND status = 'active'{lock}",
                crate::rows::COORDINATOR_ASSIGNMENT_COLUMNS
            ))
            .bind(mentor.id.as_str()),
        )
        .await?;
    let verdict = rules::assign_coordinator(
        &mentor,
        &coordinator,
        current.as_ref().map(|c| c.coordinator_id.as_str()),
        stale,
    );
    ctx.decided((Entity::Mentor, &mentor.id), verdict).await?;
    if let Some(old) = current {
        ctx.versioned_update(
            Entity::CoordinatorAssignment,
            &old.id,
            q("UPDATE coordinator_assignments SET status = 'ended', ended_at = $1, version = version + 1, \
               updated_at = $1 WHERE id = $2 AND version = $3")
            .bind(ctx.now)
            .bind(old.id.as_str())
            .bind(old.version),
        )
        .await?;
        ctx.audit(
            Entity::CoordinatorAssignment,
            &old.id,
            "end",
            Some("active"),
            "ended",
            old.version + 1,
            None,
        )
        .await?;
    }
    ctx.tx
        .execute(
            q("INSERT INTO coordinator_assignments (id, chapter_id, coordinator_id, mentor_id, status, started_at, \
               version, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, 1, $5)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(coordinator.id.as_str())
            .bind(mentor.id.as_str())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::CoordinatorAssignment,
        &id,
        "create",
        None,
        "active",
        1,
        None,
    )
    .await?;
    Ok((Entity::CoordinatorAssignment, id))
}
