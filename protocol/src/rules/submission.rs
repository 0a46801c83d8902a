//! Mission submissions. Submitting puts a high-priority review item (48 h) in the mentor's
//! queue; reviewing completes that item with it.

use super::work_item::NewItem;
use super::{Caller, Clock, Move, access, forbidden, fresh, input};
use crate::command::{ReviewDecision, SubmitMission};
use crate::machine::{SubmissionAction, WorkItemAction};
use crate::model::{Submission, WorkItem};
use crate::{Priority, Refusal, Role, SubmissionStatus, WorkItemKind, WorkItemStatus};

/// How long a mentor has to review a submission.
pub const REVIEW_SLA_MS: i64 = 48 * 3600 * 1000;

fn review_item(mentor_id: Option<String>, s: &Submission, now: i64) -> NewItem {
    NewItem {
        mentor_id,
        mentee_id: s.mentee_id.clone(),
        reference_id: s.id.clone(),
        kind: WorkItemKind::MissionReview,
        priority: Priority::High,
        sla_due_at: now + REVIEW_SLA_MS,
    }
}

/// A submission's input, checked and trimmed: `(submission_id, mission_ref, title, content)`.
pub fn submit_input(a: &SubmitMission) -> Result<[String; 4], Refusal> {
    Ok([
        input::new_id("submission_id", a.submission_id.as_deref())?,
        input::text("mission_ref", &a.mission_ref, 100)?,
        input::text("title", &a.title, 200)?,
        input::text("content", &a.content, 20_000)?,
    ])
}

/// The effects of a submission: the row and its review item.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The submission as it is to be written.
    pub submission: Submission,
    /// Its move, for a resubmission.
    pub change: Option<Move<SubmissionAction>>,
    /// The item for the reviewer's queue.
    pub review: NewItem,
}

/// A mentee submits a mission (`mentee_id` is the caller's own mentee row, which exists);
/// it goes to their current mentor.
pub fn submit(
    clock: Clock,
    mentee_id: &str,
    [id, mission_ref, title, content]: [String; 4],
    current_mentor: Option<&str>,
) -> Submitted {
    let submission = Submission {
        id,
        mentee_id: mentee_id.to_owned(),
        mentor_id: current_mentor.map(str::to_owned),
        mission_ref,
        title,
        content,
        status: SubmissionStatus::Submitted,
        submitted_at: clock.now,
        reviewed_at: None,
        reviewed_by: None,
        feedback: None,
        version: 1,
        updated_at: clock.now,
    };
    Submitted {
        review: review_item(submission.mentor_id.clone(), &submission, clock.now),
        submission,
        change: None,
    }
}

/// A mentee submits again after changes were requested; it goes to their current mentor
/// (or the one who asked for the changes, if they have none now).
pub fn resubmit(
    caller: Caller<'_>,
    clock: Clock,
    content: String,
    s: &Submission,
    stale: bool,
    current_mentor: Option<&str>,
) -> Result<Submitted, Refusal> {
    if !caller.is(&s.mentee_id) {
        return Err(forbidden("this is another mentee's submission"));
    }
    fresh(stale)?;
    let change = Move::of(s.status, SubmissionAction::Resubmit)?;
    let submission = Submission {
        status: change.to,
        content,
        mentor_id: current_mentor.map(str::to_owned).or(s.mentor_id.clone()),
        submitted_at: clock.now,
        updated_at: clock.now,
        ..s.clone()
    };
    Ok(Submitted {
        review: review_item(submission.mentor_id.clone(), &submission, clock.now),
        submission,
        change: Some(change),
    })
}

/// Checks a resubmission's content; trimmed.
pub fn resubmit_input(content: &str) -> Result<String, Refusal> {
    input::text("content", content, 20_000)
}

/// What a review needs to know.
#[derive(Debug, Clone, Copy)]
pub struct ReviewFacts<'a> {
    /// The submission.
    pub submission: &'a Submission,
    /// Who reviews it: the mentor it went to, else the mentee's current mentor.
    pub reviewer: Option<&'a str>,
    /// The caller currently mentors the submission's mentee.
    pub mentors_mentee: bool,
    /// The caller coordinates the reviewer.
    pub coordinates_reviewer: bool,
    /// The caller expected another version of the submission.
    pub stale: bool,
    /// Its open and in-progress review items.
    pub items: &'a [WorkItem],
}

/// The effects of a review.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// The submission's move.
    pub change: Move<SubmissionAction>,
    /// The feedback, trimmed (none when blank).
    pub feedback: Option<String>,
    /// Each review item and its moves (claimed if still open, then completed).
    pub items: Vec<(WorkItem, Vec<Move<WorkItemAction>>)>,
}

/// Checks a review's feedback.
pub fn review_input(feedback: Option<&str>) -> Result<Option<String>, Refusal> {
    input::optional_text("feedback", feedback, 5_000)
}

/// A mentor reviews a submission and so finishes its queue items.
pub fn review(
    caller: Caller<'_>,
    feedback: Option<String>,
    decision: ReviewDecision,
    f: ReviewFacts<'_>,
) -> Result<Reviewed, Refusal> {
    match caller.role() {
        Some(Role::Mentor) => {
            if f.reviewer.is_none_or(|r| !caller.is(r)) && !f.mentors_mentee {
                return Err(forbidden("this submission is not yours to review"));
            }
        }
        _ => match f.reviewer {
            Some(_) => access::manages_mentor(caller, f.coordinates_reviewer)?,
            None if caller.chapter_wide() => {}
            None => return Err(forbidden("unassigned submissions are reviewed by admins")),
        },
    }
    fresh(f.stale)?;
    let action = match decision {
        ReviewDecision::Approved => SubmissionAction::Approve,
        ReviewDecision::ChangesRequested => SubmissionAction::RequestChanges,
    };
    let change = Move::of(f.submission.status, action)?;
    let items = f
        .items
        .iter()
        .map(|item| {
            let mut moves = Vec::new();
            let mut status = item.status;
            if status == WorkItemStatus::Open {
                let claim = Move::of(status, WorkItemAction::Claim)?;
                status = claim.to;
                moves.push(claim);
            }
            moves.push(Move::of(status, WorkItemAction::Complete)?);
            Ok((item.clone(), moves))
        })
        .collect::<Result<_, Refusal>>()?;
    Ok(Reviewed {
        change,
        feedback,
        items,
    })
}
