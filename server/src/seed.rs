//! Seeding: the demo chapter of DOMAIN.md (1,000 mentors × 20 mentees by default) and the
//! small fixtures tests build. Rows are buffered and written as multi-row INSERTs in
//! dependency order, so the full demo takes seconds, not minutes. Every stateful row gets
//! one `seed` audit row, so the audit log agrees with the statuses from the start.

use crate::db::{Arg, Tx, q};
use mentorsync_protocol::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "mentorsync-demo";
/// The email domain of demo accounts.
pub const DEMO_DOMAIN: &str = "demo.mentorsync.dev";
const DAY: i64 = 86_400_000;

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
    now: i64,
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

/// How big a demo chapter to build.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoSize {
    /// Mentors.
    #[arg(long, default_value_t = 1000)]
    pub mentors: usize,
    /// Mentees per mentor.
    #[arg(long, default_value_t = 20)]
    pub mentees_per_mentor: usize,
    /// Coordinators (mentors are spread evenly over them).
    #[arg(long, default_value_t = 20)]
    pub coordinators: usize,
    /// Cohorts, each with its own director.
    #[arg(long, default_value_t = 5)]
    pub cohorts: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize {
            mentors: 1000,
            mentees_per_mentor: 20,
            coordinators: 20,
            cohorts: 5,
        }
    }
}

/// Sign-in details printed after seeding.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    /// The chapter id.
    pub chapter_id: String,
    /// One email per role, in the order admin, coordinator, mentor, mentee, director.
    pub emails: Vec<(Role, String)>,
}

const FIRST: &[&str] = &[
    "Ada", "Amara", "Bilal", "Chen", "Dara", "Elif", "Femi", "Grace", "Hana", "Ibrahim", "Jonas",
    "Kemi", "Lina", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma",
    "Vera", "Wei", "Yara", "Zane",
];
const LAST: &[&str] = &[
    "Adeyemi", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kim", "Lopez", "Mensah", "Novak", "Okafor", "Park", "Quispe", "Rossi", "Singh",
    "Tanaka", "Ueda", "Vargas", "Wang", "Yilmaz",
];
const TOPICS: &[&str] = &[
    "web", "data", "design", "career", "cloud", "security", "mobile", "product",
];

fn name(rng: &mut StdRng) -> String {
    format!(
        "{} {}",
        FIRST[rng.random_range(0..FIRST.len())],
        LAST[rng.random_range(0..LAST.len())]
    )
}

fn topics<'a>(rng: &mut StdRng, max: usize) -> Vec<&'a str> {
    let n = rng.random_range(1..=max);
    let mut t: Vec<&str> = (0..n)
        .map(|_| TOPICS[rng.random_range(0..TOPICS.len())])
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// Whether a demo chapter already exists.
pub async fn demo_exists(tx: &mut Tx) -> Result<bool, sqlx::Error> {
    tx.exists(q("SELECT 1 FROM users WHERE email = $1").bind(format!("admin@{DEMO_DOMAIN}")))
        .await
}

/// Builds the demo chapter in `tx`. `progress` is called with (done, total) mentors.
pub async fn demo(
    tx: &mut Tx,
    now: i64,
    password_hash: String,
    size: &DemoSize,
    mut progress: impl FnMut(u64, u64),
) -> Result<DemoLogins, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(20_261_122);
    let mut s = Seeder::new(now, password_hash);
    let chapter = s.chapter("Demo Chapter");
    let admin_email = format!("admin@{DEMO_DOMAIN}");
    s.user(&chapter, Role::Admin, &admin_email, "Alex Admin");
    let coordinators: Vec<String> = (1..=size.coordinators.max(1))
        .map(|i| {
            s.user(
                &chapter,
                Role::Coordinator,
                &format!("coordinator{i:02}@{DEMO_DOMAIN}"),
                &name(&mut rng),
            )
        })
        .collect();
    let per_cohort = (size.mentors * size.mentees_per_mentor).div_ceil(size.cohorts.max(1)) as i64;
    let cohorts: Vec<String> = (1..=size.cohorts.max(1))
        .map(|i| {
            let director = s.user(
                &chapter,
                Role::Director,
                &format!("director{i}@{DEMO_DOMAIN}"),
                &name(&mut rng),
            );
            s.cohort(
                &chapter,
                &format!("Cohort 2026-{}", (b'A' + (i as u8 - 1) % 26) as char),
                per_cohort + per_cohort / 20,
                &[&director],
            )
        })
        .collect();
    s.flush(tx).await?;

    let total = size.mentors as u64;
    let mut mentee_no = 0usize;
    for m in 0..size.mentors {
        let coordinator = &coordinators[m % coordinators.len()];
        // Certification: most valid for a year or two, some expiring within 30 days, a few expired.
        let roll: f64 = rng.random();
        let cert = if roll < 0.03 {
            now - rng.random_range(1..60) * DAY
        } else if roll < 0.08 {
            now + rng.random_range(1..30) * DAY
        } else {
            now + rng.random_range(30..700) * DAY
        };
        let status_roll: f64 = rng.random();
        let status = if status_roll < 0.03 {
            "paused"
        } else if status_roll < 0.04 {
            "inactive"
        } else {
            "active"
        };
        let mentor = s.mentor_with_status(
            &chapter,
            &format!("mentor{:04}@{DEMO_DOMAIN}", m + 1),
            &name(&mut rng),
            25,
            Some(cert),
            &topics(&mut rng, 3),
            status,
        );
        s.coordinate(&chapter, coordinator, &mentor);
        if status == "paused" {
            s.pause(
                &chapter,
                &mentor,
                "active",
                "Family leave",
                now - 5 * DAY,
                Some(now + 10 * DAY),
                coordinator,
            );
        } else if status == "active" && status_roll > 0.98 {
            s.pause(
                &chapter,
                &mentor,
                "requested",
                "Exam period",
                now + 7 * DAY,
                Some(now + 21 * DAY),
                coordinator,
            );
        }
        for _ in 0..size.mentees_per_mentor {
            mentee_no += 1;
            let cohort = &cohorts[mentee_no % cohorts.len()];
            let mentee = s.mentee(
                &chapter,
                &format!("mentee{mentee_no:05}@{DEMO_DOMAIN}"),
                &name(&mut rng),
                Some(cohort),
                &topics(&mut rng, 2),
            );
            if mentee_no.is_multiple_of(50) {
                continue; // 2% wait for the matcher.
            }
            s.assign(&chapter, &mentor, &mentee);
            let past: f64 = rng.random();
            let outcome = if past < 0.85 {
                "completed"
            } else if past < 0.95 {
                "no_show"
            } else {
                "cancelled"
            };
            s.session(
                &chapter,
                &mentor,
                &mentee,
                outcome,
                now - rng.random_range(1..14) * DAY,
            );
            s.session(
                &chapter,
                &mentor,
                &mentee,
                "scheduled",
                now + rng.random_range(0..14 * 24) * 3_600_000,
            );
            if rng.random_bool(0.5) {
                let r: f64 = rng.random();
                let submitted_at = now - rng.random_range(1..96) * 3_600_000;
                let (status, item) = if r < 0.6 {
                    ("approved", "done")
                } else if r < 0.75 {
                    ("changes_requested", "done")
                } else if r < 0.85 {
                    ("submitted", "in_progress")
                } else {
                    ("submitted", "open")
                };
                s.submission(&chapter, &mentor, &mentee, status, submitted_at, item);
            }
            if rng.random_bool(0.05) {
                let severity = ["low", "medium", "high", "critical"][rng.random_range(0..4)];
                let status =
                    ["open", "open", "open", "acknowledged", "resolved"][rng.random_range(0..5)];
                s.flag(&chapter, &mentee, &mentor, severity, status);
            }
        }
        s.maybe_flush(tx).await?;
        progress(m as u64 + 1, total);
    }
    s.flush(tx).await?;
    Ok(DemoLogins {
        chapter_id: chapter,
        emails: vec![
            (Role::Admin, admin_email),
            (Role::Coordinator, format!("coordinator01@{DEMO_DOMAIN}")),
            (Role::Mentor, format!("mentor0001@{DEMO_DOMAIN}")),
            (Role::Mentee, format!("mentee00001@{DEMO_DOMAIN}")),
            (Role::Director, format!("director1@{DEMO_DOMAIN}")),
        ],
    })
}

