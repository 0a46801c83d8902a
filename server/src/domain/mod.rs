//! Domain commands: the only code that changes domain rows.
//!
//! [`execute`] runs one [`Command`] inside a transaction the caller opened and will commit:
//! it loads the facts the command needs under row locks, decides with the rule book
//! (`mentorsync_protocol::rules`, the same decision the device makes offline), and writes
//! the effects: versioned UPDATEs, inserts, an audit row per status change. The REST
//! endpoints and sync push both call it, and everything that must commit together with a
//! change (audit, change log, notification outbox) joins the same transaction through
//! [`Ctx`].

pub mod access;
mod account;
mod assignment;
mod cohort;
mod context;
mod coordination;
mod error;
mod flag;
mod inbox;
mod mentor;
mod notes;
mod pause;
mod profile;
mod session;
mod submission;
mod system;
mod work_item;

pub use access::{
    coordinates, mentors, require_manages_mentor, require_mentee_access, require_mentor_or_manager,
};
pub use context::{Actor, ActorKind, Applied, Changed, Ctx, Done};
pub use error::DomainError;
pub use notes::{Premerged, premerge};
pub use system::{SystemCommand, execute_system};

use crate::db::{Tx, q};
use mentorsync_protocol::machine::{AccountAction, FlagAction, SessionAction, WorkItemAction};
use mentorsync_protocol::rules::inbox::InboxAction;
use mentorsync_protocol::{Command, Role};

/// Runs `command` as `actor` at `now` in `tx` and reads its main row back. On error the
/// caller must roll back (dropping the transaction does): a command either happens
/// completely or not at all.
pub async fn execute(
    tx: &mut Tx,
    actor: &Actor,
    now: i64,
    command: &Command,
    expected_version: Option<i64>,
) -> Result<Applied, DomainError> {
    apply_premerged(tx, actor, now, command, expected_version, None)
        .await?
        .with_row(tx, &actor.chapter_id, now)
        .await
}

/// [`execute`] without reading the main row back.
pub async fn apply(
    tx: &mut Tx,
    actor: &Actor,
    now: i64,
    command: &Command,
    expected_version: Option<i64>,
) -> Result<Done, DomainError> {
    apply_premerged(tx, actor, now, command, expected_version, None).await
}

/// [`apply`] with work done before the transaction ([`premerge`]): a notes edit merged
/// without the write lock.
pub async fn apply_premerged(
    tx: &mut Tx,
    actor: &Actor,
    now: i64,
    command: &Command,
    expected_version: Option<i64>,
    premerged: Option<Premerged>,
) -> Result<Done, DomainError> {
    let mut ctx = Ctx::new(tx, actor, now, expected_version).with_premerged(premerged);
    mentorsync_protocol::rules::access::may_issue(ctx.caller(), command)?;
    if let (Some(Role::Mentor), Some(me)) = (actor.role(), actor.user_id()) {
        let status: Option<String> = ctx
            .tx
            .fetch_optional(
                q("SELECT status FROM mentor_profiles WHERE user_id = $1").bind(me.to_owned()),
            )
            .await?;
        if let Some(status) = status.and_then(|s| s.parse().ok()) {
            mentorsync_protocol::rules::mentor::require_mentor_active(status)?;
        }
    }
    use Command::*;
    let primary = match command {
        PauseMentor(a) => pause::pause(&mut ctx, a).await?,
        ResumeMentor(a) => mentor::resume(&mut ctx, &a.mentor_id).await?,
        DeactivateMentor(a) => mentor::deactivate(&mut ctx, &a.mentor_id).await?,
        ReactivateMentor(a) => mentor::reactivate(&mut ctx, &a.mentor_id).await?,
        RequestPause(a) => pause::request(&mut ctx, a).await?,
        ApprovePause(a) => pause::approve(&mut ctx, &a.pause_id).await?,
        DeclinePause(a) => pause::decline(&mut ctx, &a.pause_id).await?,
        CancelPause(a) => pause::cancel(&mut ctx, &a.pause_id).await?,
        AssignMentee(a) => assignment::assign(&mut ctx, a).await?,
        EndAssignment(a) => assignment::end(&mut ctx, &a.assignment_id).await?,
        ScheduleSession(a) => session::schedule(&mut ctx, a).await?,
        CompleteSession(a) => {
            session::finish(&mut ctx, &a.session_id, SessionAction::Complete).await?
        }
        CancelSession(a) => session::finish(&mut ctx, &a.session_id, SessionAction::Cancel).await?,
        MarkNoShow(a) => session::finish(&mut ctx, &a.session_id, SessionAction::NoShow).await?,
        EditSessionNotes(a) => session::edit_notes(&mut ctx, a).await?,
        SubmitMission(a) => submission::submit(&mut ctx, a).await?,
        ResubmitMission(a) => submission::resubmit(&mut ctx, a).await?,
        ReviewMission(a) => submission::review(&mut ctx, a).await?,
        ClaimWorkItem(a) => work_item::act(&mut ctx, &a.item_id, WorkItemAction::Claim).await?,
        CompleteWorkItem(a) => {
            work_item::act(&mut ctx, &a.item_id, WorkItemAction::Complete).await?
        }
        CancelWorkItem(a) => work_item::act(&mut ctx, &a.item_id, WorkItemAction::Cancel).await?,
        RaiseFlag(a) => flag::raise(&mut ctx, a).await?,
        AcknowledgeFlag(a) => flag::decide(&mut ctx, &a.flag_id, FlagAction::Acknowledge).await?,
        ResolveFlag(a) => flag::decide(&mut ctx, &a.flag_id, FlagAction::Resolve).await?,
        CreateUser(a) => account::create(&mut ctx, a).await?,
        UpdateUser(a) => account::update(&mut ctx, a).await?,
        ChangeRole(a) => account::change_role(&mut ctx, a).await?,
        DisableUser(a) => account::set_status(&mut ctx, &a.user_id, AccountAction::Disable).await?,
        EnableUser(a) => account::set_status(&mut ctx, &a.user_id, AccountAction::Enable).await?,
        UpdateMentor(a) => profile::update_mentor(&mut ctx, a).await?,
        RenewCertification(a) => profile::renew_certification(&mut ctx, a).await?,
        AssignCoordinator(a) => coordination::assign(&mut ctx, a).await?,
        UpdateMentee(a) => profile::update_mentee(&mut ctx, a).await?,
        EnrolMentee(a) => profile::enrol(&mut ctx, a).await?,
        CreateCohort(a) => cohort::create(&mut ctx, a).await?,
        UpdateCohort(a) => cohort::update(&mut ctx, a).await?,
        AddCohortDirector(a) => cohort::director(&mut ctx, a, true).await?,
        RemoveCohortDirector(a) => cohort::director(&mut ctx, a, false).await?,
        ReadInboxItem(a) => inbox::act(&mut ctx, &a.item_id, InboxAction::Read).await?,
        DismissInboxItem(a) => inbox::act(&mut ctx, &a.item_id, InboxAction::Dismiss).await?,
    };
    ctx.finish(primary).await
}
