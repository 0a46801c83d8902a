//! The device and the server decide every command alike.
//!
//! For generated chapters (mentors in every status, capacities, certifications, pauses,
//! assignments, sessions, submissions, queue items, flags) and generated commands of every
//! kind from every role, the device's local verdict — `optimistic::apply` over the rows its
//! person pulled — must be the server's — `domain::apply` in a transaction that is then
//! rolled back: both applied, or both refused with the same code. A command the device
//! cannot decide because it does not hold a row it touches ("not found on this device") is
//! the server's alone and is counted, not compared.
//!
//! Both sides call the same rule book; what this holds apart is everything around it: the
//! facts each side loads (the server from its tables, the device from its view) and the
//! order in which refusals arise. Change either side's fact loading alone and it fails.
//!
//! `MENTORSYNC_SEED=<n>` replays a run; `MENTORSYNC_RULE_CASES=<n>` sets how many cases.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_core::CoreError;
use mentorsync_protocol::command::*;
use mentorsync_protocol::model::Me;
use mentorsync_protocol::sync::SyncSet;
use mentorsync_protocol::{FlagSeverity, Role};
use mentorsync_server::db::{Acting, Backend, Db, q};
use mentorsync_server::domain::{self, Actor};
use mentorsync_server::error::ApiError;
use mentorsync_server::seed::Seeder;
use mentorsync_server::sync::pull::{PullRequest, pull};
use mentorsync_server::sync::scope::Viewer;
use mentorsync_server::testkit::{Owner, PG_ENV, TestDb};
use mentorsync_tests::random_seed;
use rand::prelude::*;
use rand::rngs::StdRng;
use std::collections::BTreeMap;

const NOW: i64 = 1_795_305_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// One generated chapter: who is in it and the ids of its rows.
struct World {
    chapter: String,
    people: Vec<(String, Role)>,
    mentors: Vec<String>,
    mentees: Vec<String>,
    pauses: Vec<String>,
    assignments: Vec<String>,
    sessions: Vec<String>,
    submissions: Vec<String>,
    /// Each submission's mentee.
    submitted_by: Vec<String>,
    /// Mentees without a mentor.
    unassigned: Vec<String>,
    items: Vec<String>,
    /// Each item's mentor.
    item_mentors: Vec<Option<String>>,
    flags: Vec<String>,
}

fn pick<'a>(rng: &mut StdRng, ids: &'a [String]) -> Option<&'a String> {
    ids.choose(rng)
}

