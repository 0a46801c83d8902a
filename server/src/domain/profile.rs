//! Mentor and mentee profiles: capacity, specialties and availability, a renewed
//! certification, a mentee's interests and cohort. Rules: `mentorsync_protocol::rules::admin`.

use super::{Ctx, DomainError};
use crate::db::q;
use mentorsync_protocol::command::{
    EnrolMentee, Entity, RenewCertification, UpdateMentee, UpdateMentor,
};
use mentorsync_protocol::model::{Cohort, Mentee, Mentor};
use mentorsync_protocol::rules::admin as rules;
use mentorsync_protocol::{ErrorCode, Refusal};

type Primary = (Entity, String);

/// Loads a mentor (locked) with the caller's ties and version check.
async fn mentor(ctx: &mut Ctx<'_>, mentor_id: &str) -> Result<(Mentor, bool, bool), DomainError> {
    let mentor: Mentor = ctx.load(Entity::Mentor, mentor_id, true).await?;
    let coordinates = ctx.coordinates(&mentor.id).await?;
    let stale = ctx.stale(mentor.version);
    Ok((mentor, coordinates, stale))
}

/// Audits a profile change of a mentor; the status stays (reconciliation reads it).
async fn audit_mentor(
    ctx: &mut Ctx<'_>,
    m: &Mentor,
    action: &str,
    details: serde_json::Value,
) -> Result<(), DomainError> {
    let status = m.status.as_str();
    ctx.audit(
        Entity::Mentor,
        &m.id,
        action,
        Some(status),
        status,
        m.version + 1,
        Some(details),
    )
    .await
}

/// Edits a mentor's capacity, specialties or availability.
pub async fn update_mentor(ctx: &mut Ctx<'_>, a: &UpdateMentor) -> Result<Primary, DomainError> {
    let (m, coordinates, stale) = mentor(ctx, &a.mentor_id).await?;
    let held: i64 = ctx
        .tx
        .fetch_one(
            q("SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'")
                .bind(m.id.as_str()),
        )
        .await?;
    let verdict = rules::update_mentor(ctx.caller(), &m, a, coordinates, stale, held, ctx.now);
    let after = ctx.decided((Entity::Mentor, &m.id), verdict).await?;
    ctx.versioned_update(
        Entity::Mentor,
        &m.id,
        q(
            "UPDATE mentor_profiles SET capacity_weekly = $1, specialties = $2, availability = $3, \
           version = version + 1, updated_at = $4 WHERE user_id = $5 AND version = $6",
        )
        .bind(after.capacity_weekly)
        .bind(serde_json::to_string(&after.specialties).unwrap_or_default())
        .bind(after.availability.to_string())
        .bind(ctx.now)
        .bind(m.id.as_str())
        .bind(m.version),
    )
    .await?;
    let details = serde_json::json!({"capacity_weekly": after.capacity_weekly,
        "specialties": after.specialties, "availability": after.availability});
    audit_mentor(ctx, &m, "update_profile", details).await?;
    Ok((Entity::Mentor, m.id))
}

/// Records a renewed certification, so that resume and reactivate work again.
pub async fn renew_certification(
    ctx: &mut Ctx<'_>,
    a: &RenewCertification,
) -> Result<Primary, DomainError> {
    let (m, coordinates, stale) = mentor(ctx, &a.mentor_id).await?;
    let verdict =
        rules::renew_certification(ctx.caller(), ctx.now, a.expires_at, coordinates, stale);
    let expires_at = ctx.decided((Entity::Mentor, &m.id), verdict).await?;
    ctx.versioned_update(
        Entity::Mentor,
        &m.id,
        q("UPDATE mentor_profiles SET certification_expires_at = $1, version = version + 1, updated_at = $2 \
           WHERE user_id = $3 AND version = $4")
        .bind(expires_at)
        .bind(ctx.now)
        .bind(m.id.as_str())
        .bind(m.version),
    )
    .await?;
    let details =
        serde_json::json!({"expires_at": expires_at, "before": m.certification_expires_at});
    audit_mentor(ctx, &m, "renew_certification", details).await?;
    Ok((Entity::Mentor, m.id))
}

