//! 64 OS threads race pause/resume commands on ONE mentor, each carrying the version it
//! read. Exactly one command wins per version; every loser gets 409; the audit log holds
//! one row per win; the mentor's version counts the wins; no constraint is left violated
//! (at most one open pause, and the mentor is paused exactly when a pause is active).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

both_backends!(
    conflicting_commands_on_one_mentor,
    opposite_order_pushes_never_fail
);

const THREADS: usize = 64;
const ROUNDS: usize = 4;

async fn conflicting_commands_on_one_mentor(app: &TestApp) {
    let base = app.base.clone();
    let token = app.a.coordinator.token.clone();
    let mentor = app.a.mentor.id.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (base, token, mentor, barrier) =
                    (base.clone(), token.clone(), mentor.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder()
                        .no_proxy()
                        .build()
                        .unwrap();
                    let mut out = Vec::new();
                    for _ in 0..ROUNDS {
                        let current: Value = http
                            .get(format!("{base}/api/v1/mentors/{mentor}"))
                            .bearer_auth(&token)
                            .send()
                            .unwrap()
                            .json()
                            .unwrap();
                        let version = current["version"].as_i64().unwrap();
                        let (path, body) = if current["status"] == "active" {
                            (
                                "pause",
                                json!({"reason": "race", "expected_version": version}),
                            )
                        } else {
                            ("resume", json!({"expected_version": version}))
                        };
                        barrier.wait();
                        let r = http
                            .post(format!("{base}/api/v1/mentors/{mentor}/{path}"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .unwrap();
                        let status = r.status().as_u16();
                        let body: Value = r.json().unwrap();
                        out.push((status, version, body));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    let mut won_versions = HashSet::new();
    let mut wins = 0i64;
    for (status, seen, body) in &outcomes {
        match status {
            200 => {
                wins += 1;
                assert_eq!(
                    body["version"].as_i64().unwrap(),
                    seen + 1,
                    "a win moves the version by one"
                );
                assert!(
                    won_versions.insert(*seen),
                    "two commands won on version {seen}"
                );
            }
            409 => assert_eq!(body["code"], "version_conflict", "{body}"),
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(outcomes.len(), THREADS * ROUNDS);
    assert!(wins >= ROUNDS as i64, "each round has a winner");

    let m = app.a.mentor.id.as_str();
    let version: i64 = app
        .scalar(
            "SELECT version FROM mentor_profiles WHERE user_id = $1",
            &[m],
        )
        .await;
    assert_eq!(version, 1 + wins, "version counts exactly the wins");
    let audited: i64 =
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'mentor' AND entity_id = $1 AND action IN ('pause', 'resume')", &[m]).await;
    assert_eq!(audited, wins, "one audit row per applied transition");
    let open: i64 = app.scalar("SELECT COUNT(*) FROM pauses WHERE mentor_id = $1 AND status IN ('requested', 'scheduled', 'active')", &[m]).await;
    assert!(open <= 1);
    let status: String = app
        .scalar(
            "SELECT status FROM mentor_profiles WHERE user_id = $1",
            &[m],
        )
        .await;
    let active: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM pauses WHERE mentor_id = $1 AND status = 'active'",
            &[m],
        )
        .await;
    assert_eq!(
        status == "paused",
        active == 1,
        "paused exactly while a pause is active"
    );
    let pauses: i64 = app
        .scalar("SELECT COUNT(*) FROM pauses WHERE mentor_id = $1", &[m])
        .await;
    let pause_wins: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = $1 AND action = 'pause'",
            &[m],
        )
        .await;
    assert_eq!(
        pauses, pause_wins,
        "no pause row without its winning command"
    );
}

/// Two devices (of the admin) push the same two mentors' changes in opposite orders, again and again, at
/// the same moment. On PostgreSQL their transactions deadlock now and then and one is
/// aborted; the server runs it again, so every push is answered 200 with a verdict per
/// command — never a 503 for something the devices did right.
async fn opposite_order_pushes_never_fail(app: &TestApp) {
    let a = &app.a;
    let (m1, m2) = (a.mentor.id.clone(), a.other_mentor.id.clone());
    let devices = [
        (
            a.admin.token.clone(),
            uuid::Uuid::new_v4().to_string(),
            [m1.clone(), m2.clone()],
        ),
        (
            a.admin.token.clone(),
            uuid::Uuid::new_v4().to_string(),
            [m2, m1],
        ),
    ];
    let mut applied = 0;
    for round in 0..10_i64 {
        let name = if round % 2 == 0 {
            "pause_mentor"
        } else {
            "resume_mentor"
        };
        let pushes = devices.iter().map(|(token, client, order)| {
            let mutations: Vec<serde_json::Value> = order
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let mut args = json!({"mentor_id": m});
                    if name == "pause_mentor" {
                        args["reason"] = json!("r");
                    }
                    json!({"mutation_id": 2 * round + i as i64 + 1, "name": name, "args": args})
                })
                .collect();
            app.push(token, client, json!(mutations))
        });
        for (status, body) in futures::future::join_all(pushes).await {
            assert_eq!(status, 200, "round {round}: {body}");
            let verdicts = body["verdicts"].as_array().unwrap();
            assert_eq!(verdicts.len(), 2);
            applied += verdicts.iter().filter(|v| v["status"] == "applied").count();
        }
    }
    assert_eq!(applied, 20, "each round changed each mentor once");
}
