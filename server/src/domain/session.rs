//! Sessions between a mentor and their mentee: facts under lock and the writes of the
//! effects. The rules are `mentorsync_protocol::rules::session`.

use super::access::mentors;
use super::{Ctx, DomainError};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use mentorsync_protocol::command::{EditSessionNotes, Entity, ScheduleSession};
use mentorsync_protocol::local_time;
use mentorsync_protocol::machine::SessionAction;
use mentorsync_protocol::model::{Mentee, Mentor, Session};
use mentorsync_protocol::rules::session::{self as rules, ScheduleFacts};
use mentorsync_protocol::rules::work_item as work_items;

type Primary = (Entity, String);

/// Schedules a session. A mentor schedules with their own mentees; a coordinator or admin
/// names the mentor.
pub async fn schedule(ctx: &mut Ctx<'_>, a: &ScheduleSession) -> Result<Primary, DomainError> {
    let input = rules::schedule_input(ctx.caller(), ctx.clock(), a)?;
    let mentor: Mentor = ctx.load(Entity::Mentor, &input.mentor_id, false).await?;
    ctx.load::<Mentee>(Entity::Mentee, &input.mentee_id, false)
        .await?;
    let coordinates = ctx.coordinates(&mentor.id).await?;
    let assigned = mentors(ctx.tx, &mentor.id, &input.mentee_id).await?;
    let f = ScheduleFacts {
        mentor: &mentor,
        coordinates,
        assigned,
    };
    let s = rules::schedule(ctx.caller(), ctx.clock(), input, f)?;
    ctx.tx
        .execute(
            q("INSERT INTO sessions (id, chapter_id, mentor_id, mentee_id, status, scheduled_at, duration_minutes, \
               meeting_link, created_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $9)")
            .bind(s.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(s.mentor_id.as_str())
            .bind(s.mentee_id.as_str())
            .bind(s.status.as_str())
            .bind(s.scheduled_at)
            .bind(s.duration_minutes)
            .bind(s.meeting_link.as_deref())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::Session,
        &s.id,
        "create",
        None,
        s.status.as_str(),
        1,
        None,
    )
    .await?;
    let when = for_the_mentee(ctx, &s).await?;
    tell_the_mentee(
        ctx,
        "session_scheduled",
        &s,
        format!(
            "{} scheduled a session with you: {when}",
            mentor.display_name
        ),
    )
    .await?;
    Ok((Entity::Session, s.id))
}

/// The session's time as its mentee reads it (their time zone, else their chapter's).
async fn for_the_mentee(ctx: &mut Ctx<'_>, s: &Session) -> Result<String, DomainError> {
    let tz: Option<String> = ctx
        .tx
        .fetch_optional(
            q("SELECT COALESCE(u.time_zone, c.time_zone) FROM users u JOIN chapters c ON c.id = u.chapter_id \
               WHERE u.id = $1")
            .bind(s.mentee_id.as_str()),
        )
        .await?
        .flatten();
    Ok(local_time::for_people(s.scheduled_at, tz.as_deref()))
}

/// Tells the mentee of a session what happened to it, in the transaction of the change.
async fn tell_the_mentee(
    ctx: &mut Ctx<'_>,
    kind: &'static str,
    s: &Session,
    message: String,
) -> Result<(), DomainError> {
    ctx.notify(NewNotification {
        kind,
        audience: Audience::Mentee,
        mentor_id: Some(s.mentor_id.clone()),
        mentee_id: Some(s.mentee_id.clone()),
        cohort_id: None,
        entity: Entity::Session,
        entity_id: s.id.clone(),
        message,
    })
    .await
}

/// Records a session's outcome (`Complete`, `Cancel`, `NoShow`).
pub async fn finish(
    ctx: &mut Ctx<'_>,
    session_id: &str,
    outcome: SessionAction,
) -> Result<Primary, DomainError> {
    let s: Session = ctx.load(Entity::Session, session_id, true).await?;
    let coordinates = ctx.coordinates(&s.mentor_id).await?;
    let stale = ctx.stale(s.version);
    let verdict = rules::finish(ctx.caller(), &s, coordinates, stale, outcome);
    let m = ctx.decided((Entity::Session, &s.id), verdict).await?;
    ctx.versioned_update(
        Entity::Session,
        &s.id,
        q("UPDATE sessions SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
            .bind(m.to.as_str())
            .bind(ctx.now)
            .bind(s.id.as_str())
            .bind(s.version),
    )
    .await?;
    let verb = match outcome {
        SessionAction::Complete => "complete",
        SessionAction::Cancel => "cancel",
        SessionAction::NoShow => "no_show",
    };
    ctx.audit(
        Entity::Session,
        &s.id,
        verb,
        Some(s.status.as_str()),
        m.to.as_str(),
        s.version + 1,
        None,
    )
    .await?;
    if let Some(item) = work_items::after_session(&s, outcome, ctx.now) {
        super::work_item::queue(ctx, &item).await?;
    }
    if outcome == SessionAction::Cancel {
        let mentor: Mentor = ctx.load(Entity::Mentor, &s.mentor_id, false).await?;
        let when = for_the_mentee(ctx, &s).await?;
        tell_the_mentee(
            ctx,
            "session_cancelled",
            &s,
            format!("{} cancelled your session of {when}", mentor.display_name),
        )
        .await?;
    }
    Ok((Entity::Session, s.id))
}

/// Merges edits into a session's shared notes. No version check: notes merge (every
/// edit survives); only statuses are decided by the server. The merge itself usually ran
/// before the transaction (`notes::premerge`).
pub async fn edit_notes(ctx: &mut Ctx<'_>, a: &EditSessionNotes) -> Result<Primary, DomainError> {
    let s: Session = ctx.load(Entity::Session, &a.session_id, true).await?;
    let coordinates = ctx.coordinates(&s.mentor_id).await?;
    rules::require_access(ctx.caller(), &s, coordinates)?;
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
