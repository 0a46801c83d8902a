//! Mentor status: pause, resume, deactivate, reactivate. A mentor is paused exactly while
//! one of their pauses is active, so every status change here moves the pause with it.

use super::access::require_manages_mentor;
use super::pause::{ensure_no_open_pause, insert_pause, open_pauses, update_pause};
use super::{Ctx, DomainError, validate};
use crate::db::q;
use mentorsync_protocol::command::{Entity, PauseMentor};
use mentorsync_protocol::machine::{MentorAction, PauseAction, transition};
use mentorsync_protocol::model::{Mentor, Pause};
use mentorsync_protocol::{MentorStatus, PauseStatus};

type Primary = (Entity, String);

/// Moves a mentor's status by `action` with a versioned update and an audit row.
pub(super) async fn set_status(
    ctx: &mut Ctx<'_>,
    mentor: &Mentor,
    action: MentorAction,
) -> Result<(), DomainError> {
    let next = transition(mentor.status, action)?;
    ctx.versioned_update(
        Entity::Mentor,
        &mentor.id,
        q(
            "UPDATE mentor_profiles SET status = $1, version = version + 1, updated_at = $2 \
           WHERE user_id = $3 AND version = $4",
        )
        .bind(next.as_str())
        .bind(ctx.now)
        .bind(mentor.id.as_str())
        .bind(mentor.version),
    )
    .await?;
    let verb = match action {
        MentorAction::Pause => "pause",
        MentorAction::Resume => "resume",
        MentorAction::Deactivate => "deactivate",
        MentorAction::Reactivate => "reactivate",
    };
    ctx.audit(
        Entity::Mentor,
        &mentor.id,
        verb,
        Some(mentor.status.as_str()),
        next.as_str(),
        mentor.version + 1,
        None,
    )
    .await
}

/// Loads the mentor the command targets, locked, after the access and version checks.
async fn target(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Mentor, DomainError> {
    let mentor: Mentor = ctx.load(Entity::Mentor, mentor_id, true).await?;
    require_manages_mentor(ctx, &mentor.id).await?;
    ctx.check_version(Entity::Mentor, &mentor.id, mentor.version)
        .await?;
    Ok(mentor)
}

/// A coordinator pauses a mentor now (or schedules a pause from `starts_at`).
pub async fn pause(ctx: &mut Ctx<'_>, a: &PauseMentor) -> Result<Primary, DomainError> {
    let reason = validate::text("reason", &a.reason, 500)?;
    let (starts_at, ends_at) = pause_window(ctx.now, ctx.actor.issued_at, a.starts_at, a.ends_at)?;
    let pause_id = ctx.new_id("pause_id", a.pause_id.as_deref())?;
    let mentor = target(ctx, &a.mentor_id).await?;
    transition(mentor.status, MentorAction::Pause)?;
    ensure_no_open_pause(ctx, &mentor.id).await?;
    let immediate = starts_at <= ctx.now;
    let status = if immediate {
        PauseStatus::Active
    } else {
        PauseStatus::Scheduled
    };
    let me = ctx.actor.user_id().map(str::to_owned);
    insert_pause(
        ctx,
        &pause_id,
        &mentor.id,
        status,
        &reason,
        starts_at,
        ends_at,
        me.as_deref(),
    )
    .await?;
    if immediate {
        set_status(ctx, &mentor, MentorAction::Pause).await?;
    }
    Ok((Entity::Mentor, mentor.id))
}

/// Checks a pause's start and end; the start defaults to now. A pause whose end was still
/// ahead when its person asked for it (`issued_at`, a device command that waited offline)
/// but has passed by the time it arrives is refused as `window_passed`: the time it was
/// meant for is over, and applying it now would pause the mentor for a moment or never.
pub(super) fn pause_window(
    now: i64,
    issued_at: Option<i64>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
) -> Result<(i64, Option<i64>), DomainError> {
    let starts_at = match starts_at {
        Some(t) => validate::time("starts_at", t)?,
        None => now,
    };
    if let Some(end) = ends_at {
        validate::time("ends_at", end)?;
        if end <= now && issued_at.is_some_and(|i| end > i) {
            return Err(DomainError::refuse(
                "window_passed",
                format!(
                    "the pause was to end at {}, which passed while the command waited to be \
                     sent; nothing was changed",
                    validate::rfc3339(end)
                ),
            ));
        }
        if end <= starts_at || end <= now {
            return Err(DomainError::Invalid(
                "`ends_at` must be after `starts_at` and in the future".into(),
            ));
        }
    }
    Ok((starts_at, ends_at))
}

/// A paused mentor goes back to work; their active pause ends now.
pub async fn resume(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    let mentor = target(ctx, mentor_id).await?;
    transition(mentor.status, MentorAction::Resume)?;
    require_unexpired_certification(&mentor, ctx.now, "resuming")?;
    for pause in open_pauses(ctx, &mentor.id).await? {
        if pause.status == PauseStatus::Active {
            let ends = Some(ended_now(&pause, ctx.now));
            update_pause(ctx, &pause, PauseAction::End, None, ends).await?;
        }
    }
    set_status(ctx, &mentor, MentorAction::Resume).await?;
    Ok((Entity::Mentor, mentor.id))
}

/// A mentor goes back to work only with a certification that has not expired; otherwise
/// the next certification run pauses them again, which to a coordinator looks like the
/// resume flapping. A mentor never certified has nothing that expired and is not held back
/// (reactivation, a decision to take someone back, asks more: a valid certification).
pub(super) fn require_unexpired_certification(
    mentor: &Mentor,
    now: i64,
    doing: &str,
) -> Result<(), DomainError> {
    if mentor.certification_expires_at.is_some_and(|t| t <= now) {
        return Err(DomainError::refuse(
            "certification_invalid",
            format!("the mentor's certification has expired; renew it before {doing}"),
        ));
    }
    Ok(())
}

/// When an active pause that is ended now ends: now, or its planned end if that came
/// first, and never before it began. On PostgreSQL the command's clock is read before it
/// waits for the mentor's row lock, so a pause that committed meanwhile can have begun
/// after "now"; it then ends the moment it began rather than violating `ends_at >= starts_at`.
pub(super) fn ended_now(pause: &Pause, now: i64) -> i64 {
    pause
        .ends_at
        .map_or(now, |e| e.min(now))
        .max(pause.starts_at)
}

/// A mentor leaves the programme; any open pause is cancelled with them.
pub async fn deactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    let mentor = target(ctx, mentor_id).await?;
    transition(mentor.status, MentorAction::Deactivate)?;
    for pause in open_pauses(ctx, &mentor.id).await? {
        update_pause(ctx, &pause, PauseAction::Cancel, None, None).await?;
    }
    set_status(ctx, &mentor, MentorAction::Deactivate).await?;
    Ok((Entity::Mentor, mentor.id))
}

/// An admin brings a mentor back; only with a certification that is still valid.
pub async fn reactivate(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    let mentor = target(ctx, mentor_id).await?;
    transition(mentor.status, MentorAction::Reactivate)?;
    if mentor.certification_expires_at.is_none_or(|t| t <= ctx.now) {
        return Err(DomainError::refuse(
            "certification_invalid",
            "the mentor's certification is missing or expired; renew it before reactivating",
        ));
    }
    debug_assert_eq!(mentor.status, MentorStatus::Inactive);
    set_status(ctx, &mentor, MentorAction::Reactivate).await?;
    Ok((Entity::Mentor, mentor.id))
}
