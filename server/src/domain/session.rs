//! Sessions between a mentor and their mentee.

use super::access::{mentors, require_manages_mentor, require_mentor_or_manager};
use super::{Ctx, DomainError, validate};
use crate::db::q;
use mentorsync_protocol::command::{EditSessionNotes, Entity, ScheduleSession};
use mentorsync_protocol::machine::{SessionAction, transition};
use mentorsync_protocol::model::{Mentor, Session};
use mentorsync_protocol::{MentorStatus, Role};

type Primary = (Entity, String);

/// How far in the past a session may start: the minutes between picking a time and
/// sending it.
const PAST_TOLERANCE_MS: i64 = 5 * 60_000;

/// Schedules a session. A mentor schedules with their own mentees; a coordinator or admin
/// names the mentor.
pub async fn schedule(ctx: &mut Ctx<'_>, a: &ScheduleSession) -> Result<Primary, DomainError> {
    let id = ctx.new_id("session_id", a.session_id.as_deref())?;
    let mentee_id = validate::id("mentee_id", &a.mentee_id)?;
    let scheduled_at = validate::time("scheduled_at", a.scheduled_at)?;
    if scheduled_at < ctx.now - PAST_TOLERANCE_MS {
        if ctx
            .actor
            .issued_at
            .is_some_and(|i| scheduled_at >= i - PAST_TOLERANCE_MS)
        {
            return Err(DomainError::refuse(
                "window_passed",
                format!(
                    "the session was to start at {}, which passed while the command waited to \
                     be sent; nothing was scheduled",
                    validate::rfc3339(scheduled_at)
                ),
            ));
        }
        return Err(DomainError::Invalid(
            "`scheduled_at` is in the past; sessions are scheduled from now on".into(),
        ));
    }
    if !(5..=480).contains(&a.duration_minutes) {
        return Err(DomainError::Invalid(
            "`duration_minutes` must be between 5 and 480".into(),
        ));
    }
    let link = validate::link("meeting_link", a.meeting_link.as_deref())?;
    let mentor_id = match (&a.mentor_id, ctx.actor.role()) {
        (Some(m), _) => validate::id("mentor_id", m)?,
        (None, Some(Role::Mentor)) => ctx.actor.user_id().unwrap_or_default().to_owned(),
        (None, _) => return Err(DomainError::Invalid("`mentor_id` is required".into())),
    };
    let mentor: Mentor = ctx.load(Entity::Mentor, &mentor_id, false).await?;
    ctx.load::<mentorsync_protocol::model::Mentee>(Entity::Mentee, &mentee_id, false)
        .await?;
    require_mentor_or_manager(ctx, &mentor.id).await?;
    if mentor.status != MentorStatus::Active {
        return Err(DomainError::refuse(
            "mentor_not_active",
            format!(
                "the mentor is {}; sessions are scheduled with active mentors",
                mentor.status
            ),
        ));
    }
    if !mentors(ctx.tx, &mentor.id, &mentee_id).await? {
        return Err(DomainError::refuse(
            "not_assigned",
            "the mentee is not assigned to this mentor",
        ));
    }
    ctx.tx
        .execute(
            q("INSERT INTO sessions (id, chapter_id, mentor_id, mentee_id, status, scheduled_at, duration_minutes, \
               meeting_link, created_at, version, updated_at) VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, 1, $8)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(mentor.id.as_str())
            .bind(mentee_id.as_str())
            .bind(scheduled_at)
            .bind(a.duration_minutes)
            .bind(link)
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(Entity::Session, &id, "create", None, "scheduled", 1, None)
        .await?;
    Ok((Entity::Session, id))
}

/// The session's mentor, their coordinator, admins and the scheduler may act on it.
async fn require_session_access(ctx: &mut Ctx<'_>, s: &Session) -> Result<(), DomainError> {
    if ctx.actor.role() == Some(Role::Mentor) {
        if ctx.actor.is(&s.mentor_id) {
            return Ok(());
        }
        return Err(DomainError::Forbidden(
            "this is another mentor's session".into(),
        ));
    }
    require_manages_mentor(ctx, &s.mentor_id).await
}

/// How a scheduled session ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// It took place.
    Complete,
    /// Called off.
    Cancel,
    /// The mentee did not come.
    NoShow,
}

/// Records a session's outcome.
pub async fn finish(
    ctx: &mut Ctx<'_>,
    session_id: &str,
    outcome: Outcome,
) -> Result<Primary, DomainError> {
    let s: Session = ctx.load(Entity::Session, session_id, true).await?;
    require_session_access(ctx, &s).await?;
    ctx.check_version(Entity::Session, &s.id, s.version).await?;
    let (action, verb) = match outcome {
        Outcome::Complete => (SessionAction::Complete, "complete"),
        Outcome::Cancel => (SessionAction::Cancel, "cancel"),
        Outcome::NoShow => (SessionAction::NoShow, "no_show"),
    };
    let next = transition(s.status, action)?;
    ctx.versioned_update(
        Entity::Session,
        &s.id,
        q("UPDATE sessions SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
            .bind(next.as_str())
            .bind(ctx.now)
            .bind(s.id.as_str())
            .bind(s.version),
    )
    .await?;
    ctx.audit(
        Entity::Session,
        &s.id,
        verb,
        Some(s.status.as_str()),
        next.as_str(),
        s.version + 1,
        None,
    )
    .await?;
    Ok((Entity::Session, s.id))
}

/// Merges edits into a session's shared notes. No version check: notes merge (every
/// edit survives); only statuses are decided by the server. The merge itself usually ran
/// before the transaction (`notes::premerge`).
pub async fn edit_notes(ctx: &mut Ctx<'_>, a: &EditSessionNotes) -> Result<Primary, DomainError> {
    let s: Session = ctx.load(Entity::Session, &a.session_id, true).await?;
    require_session_access(ctx, &s).await?;
    let (text, doc) = match ctx.premerged(&s.id, s.version) {
        Some(merged) => merged,
        None => {
            let stored: Option<Vec<u8>> = ctx
                .tx
                .fetch_one(q("SELECT notes_doc FROM sessions WHERE id = $1").bind(s.id.as_str()))
                .await?;
            super::notes::merge(stored.as_deref(), &a.changes)?
        }
    };
    ctx.versioned_update(
        Entity::Session,
        &s.id,
        q("UPDATE sessions SET notes = $1, notes_doc = $2, version = version + 1, updated_at = $3 \
           WHERE id = $4 AND version = $5")
        .bind(text)
        .bind(doc)
        .bind(ctx.now)
        .bind(s.id.as_str())
        .bind(s.version),
    )
    .await?;
    ctx.audit(
        Entity::Session,
        &s.id,
        "edit_notes",
        Some(s.status.as_str()),
        s.status.as_str(),
        s.version + 1,
        None,
    )
    .await?;
    Ok((Entity::Session, s.id))
}