async fn mentee(ctx: &mut Ctx<'_>, mentee_id: &str) -> Result<(Mentee, bool), DomainError> {
    let mentee: Mentee = ctx.load(Entity::Mentee, mentee_id, true).await?;
    let stale = ctx.stale(mentee.version);
    Ok((mentee, stale))
}

/// Writes a mentee's interests and cohort with the version checked, and audits it.
async fn save_mentee(
    ctx: &mut Ctx<'_>,
    before: &Mentee,
    interests: &[String],
    cohort_id: Option<&str>,
    action: &str,
) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::Mentee,
        &before.id,
        q("UPDATE mentee_profiles SET interests = $1, cohort_id = $2, version = version + 1, updated_at = $3 \
           WHERE user_id = $4 AND version = $5")
        .bind(serde_json::to_string(interests).unwrap_or_default())
        .bind(cohort_id.map(str::to_owned))
        .bind(ctx.now)
        .bind(before.id.as_str())
        .bind(before.version),
    )
    .await?;
    let details = serde_json::json!({"interests": interests, "cohort_id": cohort_id});
    ctx.audit(
        Entity::Mentee,
        &before.id,
        action,
        Some("-"),
        "-",
        before.version + 1,
        Some(details),
    )
    .await
}

/// Edits a mentee's interests (matching reads them against specialties).
pub async fn update_mentee(ctx: &mut Ctx<'_>, a: &UpdateMentee) -> Result<Primary, DomainError> {
    let interests = rules::topics("interests", &a.interests)?;
    let (m, stale) = mentee(ctx, &a.mentee_id).await?;
    ctx.decided(
        (Entity::Mentee, &m.id),
        mentorsync_protocol::rules::fresh(stale),
    )
    .await?;
    save_mentee(
        ctx,
        &m,
        &interests,
        m.cohort_id.as_deref(),
        "update_profile",
    )
    .await?;
    Ok((Entity::Mentee, m.id))
}

/// Enrols a mentee in a cohort with a free seat, or takes them out of theirs.
pub async fn enrol(ctx: &mut Ctx<'_>, a: &EnrolMentee) -> Result<Primary, DomainError> {
    let cohort_id = a
        .cohort_id
        .as_deref()
        .map(|c| mentorsync_protocol::rules::input::id("cohort_id", c))
        .transpose()?;
    let (m, stale) = mentee(ctx, &a.mentee_id).await?;
    ctx.decided(
        (Entity::Mentee, &m.id),
        mentorsync_protocol::rules::fresh(stale),
    )
    .await?;
    match &cohort_id {
        Some(id) => {
            // The cohort is locked, so two enrolments cannot both take its last seat.
            let cohort: Cohort = ctx.load(Entity::Cohort, id, true).await?;
            let enrolled = enrolled(ctx, &cohort.id).await?;
            rules::enrol(&cohort, enrolled, m.cohort_id.as_deref() == Some(id))?;
        }
        None if m.cohort_id.is_none() => {
            return Err(
                Refusal::new(ErrorCode::INVALID_TRANSITION, "the mentee is in no cohort").into(),
            );
        }
        None => {}
    }
    save_mentee(ctx, &m, &m.interests, cohort_id.as_deref(), "enrol").await?;
    Ok((Entity::Mentee, m.id))
}

/// How many mentees a cohort holds.
pub(super) async fn enrolled(ctx: &mut Ctx<'_>, cohort_id: &str) -> Result<i64, DomainError> {
    Ok(ctx
        .tx
        .fetch_one(q("SELECT COUNT(*) FROM mentee_profiles WHERE cohort_id = $1").bind(cohort_id))
        .await?)
}
