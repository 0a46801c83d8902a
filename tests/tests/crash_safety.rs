//! The device process is killed (SIGKILL, a child process) in the middle of a pull and in
//! the middle of a push, again and again; each time its database reopens consistent —
//! nothing half-published shown, no outbox entry lost — and a later sync finishes the job
//! with every command applied exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_core::RosterFilter;
use mentorsync_server::db::q;
use mentorsync_tests::proxy::Faults;
use mentorsync_tests::{Harness, both_backends};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

both_backends!(killed_during_pull, killed_during_push);

const CLIENT_BIN: &str = env!("CARGO_BIN_EXE_crash-client");

fn rng() -> rand::rngs::StdRng {
    let seed = mentorsync_tests::random_seed();
    eprintln!("crash safety: seed {seed} — replay with MENTORSYNC_SEED={seed}");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// Runs the device as a child, waits for the first line `kill_when` accepts, then for
/// `then`, and kills it (unless it finished first); returns what it printed.
async fn run_and_kill(
    h: &Harness,
    path: &Path,
    page_size: u32,
    kill_when: impl Fn(&str) -> bool,
    then: impl std::future::Future<Output = ()>,
) -> Vec<String> {
    let mut child = tokio::process::Command::new(CLIENT_BIN)
        .arg(path)
        .arg(h.proxy.url())
        .arg(page_size.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let stop = kill_when(&line);
            seen.push(line);
            if stop {
                then.await;
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the device printed nothing for a minute");
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    seen
}

async fn verdicts(h: &Harness, client_id: &str) -> usize {
    let mut tx = h.db.read().await.unwrap();
    let n: i64 = tx
        .fetch_one(q("SELECT COUNT(*) FROM sync_mutations WHERE client_id = $1").bind(client_id))
        .await
        .unwrap();
    usize::try_from(n).unwrap()
}

fn pages(line: &str) -> u64 {
    line.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn killed_during_pull(h: &Harness) {
    let mut rng = rng();
    let path = h.dir.path().join("killed-pull.db");
    h.open_client(&path)
        .login("admin@a.test", mentorsync_tests::PASSWORD)
        .await
        .unwrap();
    // Slow pages (one row each, trickling) so that kills land inside the pull.
    h.proxy.set_faults(Faults {
        bytes_per_second: Some(8_000),
        ..Faults::default()
    });
    let mut kills = 0;
    for _ in 0..4 {
        let at = rng.random_range(1..6);
        let extra = Duration::from_millis(rng.random_range(0..40));
        let printed = run_and_kill(
            h,
            &path,
            1,
            |l| l.starts_with("pushed") && pages(l) >= at,
            tokio::time::sleep(extra),
        )
        .await;
        if printed.iter().any(|l| l.starts_with("done")) {
            break;
        }
        kills += 1;
        // Reopens consistent: a set shows either its last complete round or nothing,
        // never half a round, and what the app reads is what the server confirmed.
        let c = h.open_client(&path);
        let roster = c.roster(&RosterFilter::default()).unwrap().len();
        assert!(
            roster == 0 || roster == 2,
            "half a roster round is never shown ({roster} mentors)"
        );
        let status = c.sync_status().unwrap();
        let roster_set = &status.sets[0];
        assert_eq!(
            roster == 2,
            roster_set.last_success_at.is_some(),
            "rows are shown exactly when their round completed: {status:?}"
        );
        assert_eq!(c.dump(true).unwrap(), c.dump(false).unwrap());
    }
    assert!(kills >= 2, "the device was killed mid-pull ({kills} times)");
    h.proxy.set_faults(Faults::default());
    let c = h.open_client(&path);
    c.sync(|_| {}).await.unwrap();
    assert_eq!(c.roster(&RosterFilter::default()).unwrap().len(), 2);
    h.assert_mirrors_server(&c, &h.a.id, "admin@a.test").await;
}

async fn killed_during_push(h: &Harness) {
    let mut rng = rng();
    let path = h.dir.path().join("killed-push.db");
    let c = h.client_at(&path, "coordinator@a.test").await;
    c.sync(|_| {}).await.unwrap();
    // Responses arrive a second late, after the server committed.
    h.proxy.set_faults(Faults {
        delay: 1.0,
        max_delay: Duration::from_secs(1),
        ..Faults::default()
    });
    let client_id = c.client_id().unwrap();
    drop(c);
    let mut issued = Vec::new();
    let mut committed_unheard = 0;
    for round in 0..4 {
        let c = h.open_client(&path);
        for _ in 0..10 {
            issued.push(if issued.len() % 2 == 0 {
                c.pause_mentor(&h.a.mentor, "exams", None).unwrap()
            } else {
                c.resume_mentor(&h.a.mentor).unwrap()
            });
        }
        drop(c);
        // Even rounds die at once (before or while the push leaves); odd ones as soon as
        // the server holds the verdicts, while the answer is on its way.
        let all = issued.len();
        let wait = async {
            if round % 2 == 1 {
                while verdicts(h, &client_id).await < all {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            } else {
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..5))).await;
            }
        };
        run_and_kill(h, &path, 100, |l| l == "started", wait).await;
        let c = h.open_client(&path);
        let pending = c.pending_commands().unwrap().len();
        let on_server = verdicts(h, &client_id).await;
        eprintln!(
            "push round {round}: {pending} in the outbox, {on_server} verdicts on the server"
        );
        assert!(
            pending + on_server >= issued.len(),
            "round {round}: every queued command is still in the outbox or has a verdict \
             ({pending} pending, {on_server} verdicts, {} queued)",
            issued.len()
        );
        if on_server == issued.len() && pending >= 10 {
            committed_unheard += 1;
        }
    }
    assert!(
        committed_unheard > 0,
        "no kill landed between the server's commit and the device hearing of it"
    );
    h.proxy.set_faults(Faults::default());
    let c = h.open_client(&path);
    c.sync(|_| {}).await.unwrap();
    let (applied, rejected, _) = mentorsync_tests::assert_verdicts(&h.db, &c, &issued).await;
    assert_eq!((applied, rejected), (issued.len(), 0));
    h.assert_mirrors_server(&c, &h.a.id, "coordinator@a.test")
        .await;
}
