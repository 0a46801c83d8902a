//! Buffers seed rows and writes them as multi-row INSERTs, parents first.

use super::DAY;
use crate::db::{Arg, Tx, q};
use mentorsync_protocol::Role;

/// One table's pending rows.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Arg>>,
}

/// Tables in foreign-key order: a parent is always flushed before its children.
const TABLES: &[(&str, &[&str])] = &[
    ("chapters", &["id", "name", "created_at"]),
    (
        "users",
        &[
            "id",
            "chapter_id",
            "email",
            "display_name",
            "role",
            "password_hash",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "cohorts",
        &[
            "id",
            "chapter_id",
            "name",
            "starts_at",
            "ends_at",
            "seats",
            "updated_at",
        ],
    ),
    ("cohort_directors", &["cohort_id", "director_id"]),
    (
        "mentor_profiles",
        &[
            "user_id",
            "chapter_id",
            "status",
            "capacity_weekly",
            "specialties",
            "certification_expires_at",
            "updated_at",
        ],
    ),
    (
        "mentee_profiles",
        &[
            "user_id",
            "chapter_id",
            "cohort_id",
            "interests",
            "updated_at",
        ],
    ),
    (
        "coordinator_assignments",
        &[
            "id",
            "chapter_id",
            "coordinator_id",
            "mentor_id",
            "status",
            "started_at",
            "updated_at",
        ],
    ),
    (
        "mentee_assignments",
        &[
            "id",
            "chapter_id",
            "mentor_id",
            "mentee_id",
            "status",
            "started_at",
            "updated_at",
        ],
    ),
    (
        "pauses",
        &[
            "id",
            "chapter_id",
            "mentor_id",
            "status",
            "reason",
            "starts_at",
            "ends_at",
            "created_by",
            "decided_by",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "sessions",
        &[
            "id",
            "chapter_id",
            "mentor_id",
            "mentee_id",
            "status",
            "scheduled_at",
            "duration_minutes",
            "meeting_link",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "mission_submissions",
        &[
            "id",
            "chapter_id",
            "mentee_id",
            "mentor_id",
            "mission_ref",
            "title",
            "content",
            "status",
            "submitted_at",
            "reviewed_at",
            "reviewed_by",
            "feedback",
            "updated_at",
        ],
    ),
    (
        "work_items",
        &[
            "id",
            "chapter_id",
            "mentor_id",
            "mentee_id",
            "kind",
            "priority",
            "status",
            "sla_due_at",
            "reference_id",
            "created_at",
            "completed_at",
            "updated_at",
        ],
    ),
    (
        "flags",
        &[
            "id",
            "chapter_id",
            "mentee_id",
            "raised_by",
            "severity",
            "status",
            "reason",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "audit_log",
        &[
            "chapter_id",
            "entity",
            "entity_id",
            "action",
            "to_status",
            "actor_role",
            "at",
        ],
    ),
];

/// Buffers rows and writes them in batches.
pub struct Seeder {
    pub(super) now: i64,
    password_hash: String,
    tables: Vec<Table>,
    pending: usize,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Seeder {
    /// A seeder whose users all get `password_hash` (hash once; Argon2 is slow on purpose).
    pub fn new(now: i64, password_hash: String) -> Self {
        let tables = TABLES
            .iter()
            .map(|(name, columns)| Table {
                name,
                columns,
                rows: Vec::new(),
            })
            .collect();
        Seeder {
            now,
            password_hash,
            tables,
            pending: 0,
        }
    }

    fn push(&mut self, table: &str, row: Vec<Arg>) {
        if let Some(t) = self.tables.iter_mut().find(|t| t.name == table) {
            debug_assert_eq!(t.columns.len(), row.len(), "{table}");
            t.rows.push(row);
            self.pending += 1;
        }
    }

    fn audit(&mut self, chapter: &str, entity: &str, id: &str, status: &str) {
        self.push(
            "audit_log",
            vec![
                chapter.into(),
                entity.into(),
                id.into(),
                "seed".into(),
                status.into(),
                "system".into(),
                self.now.into(),
            ],
        );
    }

    /// Writes everything buffered once enough has piled up.
    pub async fn maybe_flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        if self.pending >= 20_000 {
            self.flush(tx).await
        } else {
            Ok(())
        }
    }

    /// Writes everything buffered, parents first.
    pub async fn flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        for t in &mut self.tables {
            // Stay far below both backends' bound-parameter limits.
            let per_statement = (30_000 / t.columns.len()).min(1000);
            for chunk in t.rows.chunks(per_statement) {
                let mut sql = format!("INSERT INTO {} ({}) VALUES ", t.name, t.columns.join(", "));
                let mut n = 0;
                for (i, _) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for c in 0..t.columns.len() {
                        if c > 0 {
                            sql.push_str(", ");
                        }
                        n += 1;
                        sql.push_str(&format!("${n}"));
                    }
                    sql.push(')');
                }
                let mut query = q(sql);
                for row in chunk {
                    for arg in row {
                        query = query.bind(arg.clone());
                    }
                }
                tx.execute(query).await?;
            }
            t.rows.clear();
        }
        self.pending = 0;
        Ok(())
    }

    /// A chapter.
    pub fn chapter(&mut self, name: &str) -> String {
        let id = new_id();
        self.push(
            "chapters",
            vec![id.as_str().into(), name.into(), self.now.into()],
        );
        id
    }

    /// A user of any role (mentors and mentees also need a profile: use [`Seeder::mentor`]
    /// and [`Seeder::mentee`]).
    pub fn user(&mut self, chapter: &str, role: Role, email: &str, name: &str) -> String {
        let id = new_id();
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            email.to_lowercase().into(),
            name.into(),
            role.as_str().into(),
            self.password_hash.as_str().into(),
            self.now.into(),
            self.now.into(),
        ];
        self.push("users", row);
        id
    }

    /// A mentor with a profile, active.
    pub fn mentor(
        &mut self,
        chapter: &str,
        email: &str,
        name: &str,
        capacity: i64,
        certification_expires_at: Option<i64>,
        specialties: &[&str],
    ) -> String {
        self.mentor_with_status(
            chapter,
            email,
            name,
            capacity,
            certification_expires_at,
            specialties,
            "active",
        )
    }

    /// A mentor (user and profile) in `status` (`active`, `paused`, `inactive`); a paused
    /// mentor needs their active pause too ([`Seeder::pause`]).
    #[allow(clippy::too_many_arguments)]
    pub fn mentor_with_status(
        &mut self,
        chapter: &str,
        email: &str,
        name: &str,
        capacity: i64,
        cert: Option<i64>,
        specialties: &[&str],
        status: &str,
    ) -> String {
        let id = self.user(chapter, Role::Mentor, email, name);
        let specialties = serde_json::to_string(specialties).unwrap_or_else(|_| "[]".into());
        self.push(
            "mentor_profiles",
            vec![
                id.as_str().into(),
                chapter.into(),
                status.into(),
                capacity.into(),
                specialties.into(),
                cert.into(),
                self.now.into(),
            ],
        );
        self.audit(chapter, "mentor", &id, status);
        id
    }

    /// A mentee with a profile.
    pub fn mentee(
        &mut self,
        chapter: &str,
        email: &str,
        name: &str,
        cohort: Option<&str>,
        interests: &[&str],
    ) -> String {
        let id = self.user(chapter, Role::Mentee, email, name);
        let interests = serde_json::to_string(interests).unwrap_or_else(|_| "[]".into());
        self.push(
            "mentee_profiles",
            vec![
                id.as_str().into(),
                chapter.into(),
                cohort.into(),
                interests.into(),
                self.now.into(),
            ],
        );
        id
    }

    /// A cohort directed by `directors`.
    pub fn cohort(&mut self, chapter: &str, name: &str, seats: i64, directors: &[&str]) -> String {
        let id = new_id();
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            name.into(),
            (self.now - 30 * DAY).into(),
            (self.now + 150 * DAY).into(),
            seats.into(),
            self.now.into(),
        ];
        self.push("cohorts", row);
        for d in directors {
            self.push("cohort_directors", vec![id.as_str().into(), (*d).into()]);
        }
        id
    }

    /// `coordinator` looks after `mentor`.
    pub fn coordinate(&mut self, chapter: &str, coordinator: &str, mentor: &str) -> String {
        let id = new_id();
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            coordinator.into(),
            mentor.into(),
            "active".into(),
            self.now.into(),
            self.now.into(),
        ];
        self.push("coordinator_assignments", row);
        self.audit(chapter, "coordinator_assignment", &id, "active");
        id
    }

    /// `mentee` is assigned to `mentor`.
    pub fn assign(&mut self, chapter: &str, mentor: &str, mentee: &str) -> String {
        let id = new_id();
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            mentor.into(),
            mentee.into(),
            "active".into(),
            self.now.into(),
            self.now.into(),
        ];
        self.push("mentee_assignments", row);
        self.audit(chapter, "mentee_assignment", &id, "active");
        id
    }

    /// A pause in any status (the caller keeps the mentor's status consistent with it).
    #[allow(clippy::too_many_arguments)]
    pub fn pause(
        &mut self,
        chapter: &str,
        mentor: &str,
        status: &str,
        reason: &str,
        starts_at: i64,
        ends_at: Option<i64>,
        by: &str,
    ) -> String {
        let id = new_id();
        let decided = if status == "requested" {
            None
        } else {
            Some(by.to_owned())
        };
        let created_by = if status == "requested" { mentor } else { by };
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            mentor.into(),
            status.into(),
            reason.into(),
            starts_at.into(),
            ends_at.into(),
            created_by.into(),
            decided.into(),
            self.now.into(),
            self.now.into(),
        ];
        self.push("pauses", row);
        self.audit(chapter, "pause", &id, status);
        id
    }

    /// A session.
    pub fn session(
        &mut self,
        chapter: &str,
        mentor: &str,
        mentee: &str,
        status: &str,
        scheduled_at: i64,
    ) -> String {
        let id = new_id();
        let link = format!("https://meet.example.org/{}", &id[..8]);
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            mentor.into(),
            mentee.into(),
            status.into(),
            scheduled_at.into(),
            45i64.into(),
            link.into(),
            self.now.into(),
            self.now.into(),
        ];
        self.push("sessions", row);
        self.audit(chapter, "session", &id, status);
        id
    }

    /// A submission with its review item (open, in progress or done to match the status).
    pub fn submission(
        &mut self,
        chapter: &str,
        mentor: &str,
        mentee: &str,
        status: &str,
        submitted_at: i64,
        item_status: &str,
    ) -> String {
        let id = new_id();
        let reviewed = status != "submitted";
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            mentee.into(),
            mentor.into(),
            format!("M-{}", submitted_at % 40 + 1).into(),
            "Portfolio milestone".into(),
            "https://files.example.org/work.pdf".into(),
            status.into(),
            submitted_at.into(),
            reviewed.then_some(submitted_at + DAY).into(),
            reviewed.then(|| mentor.to_owned()).into(),
            reviewed.then(|| "Thanks, see comments.".to_owned()).into(),
            self.now.into(),
        ];
        self.push("mission_submissions", row);
        self.audit(chapter, "submission", &id, status);
        let item = new_id();
        let done = item_status == "done";
        let row = vec![
            item.as_str().into(),
            chapter.into(),
            mentor.into(),
            mentee.into(),
            "mission_review".into(),
            "high".into(),
            item_status.into(),
            (submitted_at + 48 * 3600 * 1000).into(),
            id.as_str().into(),
            submitted_at.into(),
            done.then_some(submitted_at + DAY).into(),
            self.now.into(),
        ];
        self.push("work_items", row);
        self.audit(chapter, "work_item", &item, item_status);
        id
    }

    /// A flag.
    pub fn flag(
        &mut self,
        chapter: &str,
        mentee: &str,
        raised_by: &str,
        severity: &str,
        status: &str,
    ) -> String {
        let id = new_id();
        let row = vec![
            id.as_str().into(),
            chapter.into(),
            mentee.into(),
            raised_by.into(),
            severity.into(),
            status.into(),
            "Missed two sessions and went quiet".into(),
            (self.now - 3 * DAY).into(),
            self.now.into(),
        ];
        self.push("flags", row);
        self.audit(chapter, "flag", &id, status);
        id
    }
}
