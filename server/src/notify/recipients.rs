//! Who receives a notification, decided when it is dispatched, never when it is written:
//! coordinators change, and the message must reach whoever looks after the mentor now.

use crate::db::{Tx, q};

/// The outcome of resolving a notification's audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Deliver to these users.
    To(Vec<String>),
    /// Nobody can receive it; recorded with the originating mentor.
    Nobody(String),
}

/// The mentor's active coordinator; else the chapter's first admin; else nobody. Disabled
/// accounts receive nothing.
pub async fn coordinator_or_admin(
    tx: &mut Tx,
    chapter_id: &str,
    mentor_id: Option<&str>,
) -> Result<Resolved, sqlx::Error> {
    if let Some(mentor) = mentor_id {
        let coordinator: Option<String> = tx
            .fetch_optional(
                q("SELECT ca.coordinator_id FROM coordinator_assignments ca JOIN users u ON u.id = ca.coordinator_id \
                   WHERE ca.mentor_id = $1 AND ca.status = 'active' AND u.chapter_id = $2 AND u.status = 'active'")
                .bind(mentor)
                .bind(chapter_id),
            )
            .await?;
        if let Some(c) = coordinator {
            return Ok(Resolved::To(vec![c]));
        }
    }
    let admin: Option<String> = tx
        .fetch_optional(
            q("SELECT id FROM users WHERE chapter_id = $1 AND role = 'admin' AND status = 'active' ORDER BY created_at, id LIMIT 1")
                .bind(chapter_id),
        )
        .await?;
    Ok(match admin {
        Some(a) => Resolved::To(vec![a]),
        None => Resolved::Nobody(format!(
            "no coordinator and no admin for mentor {}",
            mentor_id.unwrap_or("(none)")
        )),
    })
}

/// Every director of the cohort.
pub async fn cohort_directors(
    tx: &mut Tx,
    chapter_id: &str,
    cohort_id: Option<&str>,
) -> Result<Resolved, sqlx::Error> {
    let Some(cohort) = cohort_id else {
        return Ok(Resolved::Nobody("the mentee is in no cohort".into()));
    };
    let directors: Vec<String> = tx
        .fetch_all(
            q(
                "SELECT d.director_id FROM cohort_directors d JOIN users u ON u.id = d.director_id \
               WHERE d.cohort_id = $1 AND u.chapter_id = $2 AND u.status = 'active' ORDER BY d.director_id",
            )
            .bind(cohort)
            .bind(chapter_id),
        )
        .await?;
    Ok(if directors.is_empty() {
        Resolved::Nobody(format!("cohort {cohort} has no director"))
    } else {
        Resolved::To(directors)
    })
}

/// The mentee themself, while their account is active.
pub async fn mentee(
    tx: &mut Tx,
    chapter_id: &str,
    mentee_id: Option<&str>,
) -> Result<Resolved, sqlx::Error> {
    let Some(mentee) = mentee_id else {
        return Ok(Resolved::Nobody("the notification names no mentee".into()));
    };
    let active: Option<String> = tx
        .fetch_optional(
            q("SELECT id FROM users WHERE id = $1 AND chapter_id = $2 AND role = 'mentee' AND status = 'active'")
                .bind(mentee)
                .bind(chapter_id),
        )
        .await?;
    Ok(match active {
        Some(id) => Resolved::To(vec![id]),
        None => Resolved::Nobody(format!("mentee {mentee} has no active account")),
    })
}
