//! Convergence under faults and crashes: 20 devices built on client-core issue random
//! commands offline — many on the same two mentors, so they collide — and sync at random
//! moments through a proxy that drops requests, drops responses after the server committed,
//! answers 503, delivers requests twice, cuts bodies halfway and delays; meanwhile the
//! server, a separate process, is killed with SIGKILL and restarted at least three times.
//!
//! When the network heals, every device syncs and the test proves:
//! - every command a device queued has exactly one verdict on the server;
//! - every rejected one is on its device with the server's code and reason, and changed
//!   nothing (no audit row);
//! - every applied one made exactly the audited transitions its verdict lists, once;
//! - no audit row exists that no applied command explains;
//! - every device's rows equal the server's rows and what a brand-new device receives.
//!
//! The random seed is printed; `MENTORSYNC_SEED=<seed>` replays the same choices (timing
//! differs). `MENTORSYNC_SOAK_SECS=<n>` keeps the faults and kills going for n seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_core::{Client, CoreError};
use mentorsync_protocol::FlagSeverity;
use mentorsync_protocol::command::*;
use mentorsync_server::clock::{Clock, SystemClock};
use mentorsync_server::db::{ConnectOptions, Db, q};
use mentorsync_server::seed::SmallChapter;
use mentorsync_tests::process::ServerProcess;
use mentorsync_tests::proxy::{Faults, Proxy};
use mentorsync_tests::{
    PASSWORD, PG_ENV, assert_mirrors, assert_verdicts, random_seed, seed_fixture,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_test-server");
const DAY: i64 = 86_400_000;
/// Every device takes at least this many steps, kills or not.
const MIN_STEPS: u32 = 12;
/// A sync that takes longer than this is hung, not slow.
const SYNC_LIMIT: Duration = Duration::from_secs(60);

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twenty_devices_converge_through_faults_and_server_kills() {
        super::run(false).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twenty_devices_converge_through_faults_and_server_kills() {
        super::run(true).await;
    }
}

/// Which devices exist: (email, role) × how many devices of that person.
const DEVICES: [(&str, &str, usize); 6] = [
    ("admin@a.test", "admin", 3),
    ("coordinator@a.test", "coordinator", 6),
    ("coordinator2@a.test", "coordinator", 2),
    ("mentor@a.test", "mentor", 4),
    ("mentor2@a.test", "mentor", 2),
    ("mentee@a.test", "mentee", 3),
];

struct Device {
    email: &'static str,
    role: &'static str,
    user_id: String,
    client: Client,
    /// Mutation ids of every command the device queued.
    issued: Mutex<Vec<i64>>,
    refused_locally: AtomicU64,
    syncs_failed: AtomicU64,
}

async fn run(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (url, schema) = if postgres {
        let Some(url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
            eprintln!("SKIPPED convergence::postgres: set {PG_ENV} to run it");
            return;
        };
        let schema = format!("msconv_{}", uuid::Uuid::new_v4().simple());
        (url, Some(schema))
    } else {
        (
            format!("sqlite://{}", dir.path().join("server.db").display()),
            None,
        )
    };
    let seed = random_seed();
    eprintln!(
        "convergence ({}): seed {seed} — replay with MENTORSYNC_SEED={seed}",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let db = Db::connect(&ConnectOptions {
        pg_schema: schema.clone(),
        ..ConnectOptions::new(url.clone())
    })
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let (a, _b) = seed_fixture(&db, SystemClock.now_ms()).await;

    let server = ServerProcess::start(
        SERVER_BIN,
        &url,
        schema.as_deref(),
        &dir.path().join("server.log"),
    );
    let proxy = Arc::new(Proxy::with_seed(server.addr, seed).await);
    let server = Arc::new(Mutex::new(server));

    let devices = sign_in(&proxy, dir.path()).await;
    let unattributed = unattributed_audit_rows(&db, &a.id).await;
    chaos(seed, &devices, &proxy, &server).await;
    heal(&devices, &proxy).await;
    verify(&db, &a, &devices, &server, dir.path()).await;
    assert_eq!(
        unattributed_audit_rows(&db, &a.id).await,
        unattributed,
        "every audit row written during the run belongs to an applied device command"
    );
    server.lock().unwrap().kill();
    db.close().await;
    if let Some(schema) = schema {
        let _ = Db::drop_pg_schema(&url, &schema).await;
    }
}

async fn unattributed_audit_rows(db: &Db, chapter: &str) -> i64 {
    let mut tx = db.read().await.unwrap();
    tx.fetch_one(
        q("SELECT COUNT(*) FROM audit_log WHERE chapter_id = $1 AND client_id IS NULL")
            .bind(chapter),
    )
    .await
    .unwrap()
}

async fn sign_in(proxy: &Proxy, dir: &std::path::Path) -> Vec<Arc<Device>> {
    let mut devices = Vec::new();
    for (email, role, n) in DEVICES {
        for i in 0..n {
            let path = dir.join(format!("{email}-{i}.db"));
            let client = Client::open(&path, &proxy.url()).unwrap();
            let me = client.login(email, PASSWORD).await.unwrap();
            client.sync(|_| {}).await.unwrap();
            devices.push(Arc::new(Device {
                email,
                role,
                user_id: me.id.clone(),
                client,
                issued: Mutex::new(Vec::new()),
                refused_locally: AtomicU64::new(0),
                syncs_failed: AtomicU64::new(0),
            }));
        }
    }
    assert_eq!(devices.len(), 20);
    devices
}

/// Faults on, devices busy, the server killed and restarted; returns when the kills are
/// done and every device took its minimum number of steps.
async fn chaos(
    seed: u64,
    devices: &[Arc<Device>],
    proxy: &Arc<Proxy>,
    server: &Arc<Mutex<ServerProcess>>,
) {
    proxy.set_faults(Faults::chaos());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (i, dev) in devices.iter().enumerate() {
        let (dev, stop) = (dev.clone(), stop.clone());
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9));
        tasks.push(tokio::spawn(async move {
            let mut steps = 0;
            while steps < MIN_STEPS || !stop.load(Ordering::SeqCst) {
                steps += 1;
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..60))).await;
                if rng.random_bool(0.6) {
                    for _ in 0..rng.random_range(1..=3) {
                        act(&dev, &mut rng);
                    }
                } else {
                    match tokio::time::timeout(SYNC_LIMIT, dev.client.sync(|_| {})).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(CoreError::Offline(_))) => {
                            dev.syncs_failed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => panic!("{}: sync failed with {e:?}", dev.email),
                        Err(_) => panic!("{}: sync hung for {SYNC_LIMIT:?}", dev.email),
                    }
                }
            }
            steps
        }));
    }
    let soak = std::env::var("MENTORSYNC_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed.rotate_left(17));
    let mut kills = 0;
    while kills < 3 || soak.is_some_and(|s| started.elapsed() < s) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(400..1500))).await;
        let down_for = Duration::from_millis(rng.random_range(50..600));
        let server = server.clone();
        let addr = tokio::task::spawn_blocking(move || {
            let mut s = server.lock().unwrap();
            s.kill();
            std::thread::sleep(down_for);
            s.restart()
        })
        .await
        .unwrap();
        proxy.set_upstream(addr);
        kills += 1;
        eprintln!(
            "killed the server (SIGKILL) #{kills} at {:.1?}; back on {addr} after {down_for:?}",
            started.elapsed()
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut steps = 0;
    for t in tasks {
        steps += t.await.unwrap();
    }
    eprintln!(
        "chaos: {kills} kills, {steps} device steps in {:.1?}; proxy: {}",
        started.elapsed(),
        proxy.stats()
    );
    let s = proxy.stats();
    for (what, n) in [
        ("dropped requests", &s.dropped_requests),
        ("503 answers", &s.unavailable),
        ("dropped responses", &s.dropped_responses),
        ("duplicated requests", &s.duplicated),
        ("cut bodies", &s.cut_bodies),
        ("requests that found the server down", &s.upstream_down),
    ] {
        assert!(
            n.load(Ordering::Relaxed) > 0,
            "no {what}: the test proved nothing about them"
        );
    }
}