async fn build_world(db: &Db, hash: &str, rng: &mut StdRng, n: u64) -> World {
    let mut s = Seeder::new(NOW, hash.to_owned());
    let chapter = s.chapter(&format!("rules {n}"));
    let email = |who: &str| format!("{who}-{n}@rules.test");
    let admin = s.user(&chapter, Role::Admin, &email("admin"), "Ada");
    let coordinators: Vec<String> = (0..2)
        .map(|i| s.user(&chapter, Role::Coordinator, &email(&format!("c{i}")), "Cy"))
        .collect();
    let mut w = World {
        chapter: chapter.clone(),
        people: vec![(admin.clone(), Role::Admin)],
        mentors: Vec::new(),
        mentees: Vec::new(),
        pauses: Vec::new(),
        assignments: Vec::new(),
        sessions: Vec::new(),
        submissions: Vec::new(),
        submitted_by: Vec::new(),
        unassigned: Vec::new(),
        items: Vec::new(),
        item_mentors: Vec::new(),
        flags: Vec::new(),
    };
    w.people
        .extend(coordinators.iter().map(|c| (c.clone(), Role::Coordinator)));
    for i in 0..3 {
        let status = *["active", "active", "paused", "inactive"]
            .choose(rng)
            .unwrap();
        let cert = match rng.random_range(0..4) {
            0 => None,
            1 => Some(NOW - DAY),
            _ => Some(NOW + 30 * DAY),
        };
        let m = s.mentor_with_status(
            &chapter,
            &email(&format!("m{i}")),
            "Mo",
            rng.random_range(1..5),
            cert,
            &["maths"],
            status,
        );
        // Mentors 0 and 1 are the first coordinator's, mentor 2 the second's.
        s.coordinate(&chapter, &coordinators[usize::from(i == 2)], &m);
        let pause = match status {
            "paused" => Some("active"),
            "active" => ["requested", "scheduled"]
                .choose(rng)
                .copied()
                .filter(|_| rng.random_bool(0.3)),
            _ => None,
        };
        if let Some(p) = pause {
            let starts = match p {
                "scheduled" => NOW + DAY,
                "active" => NOW - 2 * DAY,
                _ => NOW + rng.random_range(-2..3) * DAY,
            };
            let ends = rng.random_bool(0.5).then_some(NOW + 10 * DAY);
            w.pauses
                .push(s.pause(&chapter, &m, p, "leave", starts, ends, &coordinators[0]));
        }
        w.people.push((m.clone(), Role::Mentor));
        w.mentors.push(m);
    }
    for i in 0..4 {
        let e = s.mentee(&chapter, &email(&format!("e{i}")), "Eve", None, &["art"]);
        w.people.push((e.clone(), Role::Mentee));
        if rng.random_bool(0.6) {
            let m = w.mentors.choose(rng).unwrap().clone();
            w.assignments.push(s.assign(&chapter, &m, &e));
            if rng.random_bool(0.7) {
                let status = *["scheduled", "scheduled", "completed", "cancelled"]
                    .choose(rng)
                    .unwrap();
                let at = NOW + rng.random_range(-3..4) * DAY;
                w.sessions.push(s.session(&chapter, &m, &e, status, at));
            }
            if rng.random_bool(0.9) {
                let status = *[
                    "submitted",
                    "changes_requested",
                    "changes_requested",
                    "approved",
                ]
                .choose(rng)
                .unwrap();
                let item = match status {
                    "submitted" => *["open", "in_progress"].choose(rng).unwrap(),
                    _ => "done",
                };
                w.submissions
                    .push(s.submission(&chapter, &m, &e, status, NOW - DAY, item));
                w.submitted_by.push(e.clone());
            }
        } else {
            w.unassigned.push(e.clone());
        }
        if rng.random_bool(0.4) {
            let status = *["open", "acknowledged", "resolved"].choose(rng).unwrap();
            w.flags.push(s.flag(&chapter, &e, &admin, "medium", status));
        }
        w.mentees.push(e);
    }
    let mut tx = db.write_as(Acting::System).await.unwrap();
    s.flush(&mut tx).await.unwrap();
    let items: Vec<(String, Option<String>)> = tx
        .fetch_all(
            q("SELECT id, mentor_id FROM work_items WHERE chapter_id = $1").bind(chapter.as_str()),
        )
        .await
        .unwrap();
    (w.items, w.item_mentors) = items.into_iter().unzip();
    tx.commit().await.unwrap();
    w
}

