//! Authorization, in one place: the relationships the rule book's access rules read (a
//! coordinator's roster, a mentor's mentees), looked up in the database, for commands
//! (the rules themselves are `mentorsync_protocol::rules::access`), and who may see each
//! screen the API serves, for reads.

use super::{Actor, Ctx, DomainError};
use crate::db::{Tx, q};
use crate::read::workqueue::QueueOwner;
use mentorsync_protocol::Role;
use mentorsync_protocol::rules::Caller;
use mentorsync_protocol::rules::access::{self as rules, MenteeTies};

/// Whether `coordinator_id` currently coordinates `mentor_id` (looked up, never cached:
/// coordinators change).
pub async fn coordinates(
    tx: &mut Tx,
    coordinator_id: &str,
    mentor_id: &str,
) -> Result<bool, sqlx::Error> {
    tx.exists(
        q("SELECT 1 FROM coordinator_assignments WHERE coordinator_id = $1 AND mentor_id = $2 AND status = 'active'")
            .bind(coordinator_id)
            .bind(mentor_id),
    )
    .await
}

/// Whether `mentor_id` currently mentors `mentee_id`.
pub async fn mentors(tx: &mut Tx, mentor_id: &str, mentee_id: &str) -> Result<bool, sqlx::Error> {
    tx.exists(
        q("SELECT 1 FROM mentee_assignments WHERE mentor_id = $1 AND mentee_id = $2 AND status = 'active'")
            .bind(mentor_id)
            .bind(mentee_id),
    )
    .await
}

/// The mentee's current mentor, if any.
pub async fn current_mentor(tx: &mut Tx, mentee_id: &str) -> Result<Option<String>, sqlx::Error> {
    tx.fetch_optional::<String>(
        q("SELECT mentor_id FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'")
            .bind(mentee_id),
    )
    .await
}

