//! The demo chapter of DOMAIN.md: 1,000 mentors × 20 mentees by default.

use super::{DAY, Seeder};
use crate::db::{Tx, q};
use mentorsync_protocol::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "mentorsync-demo";
/// The email domain of demo accounts.
pub const DEMO_DOMAIN: &str = "demo.mentorsync.dev";

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
