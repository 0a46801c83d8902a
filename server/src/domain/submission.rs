//! Mission submissions. Submitting puts a high-priority review item (48 h SLA) in the
//! mentor's queue; reviewing completes that item in the same transaction.

use super::access::{current_mentor, mentors, require_manages_mentor};
use super::work_item::{self, NewItem};
use super::{Ctx, DomainError, validate};
use crate::db::q;
use crate::rows::{StoredWorkItem, WORK_ITEM_COLUMNS};
use mentorsync_protocol::command::{
    Entity, ResubmitMission, ReviewDecision, ReviewMission, SubmitMission,
};
use mentorsync_protocol::machine::{SubmissionAction, WorkItemAction, transition};
use mentorsync_protocol::model::{Mentee, Submission, WorkItem};
use mentorsync_protocol::{Priority, Role, WorkItemKind, WorkItemStatus};

type Primary = (Entity, String);

/// How long a mentor has to review a submission.
pub const REVIEW_SLA_MS: i64 = 48 * 3600 * 1000;

async fn queue_review(
    ctx: &mut Ctx<'_>,
    mentor_id: Option<&str>,
    mentee_id: &str,
    submission_id: &str,
) -> Result<(), DomainError> {
    work_item::create(
        ctx,
        NewItem {
            mentor_id,
            mentee_id: Some(mentee_id),
            kind: WorkItemKind::MissionReview,
            priority: Priority::High,
            sla_ms: REVIEW_SLA_MS,
            reference_id: Some(submission_id),
        },
    )
    .await?;
    Ok(())
}

/// A mentee submits a mission.
pub async fn submit(ctx: &mut Ctx<'_>, a: &SubmitMission) -> Result<Primary, DomainError> {
    let id = ctx.new_id("submission_id", a.submission_id.as_deref())?;
    let mission_ref = validate::text("mission_ref", &a.mission_ref, 100)?;
    let title = validate::text("title", &a.title, 200)?;
    let content = validate::text("content", &a.content, 20_000)?;
    let me = ctx.actor.user_id().unwrap_or_default().to_owned();
    let mentee: Mentee = ctx.load(Entity::Mentee, &me, false).await?;
    let mentor = current_mentor(ctx.tx, &mentee.id).await?;
    ctx.tx
        .execute(
            q("INSERT INTO mission_submissions (id, chapter_id, mentee_id, mentor_id, mission_ref, title, content, \
               status, submitted_at, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, 1, $8)")
            .bind(id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(mentee.id.as_str())
            .bind(mentor.clone())
            .bind(mission_ref)
            .bind(title)
            .bind(content)
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::Submission,
        &id,
        "create",
        None,
        "submitted",
        1,
        None,
    )
    .await?;
    queue_review(ctx, mentor.as_deref(), &mentee.id, &id).await?;
    Ok((Entity::Submission, id))
}

/// A mentee submits again after changes were requested.
pub async fn resubmit(ctx: &mut Ctx<'_>, a: &ResubmitMission) -> Result<Primary, DomainError> {
    let content = validate::text("content", &a.content, 20_000)?;
    let s: Submission = ctx.load(Entity::Submission, &a.submission_id, true).await?;
    if !ctx.actor.is(&s.mentee_id) {
        return Err(DomainError::Forbidden(
            "this is another mentee's submission".into(),
        ));
    }
    ctx.check_version(Entity::Submission, &s.id, s.version)
        .await?;
    let next = transition(s.status, SubmissionAction::Resubmit)?;
    let mentor = current_mentor(ctx.tx, &s.mentee_id)
        .await?
        .or(s.mentor_id.clone());
    if mentor != s.mentor_id {
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
        .bind(next.as_str())
        .bind(content)
        .bind(mentor.clone())
        .bind(ctx.now)
        .bind(s.id.as_str())
        .bind(s.version),
    )
    .await?;
    ctx.audit(
        Entity::Submission,
        &s.id,
        "resubmit",
        Some(s.status.as_str()),
        next.as_str(),
        s.version + 1,
        None,
    )
    .await?;
    queue_review(ctx, mentor.as_deref(), &s.mentee_id, &s.id).await?;
    Ok((Entity::Submission, s.id))
}

/// A mentor reviews a submission and so finishes its queue item.
pub async fn review(ctx: &mut Ctx<'_>, a: &ReviewMission) -> Result<Primary, DomainError> {
    let feedback = validate::optional_text("feedback", a.feedback.as_deref(), 5_000)?;
    let s: Submission = ctx.load(Entity::Submission, &a.submission_id, true).await?;
    let reviewer_of_record = match s.mentor_id.clone() {
        Some(m) => Some(m),
        None => current_mentor(ctx.tx, &s.mentee_id).await?,
    };
    match ctx.actor.role() {
        Some(Role::Mentor) => {
            let me = ctx.actor.user_id().unwrap_or_default().to_owned();
            if reviewer_of_record.as_deref() != Some(me.as_str())
                && !mentors(ctx.tx, &me, &s.mentee_id).await?
            {
                return Err(DomainError::Forbidden(
                    "this submission is not yours to review".into(),
                ));
            }
        }
        _ => match reviewer_of_record.as_deref() {
            Some(m) => require_manages_mentor(ctx, m).await?,
            None if ctx.actor.is_chapter_wide() => {}
            None => {
                return Err(DomainError::Forbidden(
                    "unassigned submissions are reviewed by admins".into(),
                ));
            }
        },
    }
    ctx.check_version(Entity::Submission, &s.id, s.version)
        .await?;
    let action = match a.decision {
        ReviewDecision::Approved => SubmissionAction::Approve,
        ReviewDecision::ChangesRequested => SubmissionAction::RequestChanges,
    };
    let next = transition(s.status, action)?;
    ctx.versioned_update(
        Entity::Submission,
        &s.id,
        q("UPDATE mission_submissions SET status = $1, reviewed_at = $2, reviewed_by = $3, feedback = $4, \
           version = version + 1, updated_at = $2 WHERE id = $5 AND version = $6")
        .bind(next.as_str())
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
        next.as_str(),
        s.version + 1,
        None,
    )
    .await?;

    // Finish the review item(s) in the same transaction: claim if still open, then complete.
    let sql = format!(
        "SELECT {WORK_ITEM_COLUMNS} FROM work_items WHERE reference_id = $1 AND kind = 'mission_review' \
         AND status IN ('open', 'in_progress'){}",
        ctx.tx.for_update()
    );
    let items: Vec<StoredWorkItem> = ctx.tx.fetch_all(q(sql).bind(s.id.as_str())).await?;
    for item in items {
        let mut item: WorkItem = item.at(ctx.now);
        if item.status == WorkItemStatus::Open {
            item.version = work_item::apply(ctx, &item, WorkItemAction::Claim).await?;
            item.status = WorkItemStatus::InProgress;
        }
        work_item::apply(ctx, &item, WorkItemAction::Complete).await?;
    }
    Ok((Entity::Submission, s.id))
}