/// The network heals: every device syncs until it succeeds, then once more so that it
/// also holds what the devices after it pushed.
async fn heal(devices: &[Arc<Device>], proxy: &Proxy) {
    proxy.set_faults(Faults::default());
    for pass in 0..2 {
        for dev in devices {
            let mut tries = 0;
            loop {
                tries += 1;
                match tokio::time::timeout(SYNC_LIMIT, dev.client.sync(|_| {})).await {
                    Ok(Ok(_)) => break,
                    Ok(Err(e)) if tries < 5 => {
                        eprintln!("{} pass {pass}: sync failed ({e}); retrying", dev.email);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Ok(Err(e)) => panic!("{}: no sync on a healthy network: {e:?}", dev.email),
                    Err(_) => panic!("{}: sync hung on a healthy network", dev.email),
                }
            }
        }
    }
}

/// Rows of one kind in the device's view.
fn rows(client: &Client, entity: &str) -> Vec<Value> {
    client
        .dump(true)
        .unwrap()
        .into_iter()
        .filter(|(e, ..)| e == entity)
        .map(|(.., data)| data)
        .collect()
}

fn with_status<'a>(rows: &'a [Value], status: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["status"] == status).collect()
}

fn id(row: &Value) -> String {
    row["id"].as_str().unwrap_or_default().to_owned()
}

