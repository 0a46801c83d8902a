//! How each entity is read: one SELECT list per entity, decoded into the wire rows of
//! `mentorsync-protocol`. Every lookup by id also filters by chapter, so an id from another
//! chapter is simply not found.

use crate::db::{DbRow, FromDb, Q, Tx, q};
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::*;

/// Columns of a mentor (profile joined with user), aliased `m` and `u`.
pub const MENTOR_COLUMNS: &str = "m.user_id AS id, u.display_name, m.status, m.capacity_weekly, m.specialties, \
     m.availability, m.certification_expires_at, m.version, m.updated_at";
/// Columns of a pause.
pub const PAUSE_COLUMNS: &str = "id, mentor_id, status, reason, starts_at, ends_at, created_by, decided_by, version, updated_at";
/// Columns of a mentee assignment.
pub const ASSIGNMENT_COLUMNS: &str =
    "id, mentor_id, mentee_id, status, started_at, ended_at, version, updated_at";
/// Columns of a session.
pub const SESSION_COLUMNS: &str = "id, mentor_id, mentee_id, status, scheduled_at, duration_minutes, meeting_link, version, updated_at";
/// Columns of a submission.
pub const SUBMISSION_COLUMNS: &str = "id, mentee_id, mentor_id, mission_ref, title, content, status, submitted_at, \
     reviewed_at, reviewed_by, feedback, version, updated_at";
/// Columns of a work item; `$N` in `overdue` must be bound to "now".
pub const WORK_ITEM_COLUMNS: &str = "id, mentor_id, mentee_id, kind, priority, status, sla_due_at, reference_id, \
     created_at, completed_at, version, updated_at";
/// Columns of a flag.
pub const FLAG_COLUMNS: &str =
    "id, mentee_id, raised_by, severity, status, reason, created_at, version, updated_at";
/// Columns of a mentee (profile joined with user), aliased `p` and `u`.
pub const MENTEE_COLUMNS: &str =
    "p.user_id AS id, u.display_name, p.cohort_id, p.interests, p.version, p.updated_at";