/// The ids of a small chapter built by [`Seeder::small_chapter`].
#[derive(Debug, Clone)]
pub struct SmallChapter {
    /// Chapter id.
    pub id: String,
    /// `admin@<tag>.test`.
    pub admin: String,
    /// `coordinator@<tag>.test`, coordinates `mentor`.
    pub coordinator: String,
    /// `coordinator2@<tag>.test`, coordinates `other_mentor`.
    pub other_coordinator: String,
    /// `mentor@<tag>.test` (capacity 3, certified for a year), mentors `mentee`.
    pub mentor: String,
    /// `mentor2@<tag>.test`, mentors nobody.
    pub other_mentor: String,
    /// `mentee@<tag>.test`, assigned to `mentor`.
    pub mentee: String,
    /// `mentee2@<tag>.test`, unassigned.
    pub free_mentee: String,
    /// `director@<tag>.test`, directs `cohort`.
    pub director: String,
    /// The chapter's cohort.
    pub cohort: String,
}

impl Seeder {
    /// A chapter with one person of every role and the relationships tests need; emails
    /// are `<role>@<tag>.test`.
    pub fn small_chapter(&mut self, tag: &str) -> SmallChapter {
        let chapter = self.chapter(&format!("Chapter {tag}"));
        let e = |who: &str| format!("{who}@{tag}.test");
        let year = self.now + 365 * DAY;
        let admin = self.user(&chapter, Role::Admin, &e("admin"), "Admin");
        let coordinator = self.user(
            &chapter,
            Role::Coordinator,
            &e("coordinator"),
            "Cora Coordinator",
        );
        let other_coordinator = self.user(
            &chapter,
            Role::Coordinator,
            &e("coordinator2"),
            "Otto Coordinator",
        );
        let director = self.user(&chapter, Role::Director, &e("director"), "Dina Director");
        let mentor = self.mentor(
            &chapter,
            &e("mentor"),
            "Mia Mentor",
            3,
            Some(year),
            &["web"],
        );
        let other_mentor = self.mentor(
            &chapter,
            &e("mentor2"),
            "Max Mentor",
            3,
            Some(year),
            &["data"],
        );
        let cohort = self.cohort(&chapter, "Cohort", 10, &[&director]);
        let mentee = self.mentee(
            &chapter,
            &e("mentee"),
            "Tom Mentee",
            Some(&cohort),
            &["web"],
        );
        let free_mentee = self.mentee(
            &chapter,
            &e("mentee2"),
            "Fay Mentee",
            Some(&cohort),
            &["data"],
        );
        self.coordinate(&chapter, &coordinator, &mentor);
        self.coordinate(&chapter, &other_coordinator, &other_mentor);
        self.assign(&chapter, &mentor, &mentee);
        SmallChapter {
            id: chapter,
            admin,
            coordinator,
            other_coordinator,
            mentor,
            other_mentor,
            mentee,
            free_mentee,
            director,
            cohort,
        }
    }
}