/// One random command the device's person could plausibly issue, queued offline.
fn act(dev: &Device, rng: &mut StdRng) {
    let c = &dev.client;
    let mentors = rows(c, "mentor");
    let pauses = rows(c, "pause");
    let flags = rows(c, "flag");
    let sessions = rows(c, "session");
    let mentees = rows(c, "mentee");
    let pick = |rows: Vec<&Value>, rng: &mut StdRng| rows.choose(rng).map(|r| id(r));
    let reason = format!("r{}", rng.random_range(0..1000));
    let command = match dev.role {
        "admin" | "coordinator" => match rng.random_range(0..10) {
            0..=2 => pick(mentors.iter().collect(), rng).map(|m| {
                Command::PauseMentor(PauseMentor {
                    mentor_id: m,
                    reason,
                    starts_at: None,
                    ends_at: None,
                    pause_id: None,
                })
            }),
            3..=4 => pick(mentors.iter().collect(), rng)
                .map(|m| Command::ResumeMentor(MentorRef { mentor_id: m })),
            5 => pick(with_status(&mentors, "active"), rng)
                .map(|m| Command::DeactivateMentor(MentorRef { mentor_id: m })),
            6 if dev.role == "admin" => pick(with_status(&mentors, "inactive"), rng)
                .map(|m| Command::ReactivateMentor(MentorRef { mentor_id: m })),
            6 => pick(with_status(&pauses, "requested"), rng)
                .map(|p| Command::DeclinePause(PauseRef { pause_id: p })),
            7 => pick(with_status(&pauses, "requested"), rng)
                .map(|p| Command::ApprovePause(PauseRef { pause_id: p })),
            8 => pick(with_status(&flags, "open"), rng)
                .map(|f| Command::AcknowledgeFlag(FlagRef { flag_id: f })),
            _ => pick(with_status(&flags, "acknowledged"), rng)
                .map(|f| Command::ResolveFlag(FlagRef { flag_id: f })),
        },
        "mentor" => match rng.random_range(0..8) {
            0 => Some(Command::RequestPause(PauseMentor {
                mentor_id: dev.user_id.clone(),
                reason,
                starts_at: None,
                ends_at: None,
                pause_id: None,
            })),
            1 => pick(
                pauses
                    .iter()
                    .filter(|p| {
                        p["mentor_id"] == dev.user_id.as_str() && p["status"] == "requested"
                    })
                    .collect(),
                rng,
            )
            .map(|p| Command::CancelPause(PauseRef { pause_id: p })),
            2 => pick(mentees.iter().collect(), rng).map(|m| {
                Command::RaiseFlag(RaiseFlag {
                    mentee_id: m,
                    severity: FlagSeverity::Low,
                    reason,
                    flag_id: None,
                })
            }),
            3..=4 => pick(mentees.iter().collect(), rng).map(|m| {
                Command::ScheduleSession(ScheduleSession {
                    mentee_id: m,
                    mentor_id: None,
                    scheduled_at: SystemClock.now_ms() + rng.random_range(1..30) * DAY,
                    duration_minutes: 30,
                    meeting_link: None,
                    session_id: None,
                })
            }),
            5 => pick(with_status(&sessions, "scheduled"), rng)
                .map(|s| Command::CompleteSession(SessionRef { session_id: s })),
            6 => pick(with_status(&sessions, "scheduled"), rng)
                .map(|s| Command::CancelSession(SessionRef { session_id: s })),
            _ => {
                if let Some(s) = pick(sessions.iter().collect(), rng) {
                    record(dev, c.edit_session_notes(&s, &format!("notes {reason}")));
                }
                None
            }
        },
        _ => Some(Command::SubmitMission(SubmitMission {
            mission_ref: format!("M-{}", rng.random_range(0..1_000_000)),
            title: "Work".into(),
            content: reason,
            submission_id: None,
        })),
    };
    if let Some(command) = command {
        record(dev, c.execute(command));
    }
}

