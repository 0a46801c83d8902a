//! The real `mentorsync-server` binary: migrate, seed, serve with JSON logs and request
//! ids, and a clean exit on SIGTERM with in-flight work finished.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mentorsync-server");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(deadline: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn migrate_seed_serve_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());

    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(BIN)
        .args([
            "seed",
            "--demo",
            "--mentors",
            "4",
            "--mentees-per-mentor",
            "3",
            "--coordinators",
            "2",
            "--cohorts",
            "1",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("coordinator01@demo.mentorsync.dev") && stderr.contains("mentorsync-demo"),
        "prints the logins: {stderr}"
    );
    // Seeding twice is refused politely, not duplicated.
    let again = Command::new(BIN)
        .args(["seed", "--demo", "--mentors", "4", "--database-url", &url])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already present"));

    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &url,
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_until(Duration::from_secs(20), || http
        .get(format!("{base}/healthz"))
        .send()
        .is_ok_and(|r| r.status() == 200)));
    let r = http
        .get(format!("{base}/readyz"))
        .header("x-request-id", "req-42")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-request-id"],
        "req-42",
        "request ids propagate"
    );
    let r = http.get(format!("{base}/healthz")).send().unwrap();
    assert!(
        r.headers().contains_key("x-request-id"),
        "a request id is assigned when none is sent"
    );
    // An id that is not a plain token is replaced, not echoed or logged.
    let forged = "x request_id=forged level=ERROR \"quoted\"";
    let r = http
        .get(format!("{base}/readyz"))
        .header("x-request-id", forged)
        .send()
        .unwrap();
    let echoed = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        uuid::Uuid::parse_str(&echoed).is_ok(),
        "a fresh id replaces {forged:?}: {echoed}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    assert!(wait_until(Duration::from_secs(20), || {
        exited = child.try_wait().unwrap();
        exited.is_some()
    }));
    assert!(exited.unwrap().success(), "clean exit on SIGTERM");
    let lines: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string());
    }
    assert!(
        lines.iter().any(|l| l.contains("req-42")),
        "the request id is in the logs"
    );
    assert!(lines.iter().any(|l| l.contains("stopped")));
    assert!(
        !lines.iter().any(|l| l.contains("forged")),
        "a forged request id never reaches the log"
    );
}
