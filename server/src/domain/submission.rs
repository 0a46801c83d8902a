//! Mission submissions: facts under lock and the writes of the effects (the submission,
//! its review item, the item's completion on review). The rules are
//! `mentorsync_protocol::rules::submission`.

use super::access::{current_mentor, mentors};
use super::{Ctx, DomainError, work_item};
use crate::db::q;
use crate::rows::{StoredWorkItem, WORK_ITEM_COLUMNS};
use mentorsync_protocol::Role;
use mentorsync_protocol::command::{Entity, ResubmitMission, ReviewMission, SubmitMission};
use mentorsync_protocol::model::{Mentee, Submission, WorkItem};
use mentorsync_protocol::rules::submission::{self as rules, ReviewFacts};
use mentorsync_protocol::rules::{Caller, Move};

type Primary = (Entity, String);

/// A mentee submits a mission.
pub async fn submit(ctx: &mut Ctx<'_>, a: &SubmitMission) -> Result<Primary, DomainError> {
    let input = rules::submit_input(a)?;
    let me = ctx.actor.user_id().unwrap_or_default().to_owned();
    let mentee: Mentee = ctx.load(Entity::Mentee, &me, false).await?;
    let mentor = current_mentor(ctx.tx, &mentee.id).await?;
    let done = rules::submit(ctx.clock(), &mentee.id, input, mentor.as_deref());
    let s = &done.submission;
    ctx.tx
        .execute(
            q("INSERT INTO mission_submissions (id, chapter_id, mentee_id, mentor_id, mission_ref, title, content, \
               status, submitted_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $9)")
            .bind(s.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(s.mentee_id.as_str())
            .bind(s.mentor_id.as_deref())
            .bind(s.mission_ref.as_str())
            .bind(s.title.as_str())
            .bind(s.content.as_str())
            .bind(s.status.as_str())
            .bind(s.submitted_at),
        )
        .await?;
    ctx.audit(
        Entity::Submission,
        &s.id,
        "create",
        None,
        s.status.as_str(),
        1,
        None,
    )
    .await?;
    work_item::queue(ctx, &done.review).await?;
    Ok((Entity::Submission, done.submission.id))
}

/// A mentee submits again after changes were requested.
pub async fn resubmit(ctx: &mut Ctx<'_>, a: &ResubmitMission) -> Result<Primary, DomainError> {
    let content = rules::resubmit_input(&a.content)?;
    let s: Submission = ctx.load(Entity::Submission, &a.submission_id, true).await?;
    let stale = ctx.stale(s.version);
    let mentor = match ctx.caller().is(&s.mentee_id) {
        true => current_mentor(ctx.tx, &s.mentee_id).await?,
        false => None,
    };
    let verdict = rules::resubmit(
        ctx.caller(),
        ctx.clock(),
        content,
        &s,
        stale,
        mentor.as_deref(),
    );
    let done = ctx.decided((Entity::Submission, &s.id), verdict).await?;
    let next = &done.submission;
    if next.mentor_id != s.mentor_id {
        ctx.scope_moved(
            Entity::Submission,
            &s.id,
            s.version,
            crate::rows::Scope {
                mentor_id: s.mentor_id.clone(),
                mentee_id: Some(s.mentee_id.clone()),
                ..Default::default()
            },
        );
    }
    ctx.versioned_update(
        Entity::Submission,
        &s.id,
        q("UPDATE mission_submissions SET status = $1, content = $2, mentor_id = $3, submitted_at = $4, \
           version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6")
        .bind(next.status.as_str())
        .bind(next.content.as_str())
        .bind(next.mentor_id.as_deref())
        .bind(next.submitted_at)
        .bind(s.id.as_str())
        .bind(s.version),
    )
    .await?;
    ctx.audit(
        Entity::Submission,
        &s.id,
        "resubmit",
        Some(s.status.as_str()),
        next.status.as_str(),
        s.version + 1,
        None,
    )
    .await?;
    work_item::queue(ctx, &done.review).await?;
    Ok((Entity::Submission, s.id))
}

/// A mentor reviews a submission and so finishes its queue item.
pub async fn review(ctx: &mut Ctx<'_>, a: &ReviewMission) -> Result<Primary, DomainError> {
    let feedback = rules::review_input(a.feedback.as_deref())?;
    let s: Submission = ctx.load(Entity::Submission, &a.submission_id, true).await?;
    let reviewer = match s.mentor_id.clone() {
        Some(m) => Some(m),
        None => current_mentor(ctx.tx, &s.mentee_id).await?,
    };
    let mentors_mentee = match ctx.caller() {
        Caller::Person {
            id,
            role: Role::Mentor,
        } if reviewer.as_deref() != Some(id) => mentors(ctx.tx, id, &s.mentee_id).await?,
        _ => false,
    };
    let coordinates_reviewer = match &reviewer {
        Some(r) => ctx.coordinates(r).await?,
        None => false,
    };
    let stale = ctx.stale(s.version);
    let sql = format!(
        "SELECT {WORK_ITEM_COLUMNS} FROM work_items WHERE reference_id = $1 AND kind = 'mission_review' \
         AND status IN ('open', 'in_progress'){}",
        ctx.tx.for_update()
    );
    let items: Vec<StoredWorkItem> = ctx.tx.fetch_all(q(sql).bind(s.id.as_str())).await?;
    let items: Vec<WorkItem> = items.into_iter().map(|i| i.at(ctx.now)).collect();
    let f = ReviewFacts {
        submission: &s,
        reviewer: reviewer.as_deref(),
        mentors_mentee,
        coordinates_reviewer,
        stale,
        items: &items,
    };
    let verdict = rules::review(ctx.caller(), feedback, a.decision, f);
    let done = ctx.decided((Entity::Submission, &s.id), verdict).await?;
    write_review(ctx, &s, done.change, done.feedback.as_deref()).await?;
    for (mut item, moves) in done.items {
        for m in moves {
            item.version = work_item::write(ctx, &item, m).await?;
            item.status = m.to;
        }
    }
    Ok((Entity::Submission, s.id))
}

async fn write_review(
    ctx: &mut Ctx<'_>,
    s: &Submission,
    m: Move<mentorsync_protocol::machine::SubmissionAction>,
    feedback: Option<&str>,
) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::Submission,
        &s.id,
        q("UPDATE mission_submissions SET status = $1, reviewed_at = $2, reviewed_by = $3, feedback = $4, \
           version = version + 1, updated_at = $2 WHERE id = $5 AND version = $6")
        .bind(m.to.as_str())
        .bind(ctx.now)
        .bind(ctx.actor.user_id())
        .bind(feedback)
        .bind(s.id.as_str())
        .bind(s.version),
    )
    .await?;
    ctx.audit(
        Entity::Submission,
        &s.id,
        "review",
        Some(s.status.as_str()),
        m.to.as_str(),
        s.version + 1,
        None,
    )
    .await
}
