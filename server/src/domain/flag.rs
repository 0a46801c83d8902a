//! Risk flags on mentees: raised by whoever looks after the mentee, acknowledged and
//! resolved by coordinators.

use super::access::require_mentee_access;
use super::{Ctx, DomainError, validate};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use mentorsync_protocol::FlagSeverity;
use mentorsync_protocol::command::{Entity, RaiseFlag};
use mentorsync_protocol::machine::{FlagAction, transition};
use mentorsync_protocol::model::{Flag, Mentee};

type Primary = (Entity, String);

/// Raises a flag on a mentee.
pub async fn raise(ctx: &mut Ctx<'_>, a: &RaiseFlag) -> Result<Primary, DomainError> {
    let id = ctx.new_id("flag_id", a.flag_id.as_deref())?;
    let mentee_id = validate::id("mentee_id", &a.mentee_id)?;
    let reason = validate::text("reason", &a.reason, 1_000)?;
    let mentee: Mentee = ctx.load(Entity::Mentee, &mentee_id, false).await?;
    require_mentee_access(ctx, &mentee.id).await?;
    ctx.tx
        .execute(
            q("INSERT INTO flags (id, chapter_id, mentee_id, raised_by, severity, status, reason, created_at, version, \
               updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, 1, $7)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(mentee.id.as_str())
            .bind(ctx.actor.user_id())
            .bind(a.severity.as_str())
            .bind(reason.as_str())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::Flag,
        &id,
        "create",
        None,
        "open",
        1,
        Some(serde_json::json!({"severity": a.severity})),
    )
    .await?;
    let mentor_id = super::access::current_mentor(ctx.tx, &mentee.id).await?;
    let message = format!("{} flag on {}: {reason}", a.severity, mentee.display_name);
    let mut audiences = vec![Audience::Coordinator];
    if matches!(a.severity, FlagSeverity::High | FlagSeverity::Critical) {
        audiences.push(Audience::CohortDirectors);
    }
    for audience in audiences {
        ctx.notify(NewNotification {
            kind: "flag_raised",
            audience,
            mentor_id: mentor_id.clone(),
            mentee_id: Some(mentee.id.clone()),
            cohort_id: mentee.cohort_id.clone(),
            entity: Entity::Flag,
            entity_id: id.clone(),
            message: message.clone(),
        })
        .await?;
    }
    Ok((Entity::Flag, id))
}

async fn decide(
    ctx: &mut Ctx<'_>,
    flag_id: &str,
    action: FlagAction,
) -> Result<Primary, DomainError> {
    let f: Flag = ctx.load(Entity::Flag, flag_id, true).await?;
    require_mentee_access(ctx, &f.mentee_id).await?;
    ctx.check_version(Entity::Flag, &f.id, f.version).await?;
    let next = transition(f.status, action)?;
    ctx.versioned_update(
        Entity::Flag,
        &f.id,
        q(
            "UPDATE flags SET status = $1, decided_by = $2, version = version + 1, updated_at = $3 \
           WHERE id = $4 AND version = $5",
        )
        .bind(next.as_str())
        .bind(ctx.actor.user_id())
        .bind(ctx.now)
        .bind(f.id.as_str())
        .bind(f.version),
    )
    .await?;
    let verb = match action {
        FlagAction::Acknowledge => "acknowledge",
        FlagAction::Resolve => "resolve",
    };
    ctx.audit(
        Entity::Flag,
        &f.id,
        verb,
        Some(f.status.as_str()),
        next.as_str(),
        f.version + 1,
        None,
    )
    .await?;
    Ok((Entity::Flag, f.id))
}

/// A coordinator has seen the flag.
pub async fn acknowledge(ctx: &mut Ctx<'_>, flag_id: &str) -> Result<Primary, DomainError> {
    decide(ctx, flag_id, FlagAction::Acknowledge).await
}

/// The risk is dealt with.
pub async fn resolve(ctx: &mut Ctx<'_>, flag_id: &str) -> Result<Primary, DomainError> {
    decide(ctx, flag_id, FlagAction::Resolve).await
}
