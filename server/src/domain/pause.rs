//! Pauses: a mentor's own request, a coordinator's decision, cancellation. At most one
//! requested, scheduled or active pause per mentor: checked here for a clear message, and
//! enforced by a unique partial index for concurrent commands.

use super::access::require_manages_mentor;
use super::mentor::{ended_now, pause_window, set_status};
use super::{Ctx, DomainError, validate};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use crate::rows::PAUSE_COLUMNS;
use mentorsync_protocol::command::{Entity, PauseMentor};
use mentorsync_protocol::machine::{MentorAction, PauseAction, transition, transition_to};
use mentorsync_protocol::model::{Mentor, Pause};
use mentorsync_protocol::{MentorStatus, PauseStatus, Role};

type Primary = (Entity, String);

/// The mentor's requested, scheduled and active pauses.
pub(super) async fn open_pauses(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<Vec<Pause>, DomainError> {
    let sql = format!(
        "SELECT {PAUSE_COLUMNS} FROM pauses WHERE mentor_id = $1 \
         AND status IN ('requested', 'scheduled', 'active'){}",
        ctx.tx.for_update()
    );
    Ok(ctx.tx.fetch_all(q(sql).bind(mentor_id)).await?)
}

/// Refuses when the mentor already has an open pause.
pub(super) async fn ensure_no_open_pause(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<(), DomainError> {
    if let Some(p) = open_pauses(ctx, mentor_id).await?.first() {
        return Err(DomainError::refuse(
            "open_pause_exists",
            format!(
                "the mentor already has a {} pause; decide on it or cancel it first",
                p.status
            ),
        ));
    }
    Ok(())
}

/// Inserts a pause and audits its creation.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_pause(
    ctx: &mut Ctx<'_>,
    id: &str,
    mentor_id: &str,
    status: PauseStatus,
    reason: &str,
    starts_at: i64,
    ends_at: Option<i64>,
    decided_by: Option<&str>,
) -> Result<(), DomainError> {
    ctx.tx
        .execute(
            q("INSERT INTO pauses (id, chapter_id, mentor_id, status, reason, starts_at, ends_at, created_by, \
               decided_by, created_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $10)")
            .bind(id)
            .bind(ctx.chapter().to_owned())
            .bind(mentor_id)
            .bind(status.as_str())
            .bind(reason)
            .bind(starts_at)
            .bind(ends_at)
            .bind(ctx.actor.user_id())
            .bind(decided_by)
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(Entity::Pause, id, "create", None, status.as_str(), 1, None)
        .await
}

/// Moves a pause by `action` (to its first target, or `to` for approval).
pub(super) async fn update_pause(
    ctx: &mut Ctx<'_>,
    pause: &Pause,
    action: PauseAction,
    to: Option<PauseStatus>,
    ends_at: Option<i64>,
) -> Result<PauseStatus, DomainError> {
    let next = match to {
        Some(target) => transition_to(pause.status, action, target)?,
        None => transition(pause.status, action)?,
    };
    let decided_by = match action {
        PauseAction::Approve | PauseAction::Decline => ctx.actor.user_id().map(str::to_owned),
        _ => None,
    };
    ctx.versioned_update(
        Entity::Pause,
        &pause.id,
        q("UPDATE pauses SET status = $1, decided_by = COALESCE($2, decided_by), ends_at = COALESCE($3, ends_at), \
           version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6")
        .bind(next.as_str())
        .bind(decided_by)
        .bind(ends_at)
        .bind(ctx.now)
        .bind(pause.id.as_str())
        .bind(pause.version),
    )
    .await?;
    let verb = match action {
        PauseAction::Approve => "approve",
        PauseAction::Decline => "decline",
        PauseAction::Start => "start",
        PauseAction::End => "end",
        PauseAction::Cancel => "cancel",
    };
    ctx.audit(
        Entity::Pause,
        &pause.id,
        verb,
        Some(pause.status.as_str()),
        next.as_str(),
        pause.version + 1,
        None,
    )
    .await?;
    Ok(next)
}

/// A mentor asks for a pause for themselves; a coordinator decides.
pub async fn request(ctx: &mut Ctx<'_>, a: &PauseMentor) -> Result<Primary, DomainError> {
    let reason = validate::text("reason", &a.reason, 500)?;
    let (starts_at, ends_at) = pause_window(ctx.now, ctx.actor.issued_at, a.starts_at, a.ends_at)?;
    let pause_id = ctx.new_id("pause_id", a.pause_id.as_deref())?;
    let mentor: Mentor = ctx.load(Entity::Mentor, &a.mentor_id, true).await?;
    if !ctx.actor.is(&mentor.id) {
        return Err(DomainError::Forbidden(
            "a mentor may only request a pause for themselves".into(),
        ));
    }
    ctx.check_version(Entity::Mentor, &mentor.id, mentor.version)
        .await?;
    transition(mentor.status, MentorAction::Pause)?;
    ensure_no_open_pause(ctx, &mentor.id).await?;
    insert_pause(
        ctx,
        &pause_id,
        &mentor.id,
        PauseStatus::Requested,
        &reason,
        starts_at,
        ends_at,
        None,
    )
    .await?;
    ctx.notify(NewNotification {
        kind: "pause_requested",
        audience: Audience::Coordinator,
        mentor_id: Some(mentor.id.clone()),
        mentee_id: None,
        cohort_id: None,
        entity: Entity::Pause,
        entity_id: pause_id.clone(),
        message: format!("{} asks for a pause: {reason}", mentor.display_name),
    })
    .await?;
    Ok((Entity::Pause, pause_id))
}

async fn target(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Pause, DomainError> {
    let pause: Pause = ctx.load(Entity::Pause, pause_id, true).await?;
    Ok(pause)
}

/// Approves a requested pause: active at once if it has started, else scheduled.
pub async fn approve(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    let pause = target(ctx, pause_id).await?;
    require_manages_mentor(ctx, &pause.mentor_id).await?;
    ctx.check_version(Entity::Pause, &pause.id, pause.version)
        .await?;
    let starts_now = pause.starts_at <= ctx.now;
    let to = if starts_now {
        PauseStatus::Active
    } else {
        PauseStatus::Scheduled
    };
    transition_to(pause.status, PauseAction::Approve, to)?;
    if starts_now {
        let mentor: Mentor = ctx.load(Entity::Mentor, &pause.mentor_id, true).await?;
        set_status(ctx, &mentor, MentorAction::Pause).await?;
    }
    update_pause(ctx, &pause, PauseAction::Approve, Some(to), None).await?;
    Ok((Entity::Pause, pause.id))
}

/// Declines a requested pause.
pub async fn decline(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    let pause = target(ctx, pause_id).await?;
    require_manages_mentor(ctx, &pause.mentor_id).await?;
    ctx.check_version(Entity::Pause, &pause.id, pause.version)
        .await?;
    update_pause(ctx, &pause, PauseAction::Decline, None, None).await?;
    Ok((Entity::Pause, pause.id))
}

/// Cancels an open pause. A mentor may withdraw their own request or scheduled pause;
/// ending an active pause early is a resume, which their coordinator decides.
pub async fn cancel(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    let pause = target(ctx, pause_id).await?;
    if ctx.actor.role() == Some(Role::Mentor) {
        if !ctx.actor.is(&pause.mentor_id) {
            return Err(DomainError::Forbidden(
                "a mentor may only cancel their own pause".into(),
            ));
        }
        if pause.status == PauseStatus::Active {
            return Err(DomainError::refuse(
                "invalid_transition",
                "an active pause ends when your coordinator resumes you; ask them to",
            ));
        }
    } else {
        require_manages_mentor(ctx, &pause.mentor_id).await?;
    }
    ctx.check_version(Entity::Pause, &pause.id, pause.version)
        .await?;
    let was_active = pause.status == PauseStatus::Active;
    let mentor: Option<Mentor> = match was_active {
        true => Some(ctx.load(Entity::Mentor, &pause.mentor_id, true).await?),
        false => None,
    };
    if let Some(m) = mentor.as_ref().filter(|m| m.status == MentorStatus::Paused) {
        super::mentor::require_unexpired_certification(m, ctx.now, "ending their pause")?;
    }
    update_pause(
        ctx,
        &pause,
        PauseAction::Cancel,
        None,
        was_active.then(|| ended_now(&pause, ctx.now)),
    )
    .await?;
    if let Some(m) = mentor.filter(|m| m.status == MentorStatus::Paused) {
        set_status(ctx, &m, MentorAction::Resume).await?;
    }
    Ok((Entity::Pause, pause.id))
}
