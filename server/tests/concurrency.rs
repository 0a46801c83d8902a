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
    opposite_order_pushes_never_fail,
    racing_pause_and_resume_end_in_a_verdict
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

/// A coordinator's two devices pause and resume one mentor at the same moment, round after
/// round, once over REST and once over push each way. The clock moves on every read, so a
/// command that takes its time before it waits for the other would end a pause before the
/// pause began. Every command must end as applied or as a refusal the status machine
/// explains (resuming an active mentor) — never as a database rule violation.
async fn racing_pause_and_resume_end_in_a_verdict(app: &TestApp) {
    const RACES: i64 = 120;
    app.clock.tick_on_read(1);
    let token = app.a.coordinator.token.clone();
    let mentor = app.a.mentor.id.clone();
    let (pusher, mut next_id) = (uuid::Uuid::new_v4().to_string(), 1_i64);
    let mut resumes_applied = 0;
    for round in 0..RACES {
        let pause_over_push = round % 2 == 0;
        let mutation = |name: &str, id: i64| {
            let mut args = json!({"mentor_id": mentor});
            if name == "pause_mentor" {
                args["reason"] = json!("race");
            }
            json!([{"mutation_id": id, "name": name, "args": args}])
        };
        let (pause_path, resume_path) = (
            format!("/api/v1/mentors/{mentor}/pause"),
            format!("/api/v1/mentors/{mentor}/resume"),
        );
        let (pushed, rest) = if pause_over_push {
            let push = app.push(&token, &pusher, mutation("pause_mentor", next_id));
            let rest = app.post(&token, &resume_path, json!({}));
            tokio::join!(push, rest)
        } else {
            let rest = app.post(&token, &pause_path, json!({"reason": "race"}));
            let push = app.push(&token, &pusher, mutation("resume_mentor", next_id));
            let (rest, push) = tokio::join!(rest, push);
            (push, rest)
        };
        next_id += 1;
        assert_eq!(pushed.0, 200, "round {round}: {}", pushed.1);
        let verdict = &pushed.1["verdicts"][0];
        let (pause_ok, resume_ok, refusal) = if pause_over_push {
            let refusal = (rest.0 != 200).then(|| (rest.0.as_u16(), rest.1["code"].clone()));
            (verdict["status"] == "applied", rest.0 == 200, refusal)
        } else {
            let refusal = (verdict["status"] != "applied").then(|| (422, verdict["code"].clone()));
            (rest.0 == 200, verdict["status"] == "applied", refusal)
        };
        assert!(
            pause_ok,
            "round {round}: the pause must apply: {pushed:?} {rest:?}"
        );
        if resume_ok {
            resumes_applied += 1;
        } else {
            assert_eq!(
                refusal,
                Some((422, json!("invalid_transition"))),
                "round {round}: a resume that lost the race is refused by the status machine: \
                 {pushed:?} {rest:?}"
            );
            let (status, body) = app
                .post(
                    &token,
                    &format!("/api/v1/mentors/{mentor}/resume"),
                    json!({}),
                )
                .await;
            assert_eq!(status, 200, "round {round}: {body}");
        }
    }
    app.clock.tick_on_read(0);
    let broken: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM pauses WHERE mentor_id = $1 AND ends_at < starts_at",
            &[mentor.as_str()],
        )
        .await;
    assert_eq!(broken, 0);
    eprintln!("{resumes_applied} of {RACES} racing resumes came after their pause");
}
