//! How each entity is read: one SELECT list per entity, decoded into the wire rows of
//! `mentorsync-protocol`. Every lookup by id also filters by chapter, so an id from another
//! chapter is simply not found.

use crate::db::{DbRow, FromDb, Q, Tx, q};
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::dashboard::Dashboard;
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
pub const SESSION_COLUMNS: &str = "id, mentor_id, mentee_id, status, scheduled_at, duration_minutes, meeting_link, \
     notes, notes_doc, version, updated_at";
/// Columns of a submission.
pub const SUBMISSION_COLUMNS: &str = "id, mentee_id, mentor_id, mission_ref, title, content, status, submitted_at, \
     reviewed_at, reviewed_by, feedback, version, updated_at";
/// Columns of a work item; `$N` in `overdue` must be bound to "now".
pub const WORK_ITEM_COLUMNS: &str = "id, mentor_id, mentee_id, kind, priority, status, sla_due_at, reference_id, \
     created_at, completed_at, version, updated_at";
/// Columns of a flag.
pub const FLAG_COLUMNS: &str =
    "id, mentee_id, raised_by, severity, status, reason, created_at, version, updated_at";
/// Columns of a coordinator assignment.
pub const COORDINATOR_ASSIGNMENT_COLUMNS: &str =
    "id, coordinator_id, mentor_id, status, version, updated_at";
/// Columns of a cohort.
pub const COHORT_COLUMNS: &str =
    "id, external_id, name, starts_at, ends_at, seats, version, updated_at";
/// Columns of an account (never the password hash).
pub const ACCOUNT_COLUMNS: &str =
    "id, email, display_name, role, status, time_zone, version, updated_at";
/// Columns of a dashboard row.
pub const DASHBOARD_COLUMNS: &str = "id, kind, subject_id, mentor_id, coordinator_id, cohort_id, figures, \
     computed_at, version, updated_at";
/// Columns of an inbox item.
pub const INBOX_COLUMNS: &str = "id, recipient_id, notification_id, kind, entity, entity_id, mentor_id, message, \
     created_at, read_at, dismissed_at, version, updated_at";
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
            notes: r.get("notes")?,
            notes_doc: r
                .get::<Option<Vec<u8>>>("notes_doc")?
                .map(|d| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d)),
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

