//! Commands only the scheduler issues. They are not on the wire (no client may send them)
//! but run through the same [`Ctx`] as every other command: row locks, status machine,
//! versioned update, audit row with actor `system`, change log, notifications.

use super::mentor;
use super::pause::{mentor_facts, new_pause_id, pause_facts, write_created, write_decided};
use super::{Actor, Applied, Ctx, DomainError};
use crate::db::{Tx, q};
use crate::notify::{Audience, NewNotification};
use crate::rows::StoredWorkItem;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::{Mentor, Pause};
use mentorsync_protocol::rules::pause::{self as rules, MentorFacts, PauseFacts};

type Primary = (Entity, String);

/// What the scheduler does to a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemCommand {
    /// A scheduled pause whose start has passed becomes active; the mentor is paused.
    StartPause {
        /// The pause.
        pause_id: String,
    },
    /// An active pause whose end has passed ends; the mentor resumes.
    EndPause {
        /// The pause.
        pause_id: String,
    },
    /// An active mentor whose certification has expired is paused until renewed.
    ExpireCertification {
        /// The mentor.
        mentor_id: String,
    },
    /// An open item past its SLA is marked overdue (once).
    MarkOverdue {
        /// The work item.
        item_id: String,
    },
}

/// Runs a scheduler command in `chapter_id` at `now`. Refuses (with the status it found)
/// when the row no longer qualifies, e.g. someone resumed the mentor a moment earlier.
pub async fn execute_system(
    tx: &mut Tx,
    chapter_id: &str,
    now: i64,
    command: &SystemCommand,
) -> Result<Applied, DomainError> {
    let actor = Actor::system(chapter_id);
    let mut ctx = Ctx::new(tx, &actor, now, None);
    let primary = match command {
        SystemCommand::StartPause { pause_id } => start_pause(&mut ctx, pause_id).await?,
        SystemCommand::EndPause { pause_id } => end_pause(&mut ctx, pause_id).await?,
        SystemCommand::ExpireCertification { mentor_id } => {
            expire_certification(&mut ctx, mentor_id).await?
        }
        SystemCommand::MarkOverdue { item_id } => mark_overdue(&mut ctx, item_id).await?,
    };
    ctx.finish(primary)
        .await?
        .with_row(tx, chapter_id, now)
        .await
}

/// Tells the mentor's coordinator (resolved when sent) what the scheduler did.
async fn notify_coordinator(
    ctx: &mut Ctx<'_>,
    kind: &'static str,
    mentor: &Mentor,
    (entity, id): (Entity, &str),
    message: String,
) -> Result<(), DomainError> {
    ctx.notify(NewNotification {
        kind,
        audience: Audience::Coordinator,
        mentor_id: Some(mentor.id.clone()),
        mentee_id: None,
        cohort_id: None,
        entity,
        entity_id: id.to_owned(),
        message,
    })
    .await
}

async fn start_pause(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    let (pause, m, coordinates, stale) = pause_facts(ctx, pause_id).await?;
    let f = PauseFacts {
        pause: &pause,
        mentor: &m,
        coordinates,
        stale,
    };
    let decided = rules::start_due(ctx.clock(), f)?;
    write_decided(ctx, &m, &decided).await?;
    let message = format!("{}'s pause has begun: {}", m.display_name, pause.reason);
    notify_coordinator(
        ctx,
        "pause_started",
        &m,
        (Entity::Pause, &pause.id),
        message,
    )
    .await?;
    Ok((Entity::Pause, pause.id))
}

async fn end_pause(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    let pause: Pause = ctx.load(Entity::Pause, pause_id, true).await?;
    rules::end_due(ctx.clock(), &pause)?;
    mentor::resume(ctx, &pause.mentor_id).await?;
    let m: Mentor = ctx.load(Entity::Mentor, &pause.mentor_id, false).await?;
    let message = format!("{} is back from their pause", m.display_name);
    notify_coordinator(ctx, "pause_ended", &m, (Entity::Pause, &pause.id), message).await?;
    Ok((Entity::Pause, pause.id))
}

async fn expire_certification(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<Primary, DomainError> {
    let (m, coordinates, stale, open) = mentor_facts(ctx, mentor_id).await?;
    let f = MentorFacts {
        mentor: &m,
        coordinates,
        stale,
        open_pauses: &open,
    };
    let created = rules::expire_certification(ctx.clock(), new_pause_id(), f)?;
    write_created(ctx, &m, &created).await?;
    let message = format!(
        "{}'s certification expired; paused until it is renewed",
        m.display_name
    );
    notify_coordinator(
        ctx,
        "certification_expired",
        &m,
        (Entity::Mentor, &m.id),
        message,
    )
    .await?;
    Ok((Entity::Mentor, m.id))
}

async fn mark_overdue(ctx: &mut Ctx<'_>, item_id: &str) -> Result<Primary, DomainError> {
    let StoredWorkItem(w) = ctx.load(Entity::WorkItem, item_id, true).await?;
    let marked: bool = ctx
        .tx
        .exists(
            q("SELECT 1 FROM work_items WHERE id = $1 AND overdue_at IS NOT NULL").bind(item_id),
        )
        .await?;
    mentorsync_protocol::rules::work_item::overdue_due(ctx.now, &w, marked)?;
    ctx.versioned_update(
        Entity::WorkItem,
        &w.id,
        q(
            "UPDATE work_items SET overdue_at = $1, version = version + 1, updated_at = $1 \
           WHERE id = $2 AND version = $3",
        )
        .bind(ctx.now)
        .bind(w.id.as_str())
        .bind(w.version),
    )
    .await?;
    ctx.audit(
        Entity::WorkItem,
        &w.id,
        "overdue",
        Some(w.status.as_str()),
        w.status.as_str(),
        w.version + 1,
        Some(serde_json::json!({"sla_due_at": w.sla_due_at})),
    )
    .await?;
    if let Some(mentor_id) = &w.mentor_id {
        let m: Mentor = ctx.load(Entity::Mentor, mentor_id, false).await?;
        let message = format!("{}'s {} item is past its SLA", m.display_name, w.kind);
        notify_coordinator(
            ctx,
            "work_item_overdue",
            &m,
            (Entity::WorkItem, &w.id),
            message,
        )
        .await?;
    }
    Ok((Entity::WorkItem, w.id))
}
