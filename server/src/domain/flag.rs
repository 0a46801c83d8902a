//! Risk flags on mentees: facts and the writes of the effects, with the notifications they
//! send. The rules are `mentorsync_protocol::rules::flag`.

use super::access::mentee_ties;
use super::{Ctx, DomainError};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use mentorsync_protocol::FlagSeverity;
use mentorsync_protocol::command::{Entity, RaiseFlag};
use mentorsync_protocol::machine::{Action, FlagAction};
use mentorsync_protocol::model::{Flag, Mentee};
use mentorsync_protocol::rules::flag as rules;
use mentorsync_protocol::rules::work_item as work_items;

type Primary = (Entity, String);

/// Raises a flag on a mentee.
pub async fn raise(ctx: &mut Ctx<'_>, a: &RaiseFlag) -> Result<Primary, DomainError> {
    let input = rules::raise_input(a)?;
    let mentee: Mentee = ctx.load(Entity::Mentee, &input.1, false).await?;
    let ties = mentee_ties(ctx, &mentee.id).await?;
    let flag = rules::raise(ctx.caller(), ctx.clock(), input, a, ties)?;
    ctx.tx
        .execute(
            q("INSERT INTO flags (id, chapter_id, mentee_id, raised_by, severity, status, reason, created_at, version, \
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $8)")
            .bind(flag.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(flag.mentee_id.as_str())
            .bind(ctx.actor.user_id())
            .bind(flag.severity.as_str())
            .bind(flag.status.as_str())
            .bind(flag.reason.as_str())
            .bind(flag.created_at),
        )
        .await?;
    ctx.audit(
        Entity::Flag,
        &flag.id,
        "create",
        None,
        flag.status.as_str(),
        1,
        Some(serde_json::json!({"severity": flag.severity})),
    )
    .await?;
    let mentor_id = super::access::current_mentor(ctx.tx, &mentee.id).await?;
    if let Some(item) = work_items::after_flag(&flag, mentor_id.as_deref(), ctx.now) {
        super::work_item::queue(ctx, &item).await?;
    }
    let message = format!(
        "{} flag on {}: {}",
        flag.severity, mentee.display_name, flag.reason
    );
    let mut audiences = vec![Audience::Coordinator];
    if matches!(flag.severity, FlagSeverity::High | FlagSeverity::Critical) {
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
            entity_id: flag.id.clone(),
            message: message.clone(),
        })
        .await?;
    }
    Ok((Entity::Flag, flag.id))
}

/// Acknowledges or resolves a flag.
pub async fn decide(
    ctx: &mut Ctx<'_>,
    flag_id: &str,
    action: FlagAction,
) -> Result<Primary, DomainError> {
    let f: Flag = ctx.load(Entity::Flag, flag_id, true).await?;
    let ties = mentee_ties(ctx, &f.mentee_id).await?;
    let stale = ctx.stale(f.version);
    let verdict = rules::decide(ctx.caller(), &f, ties, stale, action);
    let m = ctx.decided((Entity::Flag, &f.id), verdict).await?;
    ctx.versioned_update(
        Entity::Flag,
        &f.id,
        q(
            "UPDATE flags SET status = $1, decided_by = $2, version = version + 1, updated_at = $3 \
           WHERE id = $4 AND version = $5",
        )
        .bind(m.to.as_str())
        .bind(ctx.actor.user_id())
        .bind(ctx.now)
        .bind(f.id.as_str())
        .bind(f.version),
    )
    .await?;
    ctx.audit(
        Entity::Flag,
        &f.id,
        m.action.verb(),
        Some(f.status.as_str()),
        m.to.as_str(),
        f.version + 1,
        None,
    )
    .await?;
    Ok((Entity::Flag, f.id))
}