impl FromDb for CoordinatorAssignment {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(CoordinatorAssignment {
            id: r.get("id")?,
            coordinator_id: r.get("coordinator_id")?,
            mentor_id: r.get("mentor_id")?,
            status: r.parse("status")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Cohort {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Cohort {
            id: r.get("id")?,
            external_id: r.get("external_id")?,
            name: r.get("name")?,
            starts_at: r.get("starts_at")?,
            ends_at: r.get("ends_at")?,
            seats: r.get("seats")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Account {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Account {
            id: r.get("id")?,
            email: r.get("email")?,
            display_name: r.get("display_name")?,
            role: r.parse("role")?,
            status: r.parse("status")?,
            time_zone: r.get("time_zone")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for Dashboard {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Dashboard {
            id: r.get("id")?,
            kind: r.parse("kind")?,
            subject_id: r.get("subject_id")?,
            mentor_id: r.get("mentor_id")?,
            coordinator_id: r.get("coordinator_id")?,
            cohort_id: r.get("cohort_id")?,
            figures: r.json("figures")?,
            computed_at: r.get("computed_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

impl FromDb for InboxItem {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(InboxItem {
            id: r.get("id")?,
            recipient_id: r.get("recipient_id")?,
            notification_id: r.get("notification_id")?,
            kind: r.get("kind")?,
            entity: r.get("entity")?,
            entity_id: r.get("entity_id")?,
            mentor_id: r.get("mentor_id")?,
            message: r.get("message")?,
            created_at: r.get("created_at")?,
            read_at: r.get("read_at")?,
            dismissed_at: r.get("dismissed_at")?,
            version: r.get("version")?,
            updated_at: r.get("updated_at")?,
        })
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

/// `SELECT <wire columns> FROM <entity>`, with the key and chapter columns to filter on.
fn select_from(entity: Entity) -> (String, &'static str, &'static str) {
    let plain =
        |cols: &str, table: &str| (format!("SELECT {cols} FROM {table}"), "id", "chapter_id");
    match entity {
        Entity::Mentor => (
            format!(
                "SELECT {MENTOR_COLUMNS} FROM mentor_profiles m JOIN users u ON u.id = m.user_id"
            ),
            "m.user_id",
            "m.chapter_id",
        ),
        Entity::Mentee => (
            format!(
                "SELECT {MENTEE_COLUMNS} FROM mentee_profiles p JOIN users u ON u.id = p.user_id"
            ),
            "p.user_id",
            "p.chapter_id",
        ),
        Entity::Pause => plain(PAUSE_COLUMNS, "pauses"),
        Entity::MenteeAssignment => plain(ASSIGNMENT_COLUMNS, "mentee_assignments"),
        Entity::Session => plain(SESSION_COLUMNS, "sessions"),
        Entity::Submission => plain(SUBMISSION_COLUMNS, "mission_submissions"),
        Entity::WorkItem => plain(WORK_ITEM_COLUMNS, "work_items"),
        Entity::Flag => plain(FLAG_COLUMNS, "flags"),
        Entity::CoordinatorAssignment => {
            plain(COORDINATOR_ASSIGNMENT_COLUMNS, "coordinator_assignments")
        }
        Entity::Cohort => plain(COHORT_COLUMNS, "cohorts"),
        Entity::Dashboard => plain(DASHBOARD_COLUMNS, "dashboards"),
        Entity::User => plain(ACCOUNT_COLUMNS, "users"),
        Entity::InboxItem => plain(INBOX_COLUMNS, "inbox_items"),
    }
}

/// `SELECT … FROM <entity> WHERE id = $1 AND chapter_id = $2`, optionally locking the row.
pub fn by_id(entity: Entity, lock: &str) -> Q {
    let (select, key, chapter) = select_from(entity);
    // Row locks on PostgreSQL apply to the profile row, not the joined user.
    let lock = match (entity, lock.is_empty()) {
        (_, true) => "",
        (Entity::Mentor, false) => " FOR UPDATE OF m",
        (Entity::Mentee, false) => " FOR UPDATE OF p",
        (_, false) => lock,
    };
    q(format!(
        "{select} WHERE {key} = $1 AND {chapter} = $2{lock}"
    ))
}

fn rows_json<T: serde::Serialize>(rows: Vec<(String, T)>) -> Vec<(String, serde_json::Value)> {
    rows.into_iter()
        .filter_map(|(id, r)| serde_json::to_value(r).ok().map(|v| (id, v)))
        .collect()
}

/// Loads many rows of one entity (of one chapter) as wire JSON, keyed by id.
pub async fn load_many_json(
    tx: &mut Tx,
    entity: Entity,
    ids: &[String],
    chapter_id: &str,
    now: i64,
) -> Result<Vec<(String, serde_json::Value)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (select, key, chapter) = select_from(entity);
    let sql = tx.by_json_ids(&select, key, chapter);
    let query = q(sql)
        .bind(chapter_id)
        .bind(serde_json::to_string(ids).unwrap_or_default());
    async fn fetch<T: FromDb + serde::Serialize + Keyed>(
        tx: &mut Tx,
        query: Q,
    ) -> Result<Vec<(String, serde_json::Value)>, sqlx::Error> {
        let rows: Vec<T> = tx.fetch_all(query).await?;
        Ok(rows_json(rows.into_iter().map(|r| (r.key(), r)).collect()))
    }
    Ok(match entity {
        Entity::Mentor => fetch::<Mentor>(tx, query).await?,
        Entity::Mentee => fetch::<Mentee>(tx, query).await?,
        Entity::Pause => fetch::<Pause>(tx, query).await?,
        Entity::MenteeAssignment => fetch::<MenteeAssignment>(tx, query).await?,
        Entity::CoordinatorAssignment => fetch::<CoordinatorAssignment>(tx, query).await?,
        Entity::Session => fetch::<Session>(tx, query).await?,
        Entity::Submission => fetch::<Submission>(tx, query).await?,
        Entity::Flag => fetch::<Flag>(tx, query).await?,
        Entity::Cohort => fetch::<Cohort>(tx, query).await?,
        Entity::Dashboard => fetch::<Dashboard>(tx, query).await?,
        Entity::User => fetch::<Account>(tx, query).await?,
        Entity::InboxItem => fetch::<InboxItem>(tx, query).await?,
        Entity::WorkItem => {
            let rows: Vec<StoredWorkItem> = tx.fetch_all(query).await?;
            rows_json(
                rows.into_iter()
                    .map(|r| {
                        let w = r.at(now);
                        (w.id.clone(), w)
                    })
                    .collect(),
            )
        }
    })
}

/// Rows that know their own key.
trait Keyed {
    fn key(&self) -> String;
}
macro_rules! keyed {
    ($($t:ty),*) => { $(impl Keyed for $t { fn key(&self) -> String { self.id.clone() } })* };
}
keyed!(
    Mentor,
    Mentee,
    Pause,
    MenteeAssignment,
    CoordinatorAssignment,
    Session,
    Submission,
    Flag,
    Cohort,
    Dashboard,
    Account,
    InboxItem
);

pub use mentorsync_protocol::sync::row_scopes;

/// Loads any entity as JSON (for conflict details and rejected commands), `now` deciding
/// derived fields.
pub async fn load_json(
    tx: &mut Tx,
    entity: Entity,
    id: &str,
    chapter_id: &str,
    now: i64,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let rows = load_many_json(tx, entity, &[id.to_owned()], chapter_id, now).await?;
    Ok(rows.into_iter().next().map(|(_, v)| v))
}

pub use crate::db::Scope;

/// Where an entity's scope columns are, in its table aliased `t`.
#[derive(Debug, Clone, Copy)]
pub struct ScopeExprs {
    /// `table t`.
    pub table: &'static str,
    /// The row key.
    pub key: &'static str,
    /// The mentor whose data the row is.
    pub mentor: Option<&'static str>,
    /// The mentee it is about.
    pub mentee: Option<&'static str>,
    /// The coordinator it names.
    pub coordinator: Option<&'static str>,
    /// The cohort it is about.
    pub cohort: Option<&'static str>,
    /// The one person it is for (inbox items): only they see it, admins included.
    pub user: Option<&'static str>,
}

/// Scope columns per entity. Shared by the change log (written) and pulls (read).
pub fn scope_exprs(entity: Entity) -> ScopeExprs {
    let e = |table, key, mentor, mentee, coordinator| ScopeExprs {
        table,
        key,
        mentor,
        mentee,
        coordinator,
        cohort: None,
        user: None,
    };
    match entity {
        Entity::Mentor => e(
            "mentor_profiles t",
            "t.user_id",
            Some("t.user_id"),
            None,
            None,
        ),
        Entity::Mentee => e(
            "mentee_profiles t",
            "t.user_id",
            None,
            Some("t.user_id"),
            None,
        ),
        Entity::Pause => e("pauses t", "t.id", Some("t.mentor_id"), None, None),
        Entity::CoordinatorAssignment => e(
            "coordinator_assignments t",
            "t.id",
            Some("t.mentor_id"),
            None,
            Some("t.coordinator_id"),
        ),
        Entity::MenteeAssignment => e(
            "mentee_assignments t",
            "t.id",
            Some("t.mentor_id"),
            Some("t.mentee_id"),
            None,
        ),
        Entity::Session => e(
            "sessions t",
            "t.id",
            Some("t.mentor_id"),
            Some("t.mentee_id"),
            None,
        ),
        Entity::Submission => e(
            "mission_submissions t",
            "t.id",
            Some("t.mentor_id"),
            Some("t.mentee_id"),
            None,
        ),
        Entity::WorkItem => e(
            "work_items t",
            "t.id",
            Some("t.mentor_id"),
            Some("t.mentee_id"),
            None,
        ),
        Entity::Flag => e("flags t", "t.id", None, Some("t.mentee_id"), None),
        Entity::Cohort => ScopeExprs {
            cohort: Some("t.id"),
            ..e("cohorts t", "t.id", None, None, None)
        },
        Entity::User => e("users t", "t.id", None, None, None),
        Entity::InboxItem => ScopeExprs {
            user: Some("t.recipient_id"),
            ..e("inbox_items t", "t.id", None, None, None)
        },
        Entity::Dashboard => ScopeExprs {
            cohort: Some("t.cohort_id"),
            ..e(
                "dashboards t",
                "t.id",
                Some("t.mentor_id"),
                None,
                Some("t.coordinator_id"),
            )
        },
    }
}

/// The current scope of a row.
pub async fn scope_of(tx: &mut Tx, entity: Entity, id: &str) -> Result<Option<Scope>, sqlx::Error> {
    let x = scope_exprs(entity);
    let col = |c: Option<&str>| c.unwrap_or("CAST(NULL AS TEXT)").to_owned();
    let sql = format!(
        "SELECT {} AS m, {} AS e, {} AS c, {} AS h, {} AS u FROM {} WHERE {} = $1",
        col(x.mentor),
        col(x.mentee),
        col(x.coordinator),
        col(x.cohort),
        col(x.user),
        x.table,
        x.key
    );
    tx.fetch_optional::<Scope>(q(sql).bind(id)).await
}
