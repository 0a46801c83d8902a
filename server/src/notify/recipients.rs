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

/// The mentor's active coordinator; else the chapter's first admin; else nobody.
pub async fn coordinator_or_admin(
    tx: &mut Tx,
    chapter_id: &str,
    mentor_id: Option<&str>,
) -> Result<Resolved, sqlx::Error> {
    if let Some(mentor) = mentor_id {
        let coordinator: Option<String> = tx
            .fetch_optional(
                q("SELECT ca.coordinator_id FROM coordinator_assignments ca JOIN users u ON u.id = ca.coordinator_id \
                   WHERE ca.mentor_id = $1 AND ca.status = 'active' AND u.chapter_id = $2")
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
            q("SELECT id FROM users WHERE chapter_id = $1 AND role = 'admin' ORDER BY created_at, id LIMIT 1")
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
               WHERE d.cohort_id = $1 AND u.chapter_id = $2 ORDER BY d.director_id",
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