/// A command of a random kind about the world's rows, sometimes with bad input.
fn command(rng: &mut StdRng, kind: u32, w: &World, caller: &str) -> Option<Command> {
    let reason = || {
        *["leave", "  ", "exams", "family"]
            .choose(&mut rand::rng())
            .unwrap()
    };
    // A mentor mostly names themselves; anyone else one of the chapter's mentors.
    let mentor =
        |rng: &mut StdRng| match w.mentors.iter().any(|m| m == caller) && rng.random_bool(0.7) {
            true => caller.to_owned(),
            false => pick(rng, &w.mentors).unwrap().clone(),
        };
    let window = |rng: &mut StdRng| match rng.random_range(0..4) {
        0 => (None, None),
        1 => (Some(NOW + DAY), Some(NOW + 5 * DAY)),
        2 => (None, Some(NOW + 3 * DAY)),
        _ => (Some(NOW + 2 * DAY), Some(NOW + DAY)),
    };
    Some(match kind {
        0 | 1 | 24 | 25 => {
            let (starts_at, ends_at) = window(rng);
            let a = PauseMentor {
                mentor_id: mentor(rng),
                reason: reason().into(),
                starts_at,
                ends_at,
                pause_id: None,
            };
            match kind % 2 {
                0 => Command::PauseMentor(a),
                _ => Command::RequestPause(a),
            }
        }
        2 => Command::ResumeMentor(MentorRef {
            mentor_id: mentor(rng),
        }),
        3 => Command::DeactivateMentor(MentorRef {
            mentor_id: mentor(rng),
        }),
        4 => Command::ReactivateMentor(MentorRef {
            mentor_id: mentor(rng),
        }),
        5..=7 => {
            let pause_id = pick(rng, &w.pauses)?.clone();
            match rng.random_range(0..3) {
                0 => Command::ApprovePause(PauseRef { pause_id }),
                1 => Command::DeclinePause(PauseRef { pause_id }),
                _ => Command::CancelPause(PauseRef { pause_id }),
            }
        }
        8 => Command::AssignMentee(AssignMentee {
            mentor_id: mentor(rng),
            mentee_id: match rng.random_bool(0.6) {
                true => pick(rng, &w.unassigned).or(pick(rng, &w.mentees))?.clone(),
                false => pick(rng, &w.mentees)?.clone(),
            },
            assignment_id: None,
        }),
        9 => Command::EndAssignment(AssignmentRef {
            assignment_id: pick(rng, &w.assignments)?.clone(),
        }),
        10 | 11 => Command::ScheduleSession(ScheduleSession {
            mentor_id: rng.random_bool(0.85).then(|| mentor(rng)),
            mentee_id: pick(rng, &w.mentees)?.clone(),
            scheduled_at: NOW + rng.random_range(-1..48) * HOUR,
            duration_minutes: *[3, 30, 45, 60, 90, 600].choose(rng).unwrap(),
            meeting_link: [
                None,
                Some("https://meet.example.org/x"),
                None,
                None,
                Some("ftp://x"),
            ]
            .choose(rng)
            .unwrap()
            .map(str::to_owned),
            session_id: None,
        }),
        12..=14 => {
            let session_id = pick(rng, &w.sessions)?.clone();
            match rng.random_range(0..4) {
                0 => Command::CompleteSession(SessionRef { session_id }),
                1 => Command::CancelSession(SessionRef { session_id }),
                2 => Command::MarkNoShow(SessionRef { session_id }),
                _ => Command::EditSessionNotes(EditSessionNotes {
                    session_id,
                    changes: notes_edit(rng),
                }),
            }
        }
        15 => Command::SubmitMission(SubmitMission {
            mission_ref: "M-1".into(),
            title: "Essay".into(),
            content: reason().into(),
            submission_id: None,
        }),
        16 => Command::ResubmitMission(ResubmitMission {
            // Mostly the caller's own submission, when they have one.
            submission_id: match w.submitted_by.iter().position(|m| m == caller) {
                Some(i) if rng.random_bool(0.7) => w.submissions[i].clone(),
                _ => pick(rng, &w.submissions)?.clone(),
            },
            content: reason().into(),
        }),
        17 => Command::ReviewMission(ReviewMission {
            submission_id: pick(rng, &w.submissions)?.clone(),
            decision: *[ReviewDecision::Approved, ReviewDecision::ChangesRequested]
                .choose(rng)
                .unwrap(),
            feedback: [None, Some("good"), Some(" ")]
                .choose(rng)
                .unwrap()
                .map(str::to_owned),
        }),
        18..=20 | 26 | 27 => {
            // Mostly an item in the caller's own queue, when they have one.
            let mine: Vec<String> = (w.items.iter().zip(&w.item_mentors))
                .filter(|(_, m)| m.as_deref() == Some(caller))
                .map(|(i, _)| i.clone())
                .collect();
            let item_id = match rng.random_bool(0.7) {
                true => pick(rng, &mine).or(pick(rng, &w.items))?.clone(),
                false => pick(rng, &w.items)?.clone(),
            };
            match kind {
                18 | 26 => Command::ClaimWorkItem(WorkItemRef { item_id }),
                19 | 27 => Command::CompleteWorkItem(WorkItemRef { item_id }),
                _ => Command::CancelWorkItem(WorkItemRef { item_id }),
            }
        }
        21 => Command::RaiseFlag(RaiseFlag {
            mentee_id: pick(rng, &w.mentees)?.clone(),
            severity: *[FlagSeverity::Low, FlagSeverity::High].choose(rng).unwrap(),
            reason: reason().into(),
            flag_id: None,
        }),
        _ => {
            let flag_id = pick(rng, &w.flags)?.clone();
            match rng.random_bool(0.5) {
                true => Command::AcknowledgeFlag(FlagRef { flag_id }),
                false => Command::ResolveFlag(FlagRef { flag_id }),
            }
        }
    })
}

