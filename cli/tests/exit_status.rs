//! The `mentorsync` binary against a real server: a sync that did not happen exits
//! non-zero and says why; a session the server ended shows as signed out.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_tests::{Harness, PASSWORD, both_backends};
use std::process::Output;

both_backends!(a_failed_sync_is_a_failure);

fn cli(h: &Harness, db: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mentorsync"))
        .arg("--db")
        .arg(db)
        .args(["--server", &h.proxy.url()])
        .args(args)
        .env("MENTORSYNC_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

fn fails_saying(out: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit 0: {stderr}");
    assert!(stderr.contains(words), "{words:?} not in: {stderr}");
}

async fn a_failed_sync_is_a_failure(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");

    fails_saying(&cli(h, &db, &["sync"]), "sign in");
    let out = cli(h, &db, &["login", "--email", "coordinator@a.test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cli(h, &db, &["sync"]).status.success());

    // The server cannot be reached: not synced, exit 1, and the reason.
    h.proxy.take_down();
    fails_saying(&cli(h, &db, &["sync"]), "offline");
    h.proxy.bring_up();

    // The server ends every session of this person (signed out elsewhere, revoked).
    {
        let mut tx = h.db.write().await.unwrap();
        tx.execute(mentorsync_server::db::q(
            "UPDATE token_families SET revoked_at = 1",
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    fails_saying(&cli(h, &db, &["sync"]), "sign in required");
    let status = cli(h, &db, &["status"]);
    assert!(status.status.success());
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("signed in: false"), "{stdout}");
}