/// Requires that the caller manage the mentor (the rule book's [`rules::manages_mentor`]).
pub async fn require_manages_mentor(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<(), DomainError> {
    let coordinates = ctx.coordinates(mentor_id).await?;
    Ok(rules::manages_mentor(ctx.caller(), coordinates)?)
}

/// Requires the mentor themselves or whoever manages them.
pub async fn require_mentor_or_manager(
    ctx: &mut Ctx<'_>,
    mentor_id: &str,
) -> Result<(), DomainError> {
    let coordinates = ctx.coordinates(mentor_id).await?;
    Ok(rules::mentor_or_manager(
        ctx.caller(),
        mentor_id,
        coordinates,
    )?)
}

/// The caller's ties to a mentee, looked up only for the roles the rule reads them for.
pub async fn mentee_ties(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<MenteeTies, DomainError> {
    let mut ties = MenteeTies::default();
    match ctx.caller() {
        Caller::Person {
            id,
            role: Role::Mentor,
        } => ties.mentors = mentors(ctx.tx, id, mentee_id).await?,
        Caller::Person {
            role: Role::Coordinator,
            ..
        } => {
            if let Some(mentor) = current_mentor(ctx.tx, mentee_id).await? {
                ties.coordinates_mentor = ctx.coordinates(&mentor).await?;
            }
        }
        _ => {}
    }
    Ok(ties)
}

/// Requires that the caller look after the mentee (the rule book's [`rules::mentee_access`]).
pub async fn require_mentee_access(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<(), DomainError> {
    let ties = mentee_ties(ctx, mentee_id).await?;
    Ok(rules::mentee_access(ctx.caller(), ties)?)
}

// Reads. Every screen the REST API serves asks here who may see it; the handlers hold no
// role matching and no relationship SQL of their own.

fn forbidden(message: &str) -> DomainError {
    DomainError::Forbidden(message.to_owned())
}

/// Requires one of `roles` (the scheduler reads nothing through the API).
fn require_role(actor: &Actor, roles: &[Role], refusal: &str) -> Result<Role, DomainError> {
    match actor.role() {
        Some(role) if roles.contains(&role) => Ok(role),
        _ => Err(forbidden(refusal)),
    }
}

/// Whose work queue the caller gets: a mentor their own; a coordinator their roster's or
/// one mentor's they coordinate; an admin the chapter's or one mentor's.
pub async fn work_queue_owner(
    tx: &mut Tx,
    actor: &Actor,
    asked: Option<String>,
) -> Result<QueueOwner, DomainError> {
    let me = actor.user_id().unwrap_or_default().to_owned();
    let role = require_role(
        actor,
        &[Role::Mentor, Role::Coordinator, Role::Admin],
        "the work queue is for mentors, coordinators and admins",
    )?;
    Ok(match (role, asked) {
        (Role::Mentor, None) => QueueOwner::Mentor(me),
        (Role::Mentor, Some(m)) if m == me => QueueOwner::Mentor(m),
        (Role::Coordinator, None) => QueueOwner::CoordinatedBy(me),
        (Role::Coordinator, Some(m)) if coordinates(tx, &me, &m).await? => QueueOwner::Mentor(m),
        (Role::Coordinator, Some(_)) => return Err(forbidden("you do not coordinate this mentor")),
        (Role::Admin, None) => QueueOwner::Chapter,
        (Role::Admin, Some(m)) => QueueOwner::Mentor(m),
        _ => {
            return Err(forbidden(
                "the work queue is for mentors, coordinators and admins",
            ));
        }
    })
}

/// Whose roster the caller gets: a coordinator their own; an admin the chapter's (`None`)
/// or one coordinator's.
pub fn roster_owner(actor: &Actor, asked: Option<String>) -> Result<Option<String>, DomainError> {
    let role = require_role(
        actor,
        &[Role::Coordinator, Role::Admin],
        "the roster is for coordinators and admins",
    )?;
    let me = actor.user_id().unwrap_or_default();
    match role {
        Role::Coordinator if asked.as_deref().is_some_and(|c| c != me) => {
            Err(forbidden("coordinators see their own roster"))
        }
        Role::Coordinator => Ok(Some(me.to_owned())),
        _ => Ok(asked),
    }
}

/// Which mentor's dashboard the caller gets: their own as a mentor, one they coordinate,
/// any of the chapter's as an admin. `Ok(None)`: the caller must name the mentor.
pub async fn mentor_dashboard_subject(
    tx: &mut Tx,
    actor: &Actor,
    asked: Option<String>,
) -> Result<Option<String>, DomainError> {
    let role = require_role(
        actor,
        &[Role::Mentor, Role::Coordinator, Role::Admin],
        "the mentor dashboard is for mentors and those who manage them",
    )?;
    let me = actor.user_id().unwrap_or_default();
    let Some(id) = asked else {
        return Ok((role == Role::Mentor).then(|| me.to_owned()));
    };
    let in_chapter = tx
        .exists(
            q("SELECT 1 FROM mentor_profiles WHERE user_id = $1 AND chapter_id = $2")
                .bind(id.as_str())
                .bind(actor.chapter_id.as_str()),
        )
        .await?;
    if !in_chapter {
        return Err(DomainError::NotFound(
            mentorsync_protocol::command::Entity::Mentor,
        ));
    }
    let allowed = match role {
        Role::Admin => true,
        Role::Mentor => id == me,
        _ => coordinates(tx, me, &id).await?,
    };
    match allowed {
        true => Ok(Some(id)),
        false => Err(forbidden("this is not a mentor you may look after")),
    }
}

/// Whose cohorts the caller sees: a director the cohorts they direct (their id), an admin
/// every cohort of the chapter (`None`).
pub fn cohort_director(actor: &Actor) -> Result<Option<&str>, DomainError> {
    match require_role(
        actor,
        &[Role::Director, Role::Admin],
        "director dashboards are for directors and admins",
    )? {
        Role::Director => Ok(actor.user_id()),
        _ => Ok(None),
    }
}

/// The chapter's audit trail is for admins.
pub fn may_read_audit(actor: &Actor) -> Result<(), DomainError> {
    require_role(actor, &[Role::Admin], "the audit trail is for admins").map(drop)
}

/// The live dashboard stream is a mentor's own.
pub fn may_stream_dashboard(actor: &Actor) -> Result<(), DomainError> {
    require_role(
        actor,
        &[Role::Mentor],
        "the dashboard stream is for mentors",
    )
    .map(drop)
}

/// A mentee's cockpit is for the people who look after mentees (which mentee: see
/// [`require_mentee_access`]).
pub fn may_open_cockpit(actor: &Actor) -> Result<(), DomainError> {
    require_role(
        actor,
        &[Role::Mentor, Role::Coordinator, Role::Admin],
        "the cockpit is for mentors, coordinators and admins",
    )
    .map(drop)
}
