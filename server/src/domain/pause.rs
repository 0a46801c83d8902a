//! Pauses and the mentor status that follows them: the rows a pause decision needs, read
//! under lock, and the writes of its effects. The rules are the rule book's
//! (`mentorsync_protocol::rules::pause`).

use super::{Ctx, DomainError};
use crate::db::q;
use crate::notify::{Audience, NewNotification};
use crate::rows::PAUSE_COLUMNS;
use mentorsync_protocol::PauseStatus;
use mentorsync_protocol::command::{Entity, PauseMentor};
use mentorsync_protocol::machine::{Action, MentorAction, PauseAction};
use mentorsync_protocol::model::{Mentor, Pause};
use mentorsync_protocol::rules::Move;
use mentorsync_protocol::rules::pause::{
    self as rules, Created, Decided, MentorFacts, PauseChange, PauseFacts,
};

type Primary = (Entity, String);

/// The mentor's requested, scheduled and active pauses, locked.
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

/// Loads the mentor a command targets (locked) and what a decision about them needs: the
/// caller's tie, whether their version is stale, the open pauses (locked too). A refused
/// command rolls back, so a stranger learns nothing from what was read.
pub(super) async fn mentor_facts(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<(Mentor, bool, bool, Vec<Pause>), DomainError> {
    let mentor: Mentor = ctx.load(Entity::Mentor, mentor_id, true).await?;
    let coordinates = ctx.coordinates(&mentor.id).await?;
    let stale = ctx.stale(mentor.version);
    let open = open_pauses(ctx, &mentor.id).await?;
    Ok((mentor, coordinates, stale, open))
}

/// Moves a mentor's status with a versioned update and an audit row.
pub(super) async fn set_status(
    ctx: &mut Ctx<'_>,
    mentor: &Mentor,
    m: Move<MentorAction>,
) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::Mentor,
        &mentor.id,
        q(
            "UPDATE mentor_profiles SET status = $1, version = version + 1, updated_at = $2 \
           WHERE user_id = $3 AND version = $4",
        )
        .bind(m.to.as_str())
        .bind(ctx.now)
        .bind(mentor.id.as_str())
        .bind(mentor.version),
    )
    .await?;
    ctx.audit(
        Entity::Mentor,
        &mentor.id,
        m.action.verb(),
        Some(mentor.status.as_str()),
        m.to.as_str(),
        mentor.version + 1,
        None,
    )
    .await
}

/// Writes a pause's change with a versioned update and an audit row.
pub(super) async fn update_pause(ctx: &mut Ctx<'_>, c: &PauseChange) -> Result<(), DomainError> {
    let pause = &c.pause;
    let decided_by = match c.change.action {
        PauseAction::Approve | PauseAction::Decline => ctx.actor.user_id().map(str::to_owned),
        _ => None,
    };
    ctx.versioned_update(
        Entity::Pause,
        &pause.id,
        q("UPDATE pauses SET status = $1, decided_by = COALESCE($2, decided_by), ends_at = COALESCE($3, ends_at), \
           version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6")
        .bind(c.change.to.as_str())
        .bind(decided_by)
        .bind(c.ends_at)
        .bind(ctx.now)
        .bind(pause.id.as_str())
        .bind(pause.version),
    )
    .await?;
    ctx.audit(
        Entity::Pause,
        &pause.id,
        c.change.action.verb(),
        Some(pause.status.as_str()),
        c.change.to.as_str(),
        pause.version + 1,
        None,
    )
    .await
}