/// A notes edit as a device sends it (base64 Automerge changes), or now and then garbage.
fn notes_edit(rng: &mut StdRng) -> String {
    use base64::Engine;
    if rng.random_bool(0.2) {
        return "not base64!".into();
    }
    let mut notes = mentorsync_protocol::notes::Notes::new();
    let changes = notes.edit(b"rules", "Talked about the essay").unwrap();
    base64::engine::general_purpose::STANDARD.encode(changes)
}

/// Everything `me` may see, pulled from the server into a new device database.
async fn device(db: &Db, me: &Me) -> rusqlite::Connection {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    mentorsync_core::store::migrate(&mut conn).unwrap();
    let viewer = Viewer {
        chapter_id: me.chapter_id.clone(),
        user_id: me.id.clone(),
        role: me.role,
    };
    let client_id = uuid::Uuid::new_v4().to_string();
    for set in SyncSet::ALL {
        let mut cursor = None;
        loop {
            let req = PullRequest {
                client_id: client_id.clone(),
                cursor: cursor.take(),
                limit: Some(1000),
                ack: None,
                set: Some(set),
            };
            let page = pull(db, &viewer, req, NOW).await.unwrap();
            let page: mentorsync_core::pull::Page =
                serde_json::from_value(serde_json::to_value(&page).unwrap()).unwrap();
            mentorsync_core::pull::stage(&mut conn, set, &page).unwrap();
            if !page.has_more {
                mentorsync_core::pull::publish(&mut conn, me, NOW, set).unwrap();
                break;
            }
            cursor = Some(page.cursor);
        }
    }
    conn
}

/// `applied`, or the refusal's code.
type Verdict = String;

async fn server_verdict(db: &Db, w: &World, me: &Me, command: &Command) -> Verdict {
    let mut tx = db.write_as(Acting::Chapter(&w.chapter)).await.unwrap();
    let actor = Actor::user(&w.chapter, &me.id, me.role);
    let verdict = match domain::apply(&mut tx, &actor, NOW, command, None).await {
        Ok(_) => "applied".to_owned(),
        Err(e) => ApiError::from(e).code.to_owned(),
    };
    tx.rollback().await.unwrap();
    verdict
}

