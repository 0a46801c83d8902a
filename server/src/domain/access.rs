//! Who may touch which row inside their chapter. Chapter isolation itself comes from
//! every lookup filtering by chapter (a foreign id is "not found"); these checks decide
//! the relationships: a coordinator's roster, a mentor's mentees, a mentee's own rows.

use super::{Ctx, DomainError};
use crate::db::{Tx, q};
use mentorsync_protocol::Role;

/// Whether `coordinator_id` currently coordinates `mentor_id` (looked up, never cached:
/// coordinators change).
pub async fn coordinates(
    tx: &mut Tx,
    coordinator_id: &str,
    mentor_id: &str,
) -> Result<bool, sqlx::Error> {
    tx.exists(
        q("SELECT 1 FROM coordinator_assignments WHERE coordinator_id = $1 AND mentor_id = $2 AND status = 'active'")
            .bind(coordinator_id)
            .bind(mentor_id),
    )
    .await
}

/// Whether `mentor_id` currently mentors `mentee_id`.
pub async fn mentors(tx: &mut Tx, mentor_id: &str, mentee_id: &str) -> Result<bool, sqlx::Error> {
    tx.exists(
        q("SELECT 1 FROM mentee_assignments WHERE mentor_id = $1 AND mentee_id = $2 AND status = 'active'")
            .bind(mentor_id)
            .bind(mentee_id),
    )
    .await
}

/// The mentee's current mentor, if any.
pub async fn current_mentor(tx: &mut Tx, mentee_id: &str) -> Result<Option<String>, sqlx::Error> {
    tx.fetch_optional::<String>(
        q("SELECT mentor_id FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'")
            .bind(mentee_id),
    )
    .await
}

/// Admins, the scheduler, and the mentor's coordinator manage a mentor.
pub async fn require_manages_mentor(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<(), DomainError> {
    if ctx.actor.is_chapter_wide() {
        return Ok(());
    }
    if ctx.actor.role() == Some(Role::Coordinator)
        && let Some(me) = ctx.actor.user_id()
        && coordinates(ctx.tx, me, mentor_id).await?
    {
        return Ok(());
    }
    Err(DomainError::Forbidden(
        "you do not coordinate this mentor".into(),
    ))
}

/// Who may act on a mentor's own work (sessions, reviews, queue): the mentor, their
/// coordinator, admins and the scheduler.
pub async fn require_mentor_or_manager(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<(), DomainError> {
    if ctx.actor.is(mentor_id) {
        return Ok(());
    }
    require_manages_mentor(ctx, mentor_id).await
}

/// Who may act about a mentee: their mentor, that mentor's coordinator, admins, the
/// scheduler. (The mentee acts on their own rows through their own commands.)
pub async fn require_mentee_access(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<(), DomainError> {
    if ctx.actor.is_chapter_wide() {
        return Ok(());
    }
    let Some(me) = ctx.actor.user_id().map(str::to_owned) else {
        return Ok(());
    };
    let allowed = match ctx.actor.role() {
        Some(Role::Mentor) => mentors(ctx.tx, &me, mentee_id).await?,
        Some(Role::Coordinator) => match current_mentor(ctx.tx, mentee_id).await? {
            Some(mentor) => coordinates(ctx.tx, &me, &mentor).await?,
            None => false,
        },
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "this mentee is not in your care".into(),
        ))
    }
}