/// Writes a created pause: overtaken pauses cancelled, the pause inserted, the mentor moved.
pub(super) async fn write_created(
    ctx: &mut Ctx<'_>,
    mentor: &Mentor,
    c: &Created,
) -> Result<(), DomainError> {
    for change in &c.cancelled {
        update_pause(ctx, change).await?;
    }
    let p = &c.pause;
    ctx.tx
        .execute(
            q("INSERT INTO pauses (id, chapter_id, mentor_id, status, reason, starts_at, ends_at, created_by, \
               decided_by, created_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $10)")
            .bind(p.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(p.mentor_id.as_str())
            .bind(p.status.as_str())
            .bind(p.reason.as_str())
            .bind(p.starts_at)
            .bind(p.ends_at)
            .bind(ctx.actor.user_id())
            .bind(p.decided_by.as_deref())
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::Pause,
        &p.id,
        "create",
        None,
        p.status.as_str(),
        1,
        None,
    )
    .await?;
    if let Some(m) = c.mentor {
        set_status(ctx, mentor, m).await?;
    }
    Ok(())
}

/// Decides a new pause for the mentor `a` names with `rule` and writes it.
async fn create(
    ctx: &mut Ctx<'_>,
    a: &PauseMentor,
    rule: impl FnOnce(
        mentorsync_protocol::rules::Caller<'_>,
        mentorsync_protocol::rules::Clock,
        rules::PauseInput,
        MentorFacts<'_>,
    ) -> Result<Created, mentorsync_protocol::Refusal>,
) -> Result<(Mentor, Created), DomainError> {
    let input = rules::input(ctx.clock(), a)?;
    let (mentor, coordinates, stale, open) = mentor_facts(ctx, &a.mentor_id).await?;
    let f = MentorFacts {
        mentor: &mentor,
        coordinates,
        stale,
        open_pauses: &open,
    };
    let verdict = rule(ctx.caller(), ctx.clock(), input, f);
    let created = ctx.decided((Entity::Mentor, &mentor.id), verdict).await?;
    write_created(ctx, &mentor, &created).await?;
    Ok((mentor, created))
}

/// A coordinator pauses a mentor now (or schedules a pause from `starts_at`).
pub async fn pause(ctx: &mut Ctx<'_>, a: &PauseMentor) -> Result<Primary, DomainError> {
    let (mentor, _) = create(ctx, a, rules::pause).await?;
    Ok((Entity::Mentor, mentor.id))
}

/// A mentor asks for a pause for themselves; their coordinator is told and decides.
pub async fn request(ctx: &mut Ctx<'_>, a: &PauseMentor) -> Result<Primary, DomainError> {
    let (mentor, created) = create(ctx, a, |caller, _, input, f| {
        rules::request(caller, input, f)
    })
    .await?;
    let pause_id = created.pause.id;
    ctx.notify(NewNotification {
        kind: "pause_requested",
        audience: Audience::Coordinator,
        mentor_id: Some(mentor.id.clone()),
        mentee_id: None,
        cohort_id: None,
        entity: Entity::Pause,
        entity_id: pause_id.clone(),
        message: format!(
            "{} asks for a pause: {}",
            mentor.display_name, created.pause.reason
        ),
    })
    .await?;
    Ok((Entity::Pause, pause_id))
}

/// Loads a pause (locked), its mentor, and the caller's ties. The mentor is locked only
/// when the decision may move them (the pause has begun), as before any decision.
pub(super) async fn pause_facts(
    ctx: &mut Ctx<'_>,
    pause_id: &str,
) -> Result<(Pause, Mentor, bool, bool), DomainError> {
    let pause: Pause = ctx.load(Entity::Pause, pause_id, true).await?;
    let coordinates = ctx.coordinates(&pause.mentor_id).await?;
    let stale = ctx.stale(pause.version);
    let may_move = pause.starts_at <= ctx.now || pause.status == PauseStatus::Active;
    let mentor: Mentor = ctx.load(Entity::Mentor, &pause.mentor_id, may_move).await?;
    Ok((pause, mentor, coordinates, stale))
}

/// Writes a decision on a pause: the mentor's move first, then the pause's.
pub(super) async fn write_decided(
    ctx: &mut Ctx<'_>,
    mentor: &Mentor,
    d: &Decided,
) -> Result<(), DomainError> {
    if let Some(m) = d.mentor {
        set_status(ctx, mentor, m).await?;
    }
    update_pause(ctx, &d.pause).await
}

async fn decide(
    ctx: &mut Ctx<'_>,
    pause_id: &str,
    rule: fn(
        mentorsync_protocol::rules::Caller<'_>,
        mentorsync_protocol::rules::Clock,
        PauseFacts<'_>,
    ) -> Result<Decided, mentorsync_protocol::Refusal>,
) -> Result<Primary, DomainError> {
    let (pause, mentor, coordinates, stale) = pause_facts(ctx, pause_id).await?;
    let f = PauseFacts {
        pause: &pause,
        mentor: &mentor,
        coordinates,
        stale,
    };
    let verdict = rule(ctx.caller(), ctx.clock(), f);
    let decided = ctx.decided((Entity::Pause, &pause.id), verdict).await?;
    write_decided(ctx, &mentor, &decided).await?;
    Ok((Entity::Pause, pause.id))
}

/// Approves a requested pause: active at once if it has started, else scheduled.
pub async fn approve(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    decide(ctx, pause_id, rules::approve).await
}

/// Declines a requested pause.
pub async fn decline(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    decide(ctx, pause_id, |caller, _, f| rules::decline(caller, f)).await
}

/// Cancels an open pause (a mentor's own request or scheduled pause; any, for whoever
/// manages the mentor).
pub async fn cancel(ctx: &mut Ctx<'_>, pause_id: &str) -> Result<Primary, DomainError> {
    decide(ctx, pause_id, rules::cancel).await
}

/// The id a scheduler-created pause gets.
pub(super) fn new_pause_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