async fn run(db: &Db, seed: u64, cases: u64) {
    let hash = mentorsync_server::auth::password::hash("rule book").unwrap();
    let mut compared: BTreeMap<(String, Verdict), u64> = BTreeMap::new();
    let mut not_held = 0u64;
    let mut mismatches = Vec::new();
    let mut n = 0u64;
    // Past `cases`, worlds keep coming (up to four times as many) until every command has
    // been both applied and refused somewhere, or the comparison would prove little.
    while n < cases || (uncovered(&compared).is_some() && n < 4 * cases) {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(n));
        let w = build_world(db, &hash, &mut rng, n).await;
        // Several commands per world, each decided on the world as it was: the device's
        // change is rolled back like the server's.
        let mut devices: BTreeMap<String, rusqlite::Connection> = BTreeMap::new();
        for _ in 0..16 {
            n += 1;
            let kind = rng.random_range(0..28);
            let (mut id, mut role) = w.people.choose(&mut rng).unwrap().clone();
            let Some(mut cmd) = command(&mut rng, kind, &w, &id) else {
                continue;
            };
            // Mostly someone whose role may send it, so the rules past the role check run.
            if rng.random_bool(0.85) {
                let allowed: Vec<_> = w
                    .people
                    .iter()
                    .filter(|(_, r)| cmd.allowed_roles().contains(r))
                    .collect();
                (id, role) = (*allowed.choose(&mut rng).unwrap()).clone();
                let Some(again) = command(&mut rng, kind, &w, &id) else {
                    continue;
                };
                cmd = again;
            }
            let me = Me {
                id,
                chapter_id: w.chapter.clone(),
                role,
                display_name: "Me".into(),
                email: "me@rules.test".into(),
            };
            if !devices.contains_key(&me.id) {
                devices.insert(me.id.clone(), device(db, &me).await);
            }
            let conn = devices.get_mut(&me.id).unwrap();
            let tx = conn.transaction().unwrap();
            let local = match mentorsync_core::optimistic::apply(&tx, &me, NOW, &mut cmd) {
                Ok(_) => "applied".to_owned(),
                Err(CoreError::Rejected { code, .. }) => code,
                Err(e) => panic!("the device failed to decide {cmd:?}: {e}"),
            };
            drop(tx);
            if local == "not_found" {
                not_held += 1;
                continue;
            }
            let server = server_verdict(db, &w, &me, &cmd).await;
            if local != server {
                mismatches.push(format!(
                    "case {n}: a {role} sent {cmd:?}: device {local}, server {server}"
                ));
            }
            *compared.entry((cmd.name().to_owned(), server)).or_default() += 1;
        }
    }
    let total: u64 = compared.values().sum();
    println!("{total} verdicts compared, {not_held} commands about rows the device does not hold");
    for ((name, verdict), count) in &compared {
        println!("  {name:20} {verdict:24} {count}");
    }
    assert!(
        mismatches.is_empty(),
        "{} of {total} verdicts differ (seed {seed}):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The generator must reach both outcomes of every command, or the comparison proves
    // little: every command name is applied somewhere and refused somewhere.
    if let Some(gap) = uncovered(&compared) {
        panic!("{gap} in {n} cases (seed {seed})");
    }
}

/// A command kind not yet seen both applied and refused, if any.
fn uncovered(compared: &BTreeMap<(String, Verdict), u64>) -> Option<String> {
    let names: std::collections::BTreeSet<&str> =
        compared.keys().map(|(n, _)| n.as_str()).collect();
    if names.len() < 24 {
        return Some(format!(
            "only {} of 24 command kinds were compared",
            names.len()
        ));
    }
    for name in names {
        for applied in [true, false] {
            if !compared
                .keys()
                .any(|(n, v)| n == name && (v == "applied") == applied)
            {
                let outcome = if applied { "applied" } else { "refused" };
                return Some(format!("no {name} was {outcome}"));
            }
        }
    }
    None
}

/// Runs the comparison on a fresh database of `backend`: `cases` commands (or
/// `MENTORSYNC_RULE_CASES`).
async fn differential(backend: Backend, cases: u64) {
    let Some(test_db) = TestDb::create(backend, Owner::Configured, 8).await else {
        eprintln!("SKIPPED rule book differential on {backend:?}: set {PG_ENV} to run it");
        return;
    };
    let seed = random_seed();
    let cases = std::env::var("MENTORSYNC_RULE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    println!(
        "rule book differential on {backend:?}: seed {seed} (MENTORSYNC_SEED={seed} replays), {cases} cases"
    );
    run(&test_db.db, seed, cases).await;
    test_db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_decides_every_command_as_the_server_does_sqlite() {
    differential(Backend::Sqlite, 3_000).await;
}

/// The server's facts come from other SQL on PostgreSQL (row locks, its planner); fewer
/// cases, as each costs more there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_decides_every_command_as_the_server_does_postgres() {
    differential(Backend::Postgres, 1_000).await;
}