fn record(dev: &Device, queued: Result<i64, CoreError>) {
    match queued {
        Ok(id) => dev.issued.lock().unwrap().push(id),
        Err(CoreError::Rejected { .. }) => {
            dev.refused_locally.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => panic!("{}: queuing a command failed: {e:?}", dev.email),
    }
}

async fn verify(
    db: &Db,
    a: &SmallChapter,
    devices: &[Arc<Device>],
    server: &Arc<Mutex<ServerProcess>>,
    dir: &std::path::Path,
) {
    let (mut applied_total, mut rejected_total, mut audited_total) = (0, 0, 0);
    for dev in devices {
        let issued = dev.issued.lock().unwrap().clone();
        let (applied, rejected, audited) = assert_verdicts(db, &dev.client, &issued).await;
        applied_total += applied;
        rejected_total += rejected;
        audited_total += audited;
    }

    // Every device holds the server's rows, and what a new device of its person would get.
    let addr = server.lock().unwrap().addr;
    let mut fresh: BTreeMap<&str, Client> = BTreeMap::new();
    for dev in devices {
        if !fresh.contains_key(dev.email) {
            let c = Client::open(
                &dir.join(format!("fresh-{}.db", dev.email)),
                &format!("http://{addr}"),
            )
            .unwrap();
            c.login(dev.email, PASSWORD).await.unwrap();
            fresh.insert(dev.email, c);
        }
        assert_mirrors(
            db,
            SystemClock.now_ms(),
            &dev.client,
            &a.id,
            &fresh[dev.email],
        )
        .await;
    }
    let refused: u64 = devices
        .iter()
        .map(|d| d.refused_locally.load(Ordering::Relaxed))
        .sum();
    let failed: u64 = devices
        .iter()
        .map(|d| d.syncs_failed.load(Ordering::Relaxed))
        .sum();
    eprintln!(
        "verified: {applied_total} applied ({audited_total} audited transitions), {rejected_total} rejected with reasons, {refused} refused on the device before queuing, {failed} syncs failed on the way"
    );
    assert!(
        applied_total > 20 && rejected_total > 0,
        "too little happened to prove anything"
    );
}
