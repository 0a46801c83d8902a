//! The outbox: a notification is a row written in the same transaction as the change it
//! announces, so it exists exactly when its cause committed.

use crate::db::{Tx, q};
use mentorsync_protocol::command::Entity;

/// How the recipient is found at dispatch time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The mentor's current coordinator, else the chapter admin.
    Coordinator,
    /// The directors of the cohort.
    CohortDirectors,
    /// The mentee it is about (a session with them was scheduled or cancelled).
    Mentee,
}

impl Audience {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Coordinator => "coordinator",
            Audience::CohortDirectors => "cohort_directors",
            Audience::Mentee => "mentee",
        }
    }
}

/// A notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// What happened (`pause_requested`, `flag_raised`, …).
    pub kind: &'static str,
    /// Who should hear of it.
    pub audience: Audience,
    /// The mentor it originates from (decides the coordinator).
    pub mentor_id: Option<String>,
    /// The mentee it is about, if any.
    pub mentee_id: Option<String>,
    /// The cohort, for [`Audience::CohortDirectors`].
    pub cohort_id: Option<String>,
    /// The row it is about.
    pub entity: Entity,
    /// That row's id.
    pub entity_id: String,
    /// One line for a person.
    pub message: String,
}

/// Writes `n` to the outbox in `tx`; due for dispatch at once.
pub async fn enqueue(
    tx: &mut Tx,
    chapter_id: &str,
    now: i64,
    n: &NewNotification,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    tx.execute(
        q("INSERT INTO notifications (id, chapter_id, kind, audience, mentor_id, mentee_id, cohort_id, entity, \
           entity_id, message, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)")
        .bind(id.as_str())
        .bind(chapter_id)
        .bind(n.kind)
        .bind(n.audience.as_str())
        .bind(n.mentor_id.clone())
        .bind(n.mentee_id.clone())
        .bind(n.cohort_id.clone())
        .bind(n.entity.as_str())
        .bind(n.entity_id.as_str())
        .bind(n.message.as_str())
        .bind(now),
    )
    .await?;
    Ok(id)
}
