//! Cohorts and their directors. A director's scope set follows `cohort_directors`, so a
//! director added to a cohort sees its dashboard rows on the next pull, one removed stops
//! seeing them; `Tx::rescope` pokes their open streams.

use super::profile::enrolled;
use super::{Ctx, DomainError};
use crate::db::q;
use mentorsync_protocol::command::{CohortDirector, CreateCohort, Entity, UpdateCohort};
use mentorsync_protocol::model::{Account, Cohort};
use mentorsync_protocol::rules::admin as rules;
use mentorsync_protocol::rules::fresh;
use mentorsync_protocol::{ErrorCode, Refusal, Role};

type Primary = (Entity, String);

fn key_taken(key: &str) -> DomainError {
    DomainError::Refused(Refusal::new(
        ErrorCode::CONFLICT,
        format!("a cohort with the external id `{key}` exists already"),
    ))
}

async fn key_used(ctx: &mut Ctx<'_>, key: &str, other_than: &str) -> Result<bool, DomainError> {
    Ok(ctx
        .tx
        .exists(
            q("SELECT 1 FROM cohorts WHERE chapter_id = $1 AND external_id = $2 AND id <> $3")
                .bind(ctx.chapter().to_owned())
                .bind(key)
                .bind(other_than),
        )
        .await?)
}

/// Creates a cohort.
pub async fn create(ctx: &mut Ctx<'_>, a: &CreateCohort) -> Result<Primary, DomainError> {
    let c = rules::create_cohort(a, ctx.now)?;
    if let Some(key) = &c.external_id
        && key_used(ctx, key, &c.id).await?
    {
        return Err(key_taken(key));
    }
    ctx.tx
        .execute(
            q("INSERT INTO cohorts (id, chapter_id, external_id, name, starts_at, ends_at, seats, version, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)")
            .bind(c.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(c.external_id.clone())
            .bind(c.name.as_str())
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(c.seats)
            .bind(ctx.now),
        )
        .await?;
    ctx.audit(
        Entity::Cohort,
        &c.id,
        "create",
        None,
        "-",
        1,
        Some(serde_json::json!(c)),
    )
    .await?;
    Ok((Entity::Cohort, c.id))
}

async fn load(ctx: &mut Ctx<'_>, cohort_id: &str) -> Result<(Cohort, bool), DomainError> {
    let cohort: Cohort = ctx.load(Entity::Cohort, cohort_id, true).await?;
    let stale = ctx.stale(cohort.version);
    Ok((cohort, stale))
}

/// Bumps the cohort's version and audits what happened to it.
async fn touch(
    ctx: &mut Ctx<'_>,
    c: &Cohort,
    action: &str,
    details: serde_json::Value,
) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::Cohort,
        &c.id,
        q("UPDATE cohorts SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3")
            .bind(ctx.now)
            .bind(c.id.as_str())
            .bind(c.version),
    )
    .await?;
    ctx.audit(
        Entity::Cohort,
        &c.id,
        action,
        Some("-"),
        "-",
        c.version + 1,
        Some(details),
    )
    .await
}

/// Edits a cohort's name, dates or seats.
pub async fn update(ctx: &mut Ctx<'_>, a: &UpdateCohort) -> Result<Primary, DomainError> {
    let (c, stale) = load(ctx, &a.cohort_id).await?;
    let enrolled = enrolled(ctx, &c.id).await?;
    let verdict = rules::update_cohort(&c, a, enrolled, stale, ctx.now);
    let after = ctx.decided((Entity::Cohort, &c.id), verdict).await?;
    ctx.tx
        .execute(
            q("UPDATE cohorts SET name = $1, starts_at = $2, ends_at = $3, seats = $4 WHERE id = $5")
                .bind(after.name.as_str())
                .bind(after.starts_at)
                .bind(after.ends_at)
                .bind(after.seats)
                .bind(c.id.as_str()),
        )
        .await?;
    touch(ctx, &c, "update", serde_json::json!(after)).await?;
    Ok((Entity::Cohort, c.id))
}

/// Adds (`add`) or removes a director of a cohort.
pub async fn director(
    ctx: &mut Ctx<'_>,
    a: &CohortDirector,
    add: bool,
) -> Result<Primary, DomainError> {
    let director_id = mentorsync_protocol::rules::input::id("director_id", &a.director_id)?;
    let (c, stale) = load(ctx, &a.cohort_id).await?;
    let director: Account = ctx.load(Entity::User, &director_id, false).await?;
    ctx.decided((Entity::Cohort, &c.id), fresh(stale)).await?;
    let linked = ctx
        .tx
        .exists(
            q("SELECT 1 FROM cohort_directors WHERE cohort_id = $1 AND director_id = $2")
                .bind(c.id.as_str())
                .bind(director.id.as_str()),
        )
        .await?;
    if add {
        rules::require_role(&director, Role::Director)?;
    }
    if linked == add {
        let state = if add { "directs" } else { "does not direct" };
        return Err(Refusal::new(
            ErrorCode::INVALID_TRANSITION,
            format!("{} {state} {} already", director.display_name, c.name),
        )
        .into());
    }
    let sql = if add {
        "INSERT INTO cohort_directors (cohort_id, director_id) VALUES ($1, $2)"
    } else {
        "DELETE FROM cohort_directors WHERE cohort_id = $1 AND director_id = $2"
    };
    ctx.tx
        .execute(q(sql).bind(c.id.as_str()).bind(director.id.as_str()))
        .await?;
    ctx.tx.rescope(&director.id);
    let action = if add {
        "add_director"
    } else {
        "remove_director"
    };
    touch(
        ctx,
        &c,
        action,
        serde_json::json!({"director_id": director.id}),
    )
    .await?;
    Ok((Entity::Cohort, c.id))
}