impl FromDb for Mentor {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Mentor {
            id: r.get("id")?,
            display_name: r.get("display_name")?,
            status: r.parse("status")?,
            capacity_weekly: r.get("capacity_weekly")?,
            specialties: r.json("specialties")?,
            availability: r.json("availability")?,
            certification_expires_at: r.get("certification_expires_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Mentee {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Mentee {
            id: r.get("id")?,
            display_name: r.get("display_name")?,
            cohort_id: r.get("cohort_id")?,
            interests: r.json("interests")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Pause {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Pause {
            id: r.get("id")?,
            mentor_id: r.get("mentor_id")?,
            status: r.parse("status")?,
            reason: r.get("reason")?,
            starts_at: r.get("starts_at")?,
            ends_at: r.get("ends_at")?,
            created_by: r.get("created_by")?,
            decided_by: r.get("decided_by")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for MenteeAssignment {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(MenteeAssignment {
            id: r.get("id")?,
            mentor_id: r.get("mentor_id")?,
            mentee_id: r.get("mentee_id")?,
            status: r.parse("status")?,
            started_at: r.get("started_at")?,
            ended_at: r.get("ended_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Session {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Session {
            id: r.get("id")?,
            mentor_id: r.get("mentor_id")?,
            mentee_id: r.get("mentee_id")?,
            status: r.parse("status")?,
            scheduled_at: r.get("scheduled_at")?,
            duration_minutes: r.get("duration_minutes")?,
            meeting_link: r.get("meeting_link")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Submission {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Submission {
            id: r.get("id")?,
            mentee_id: r.get("mentee_id")?,
            mentor_id: r.get("mentor_id")?,
            mission_ref: r.get("mission_ref")?,
            title: r.get("title")?,
            content: r.get("content")?,
            status: r.parse("status")?,
            submitted_at: r.get("submitted_at")?,
            reviewed_at: r.get("reviewed_at")?,
            reviewed_by: r.get("reviewed_by")?,
            feedback: r.get("feedback")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// A work item as stored; [`WorkItem::overdue`] is derived from the clock when served.
pub struct StoredWorkItem(pub WorkItem);

impl StoredWorkItem {
    /// The item as seen at `now`: overdue when past its SLA and not finished.
    pub fn at(self, now: i64) -> WorkItem {
        let mut w = self.0;
        w.overdue = w.sla_due_at < now
            && matches!(
                w.status,
                mentorsync_protocol::WorkItemStatus::Open
                    | mentorsync_protocol::WorkItemStatus::InProgress
            );
        w
    }
}

impl FromDb for StoredWorkItem {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(StoredWorkItem(WorkItem {
            id: r.get("id")?,
            mentor_id: r.get("mentor_id")?,
            mentee_id: r.get("mentee_id")?,
            kind: r.parse("kind")?,
            priority: r.parse("priority")?,
            status: r.parse("status")?,
            sla_due_at: r.get("sla_due_at")?,
            overdue: false,
            reference_id: r.get("reference_id")?,
            created_at: r.get("created_at")?,
            completed_at: r.get("completed_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        }))
    }
}

impl FromDb for Flag {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Flag {
            id: r.get("id")?,
            mentee_id: r.get("mentee_id")?,
            raised_by: r.get("raised_by")?,
            severity: r.parse("severity")?,
            status: r.parse("status")?,
            reason: r.get("reason")?,
            created_at: r.get("created_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// `SELECT … FROM <entity> WHERE id = $1 AND chapter_id = $2`, optionally locking the row.
pub fn by_id(entity: Entity, lock: &str) -> Q {
    let sql = match entity {
        Entity::Mentor => format!(
            "SELECT {MENTOR_COLUMNS} FROM mentor_profiles m JOIN users u ON u.id = m.user_id \
             WHERE m.user_id = $1 AND m.chapter_id = $2"
        ),
        Entity::Mentee => format!(
            "SELECT {MENTEE_COLUMNS} FROM mentee_profiles p JOIN users u ON u.id = p.user_id \
             WHERE p.user_id = $1 AND p.chapter_id = $2"
        ),
        Entity::Pause => format!("SELECT {PAUSE_COLUMNS} FROM pauses WHERE id = $1 AND chapter_id = $2"),
        Entity::MenteeAssignment => {
            format!("SELECT {ASSIGNMENT_COLUMNS} FROM mentee_assignments WHERE id = $1 AND chapter_id = $2")
        }
        Entity::Session => format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1 AND chapter_id = $2"),
        Entity::Submission => {
            format!("SELECT {SUBMISSION_COLUMNS} FROM mission_submissions WHERE id = $1 AND chapter_id = $2")
        }
        Entity::WorkItem => format!("SELECT {WORK_ITEM_COLUMNS} FROM work_items WHERE id = $1 AND chapter_id = $2"),
        Entity::Flag => format!("SELECT {FLAG_COLUMNS} FROM flags WHERE id = $1 AND chapter_id = $2"),
        Entity::CoordinatorAssignment => "SELECT id, coordinator_id, mentor_id, status, version, updated_at \
             FROM coordinator_assignments WHERE id = $1 AND chapter_id = $2"
            .to_owned(),
        Entity::Cohort => {
            "SELECT id, name, starts_at, ends_at, seats, version, updated_at FROM cohorts WHERE id = $1 AND chapter_id = $2"
                .to_owned()
        }
    };
    // Row locks on PostgreSQL apply to the joined profile row only.
    let lock = match (entity, lock.is_empty()) {
        (_, true) => String::new(),
        (Entity::Mentor, false) => " FOR UPDATE OF m".to_owned(),
        (Entity::Mentee, false) => " FOR UPDATE OF p".to_owned(),
        (_, false) => lock.to_owned(),
    };
    q(sql + &lock)
}

/// Loads any entity as JSON (for conflict details and rejected commands), `now` deciding
/// derived fields.
pub async fn load_json(
    tx: &mut Tx,
    entity: Entity,
    id: &str,
    chapter_id: &str,
    now: i64,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let query = by_id(entity, "").bind(id).bind(chapter_id);
    fn to_json<T: serde::Serialize>(v: Option<T>) -> Option<serde_json::Value> {
        v.and_then(|v| serde_json::to_value(v).ok())
    }
    Ok(match entity {
        Entity::Mentor => to_json(tx.fetch_optional::<Mentor>(query).await?),
        Entity::Mentee => to_json(tx.fetch_optional::<Mentee>(query).await?),
        Entity::Pause => to_json(tx.fetch_optional::<Pause>(query).await?),
        Entity::MenteeAssignment => to_json(tx.fetch_optional::<MenteeAssignment>(query).await?),
        Entity::Session => to_json(tx.fetch_optional::<Session>(query).await?),
        Entity::Submission => to_json(tx.fetch_optional::<Submission>(query).await?),
        Entity::WorkItem => to_json(
            tx.fetch_optional::<StoredWorkItem>(query)
                .await?
                .map(|w| w.at(now)),
        ),
        Entity::Flag => to_json(tx.fetch_optional::<Flag>(query).await?),
        Entity::CoordinatorAssignment | Entity::Cohort => None,
    })
}
