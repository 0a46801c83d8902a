//! The relationships the rule book's access rules read (a coordinator's roster, a
//! mentor's mentees), looked up in the database. The rules themselves are
//! `mentorsync_protocol::rules::access`.

use super::{Ctx, DomainError};
use crate::db::{Tx, q};
use mentorsync_protocol::Role;
use mentorsync_protocol::rules::Caller;
use mentorsync_protocol::rules::access::{self as rules, MenteeTies};

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

/// Requires that the caller manage the mentor (the rule book's [`rules::manages_mentor`]).
pub async fn require_manages_mentor(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<(), DomainError> {
    let coordinates = ctx.coordinates(mentor_id).await?;
    Ok(rules::manages_mentor(ctx.caller(), coordinates)?)
}

/// Requires the mentor themselves or whoever manages them.
pub async fn require_mentor_or_manager(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<(), DomainError> {
    let coordinates = ctx.coordinates(mentor_id).await?;
    Ok(rules::mentor_or_manager(
        ctx.caller(),
        mentor_id,
        coordinates,
    )?)
}

/// The caller's ties to a mentee, looked up only for the roles the rule reads them for.
pub async fn mentee_ties(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<MenteeTies, DomainError> {
    let mut ties = MenteeTies::default();
    match ctx.caller() {
        Caller::Person {
            id,
            role: Role::Mentor,
        } => ties.mentors = mentors(ctx.tx, id, mentee_id).await?,
        Caller::Person {
            role: Role::Coordinator,
            ..
        } => {
            if let Some(mentor) = current_mentor(ctx.tx, mentee_id).await? {
                ties.coordinates_mentor = ctx.coordinates(&mentor).await?;
            }
        }
        _ => {}
    }
    Ok(ties)
}

/// Requires that the caller look after the mentee (the rule book's [`rules::mentee_access`]).
pub async fn require_mentee_access(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<(), DomainError> {
    let ties = mentee_ties(ctx, mentee_id).await?;
    Ok(rules::mentee_access(ctx.caller(), ties)?)
}
