//! Delta sync on both backends: commit-ordered change log, scoped paginated pulls,
//! exactly-once pushes, scope changes, compaction, compression, protocol versions, pokes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use futures::StreamExt;
use mentorsync_protocol::Command;
use mentorsync_protocol::command::PauseMentor;
use mentorsync_server::domain::{self, Actor};
use serde_json::{Value, json};
use std::time::Duration;

both_backends!(
    first_sync_and_delta,
    commit_order_is_never_skipped,
    push_is_exactly_once,
    racing_copies_of_a_push_apply_once,
    reassignment_moves_rows_between_scopes,
    paging_while_writers_run,
    chapters_and_clients_are_isolated,
    compaction_resets_old_cursors,
    compression_and_protocol_versions,
    small_responses_and_streams_are_not_compressed,
    events_poke_on_visible_changes,
    sets_partition_the_sync,
    a_cursor_serves_only_its_own_set,
    event_streams_are_limited_per_user,
    pages_and_bodies_are_capped,
    shutdown_ends_streams_and_stops_serving,
);

/// A page never exceeds the maximum whatever the client asks, and a push body over the
/// limit is refused before it is read (both protect the server from one greedy device).
async fn pages_and_bodies_are_capped(app: &TestApp) {
    let chapter = app.a.id.clone();
    app.seed(|s| {
        for i in 0..1_100 {
            s.mentee(&chapter, &format!("m{i}@a.test"), "Many Mentee", None, &[]);
        }
    })
    .await;
    let client = uuid::Uuid::new_v4().to_string();
    let (status, page) = app
        .pull_page(&app.a.admin.token, &client, None, 100_000)
        .await;
    assert_eq!(status, 200, "{page}");
    let rows = page["changes"].as_array().unwrap().len();
    assert_eq!(rows, 1_000, "a page holds at most 1,000 rows");
    assert_eq!(page["has_more"], true);

    let huge: Vec<Value> = (1..=50)
        .map(|i| json!({"mutation_id": i, "name": "pause_mentor", "args": {"mentor_id": app.a.mentor.id, "reason": "x".repeat(6_000)}}))
        .collect();
    assert_error(
        &app.push(
            &app.a.coordinator.token,
            &uuid::Uuid::new_v4().to_string(),
            json!(huge),
        )
        .await,
        413,
        "payload_too_large",
    );
}

async fn event_streams_are_limited_per_user(app: &TestApp) {
    let a = &app.a;
    let open = |token: String| {
        let url = format!("{}/api/v1/sync/events?protocol=1", app.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let max = app.state.settings.event_streams_per_user;
    let mut streams = Vec::new();
    for _ in 0..max {
        let r = open(a.coordinator.token.clone()).await;
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    let refused = open(a.coordinator.token.clone()).await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(
        open(a.mentor.token.clone()).await.status(),
        200,
        "other users are not affected"
    );

    // Closing a stream frees its slot (a change makes the server notice the closed connection).
    drop(streams.pop());
    app.post(
        &a.coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.mentor.id),
        json!({"reason": "x"}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = open(a.coordinator.token.clone()).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sets_partition_the_sync(app: &TestApp) {
    let a = &app.a;
    app.post(
        &a.mentor.token,
        "/api/v1/mentor/flags",
        json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "r"}),
    )
    .await;
    app.post(
        &a.mentee.token,
        "/api/v1/missions",
        json!({"mission_ref": "M", "title": "t", "content": "c"}),
    )
    .await;
    let mut all = MiniClient::new();
    all.sync(app, &a.coordinator.token, 1000).await;
    let mut union = Vec::new();
    for (set, kinds) in [
        (
            "roster",
            &[
                "mentor",
                "coordinator_assignment",
                "pause",
                "mentee_assignment",
                "flag",
            ][..],
        ),
        ("queue", &["submission", "work_item"][..]),
        ("rest", &["mentee", "session"][..]),
    ] {
        let mut c = MiniClient {
            set: Some(set),
            ..MiniClient::new()
        };
        c.sync(app, &a.coordinator.token, 2).await;
        assert!(
            c.rows.keys().all(|(e, _)| kinds.contains(&e.as_str())),
            "{set}: {:?}",
            c.rows.keys()
        );
        union.extend(c.versions());
    }
    union.sort();
    assert_eq!(
        union,
        all.versions(),
        "the sets together are the whole sync"
    );
    let (status, body) = app
        .pull_set(&a.coordinator.token, &all.id, None, 10, Some("everything"))
        .await;
    assert_error(&(status, body), 400, "bad_request");
}

fn pause_cmd(mentor: &str) -> Value {
    json!({"mutation_id": 1, "name": "pause_mentor", "args": {"mentor_id": mentor, "reason": "leave"}})
}

async fn first_sync_and_delta(app: &TestApp) {
    let a = &app.a;
    let mut c = MiniClient::new();
    let pages = c.sync(app, &a.coordinator.token, 2).await;
    assert!(pages.len() > 1, "paged at 2 rows per page");
    assert_eq!(pages[0]["scope_change"]["full_reset"], true);
    // The coordinator sees their mentor, that mentor's mentee, and the assignments; not the
    // other coordinator's mentor or the unassigned mentee.
    assert!(c.has("mentor", &a.mentor.id));
    assert!(c.has("mentee", &a.mentee.id));
    assert!(!c.has("mentor", &a.other_mentor.id));
    assert!(!c.has("mentee", &a.free_mentee.id));
    let target = pages[0]["target"].as_i64().unwrap();
    assert!(
        pages.iter().all(|p| p["target"].as_i64() == Some(target)),
        "the first page fixes the target"
    );

    // 3 commands → the next round is one page with exactly those rows.
    app.post(
        &a.coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.mentor.id),
        json!({"reason": "x"}),
    )
    .await;
    app.post(
        &a.mentor.token,
        "/api/v1/mentor/flags",
        json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "r"}),
    )
    .await;
    app.post(
        &a.other_coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.other_mentor.id),
        json!({"reason": "y"}),
    )
    .await;
    let pages = c.sync(app, &a.coordinator.token, 500).await;
    assert_eq!(pages.len(), 1);
    assert!(pages[0].get("scope_change").is_none());
    let entities: Vec<&str> = pages[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entity"].as_str().unwrap())
        .collect();
    assert_eq!(
        entities.len(),
        3,
        "pause + mentor + flag, not the other coordinator's mentor: {entities:?}"
    );
    assert_eq!(
        c.rows[&("mentor".to_owned(), a.mentor.id.clone())].2["status"],
        "paused"
    );

    // An empty round changes nothing.
    let pages = c.sync(app, &a.coordinator.token, 500).await;
    assert!(pages[0]["changes"].as_array().unwrap().is_empty());
    converged(app, &a.coordinator.token, &c).await;
}

/// Asserts `c` holds exactly what a brand-new client syncing now would hold.
async fn converged(app: &TestApp, token: &str, c: &MiniClient) {
    let mut fresh = MiniClient::new();
    fresh.sync(app, token, 1000).await;
    assert_eq!(
        c.versions(),
        fresh.versions(),
        "incremental sync diverged from a fresh snapshot"
    );
    assert_eq!(c.rows, fresh.rows);
}

async fn commit_order_is_never_skipped(app: &TestApp) {
    let a = app.a.clone();
    let mut puller = MiniClient::new();
    puller.sync(app, &a.admin.token, 500).await;

    // Writer A takes its change-log position and holds its transaction open.
    let mut tx_a = app.db.write().await.unwrap();
    let actor = Actor::user(
        a.id.clone(),
        a.coordinator.id.clone(),
        mentorsync_protocol::Role::Coordinator,
    );
    let cmd = Command::PauseMentor(PauseMentor {
        mentor_id: a.mentor.id.clone(),
        reason: "A".into(),
        starts_at: None,
        ends_at: None,
        pause_id: None,
    });
    domain::execute(&mut tx_a, &actor, T0, &cmd, None)
        .await
        .unwrap();
    tx_a.flush_changes().await.unwrap();

    // Writer B tries to commit a later change meanwhile.
    let (base, token, other) = (
        app.base.clone(),
        a.other_coordinator.token.clone(),
        a.other_mentor.id.clone(),
    );
    let writer_b = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/mentors/{other}/pause"))
            .bearer_auth(token)
            .json(&json!({"reason": "B"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    // While A is open, B cannot commit past it, and a puller sees neither.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !writer_b.is_finished(),
        "B committed a later position while A was still open"
    );
    let pages = puller.sync(app, &a.admin.token, 500).await;
    assert!(pages[0]["changes"].as_array().unwrap().is_empty());

    tx_a.commit().await.unwrap();
    assert_eq!(writer_b.await.unwrap(), 200);
    let pages = puller.sync(app, &a.admin.token, 500).await;
    let reasons: Vec<String> = pages
        .iter()
        .flat_map(|p| p["changes"].as_array().unwrap().clone())
        .filter(|c| c["entity"] == "pause")
        .map(|c| c["row"]["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["A", "B"], "A then B, neither skipped");
    let positions: Vec<i64> = {
        let mut tx = app.db.read().await.unwrap();
        tx.fetch_all(mentorsync_server::db::q(
            "SELECT position FROM change_log WHERE entity = 'pause' ORDER BY position",
        ))
        .await
        .unwrap()
    };
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    converged(app, &a.admin.token, &puller).await;
}

/// The pause and resume transitions audited for a mentor.
async fn pauses_audited(app: &TestApp, mentor: &str) -> i64 {
    app.scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity_id = $1 AND action IN ('pause', 'resume')",
        &[mentor],
    )
    .await
}

async fn push_is_exactly_once(app: &TestApp) {
    let a = &app.a;
    let client = uuid::Uuid::new_v4().to_string();
    let batch = json!([pause_cmd(&a.mentor.id), {"mutation_id": 2, "name": "resume_mentor", "args": {"mentor_id": a.mentor.id}}]);
    let (status, first) = app.push(&a.coordinator.token, &client, batch.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["last_mutation_id"], 2);
    assert_eq!(first["verdicts"][0]["status"], "applied");
    assert_eq!(first["verdicts"][1]["status"], "applied");
    // The response was lost; the client sends the same push again.
    let (status, again) = app.push(&a.coordinator.token, &client, batch).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "a replay returns the recorded verdicts");
    assert_eq!(pauses_audited(app, &a.mentor.id).await, 2, "applied once");

    // Rejections are verdicts with a reason and the current row; the id is used up.
    let (_, r) = app
        .push(&a.coordinator.token, &client, json!([{"mutation_id": 3, "name": "resume_mentor", "args": {"mentor_id": a.mentor.id}}]))
        .await;
    assert_eq!(r["verdicts"][0]["status"], "rejected");
    assert_eq!(r["verdicts"][0]["code"], "invalid_transition");
    assert!(
        r["verdicts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("that is active")
    );
    assert_eq!(r["verdicts"][0]["current"]["status"], "active");
    let (_, r) = app.push(&a.coordinator.token, &client, json!([{"mutation_id": 4, "name": "pause_mentor", "args": {"mentor_id": a.mentor.id, "reason": "x"}, "expected_version": 1}])).await;
    assert_eq!(r["verdicts"][0]["code"], "version_conflict");
    assert_eq!(r["verdicts"][0]["current"]["version"], 3);
    let (_, r) = app
        .push(
            &a.coordinator.token,
            &client,
            json!([{"mutation_id": 5, "name": "launch_rocket", "args": {}}]),
        )
        .await;
    assert_eq!(r["verdicts"][0]["code"], "bad_command");
    let (_, r) = app.push(&a.coordinator.token, &client, json!([{"mutation_id": 6, "name": "reactivate_mentor", "args": {"mentor_id": a.mentor.id}}])).await;
    assert_eq!(r["verdicts"][0]["code"], "forbidden");
    assert!(r["verdicts"][0].get("current").is_none());

    // A gap is refused and changes nothing.
    let (status, r) = app.push(&a.coordinator.token, &client, json!([{"mutation_id": 9, "name": "resume_mentor", "args": {"mentor_id": a.mentor.id}}])).await;
    assert_error(&(status, r.clone()), 409, "mutation_gap");
    assert_eq!(r["details"]["expected_mutation_id"], 7);
    let (status, r) = app
        .push(
            &a.coordinator.token,
            &client,
            json!([pause_cmd(&a.mentor.id), {"mutation_id": 3, "name": "x", "args": {}}]),
        )
        .await;
    assert_error(&(status, r), 400, "bad_request");
    let too_many: Vec<Value> = (7..=107).map(|i| json!({"mutation_id": i, "name": "resume_mentor", "args": {"mentor_id": a.mentor.id}})).collect();
    assert_error(
        &app.push(&a.coordinator.token, &client, json!(too_many))
            .await,
        400,
        "bad_request",
    );

    // The pull reports the last mutation and the verdicts not yet acknowledged.
    let (_, page) = app.pull_page(&a.coordinator.token, &client, None, 10).await;
    assert_eq!(page["last_mutation_id"], 6);
    assert_eq!(page["verdicts"].as_array().unwrap().len(), 6);
    let url = format!("{}?client_id={client}&ack=4", app.url("/api/v1/sync/pull"));
    let page: Value = app
        .http
        .get(url)
        .bearer_auth(&a.coordinator.token)
        .header("x-mentorsync-protocol", "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = page["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["mutation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [5, 6]);

    // One push is one transaction with a savepoint per command: a command refused by the
    // database half-way (a duplicate id) leaves no trace, the others in the push stay.
    let flag = uuid::Uuid::new_v4().to_string();
    let raise = |n: i64| json!({"mutation_id": n, "name": "raise_flag", "args": {"mentee_id": a.mentee.id, "severity": "low", "reason": "r", "flag_id": flag}});
    let (status, r) = app
        .push(
            &a.coordinator.token,
            &client,
            json!([raise(7), raise(8), {"mutation_id": 9, "name": "pause_mentor", "args": {"mentor_id": a.mentor.id, "reason": "x"}}]),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let outcomes: Vec<&str> = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "rejected", "applied"], "{r}");
    assert_eq!(r["verdicts"][1]["code"], "conflict");
    assert_eq!(app.audit_count(&flag).await, 1);
    let logged: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM change_log WHERE entity_id = $1",
            &[&flag],
        )
        .await;
    assert_eq!(logged, 1);
    let notified: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM notifications WHERE entity_id = $1",
            &[&flag],
        )
        .await;
    assert_eq!(notified, 1, "the refused copy's notification went with it");
    let status: String = app
        .scalar(
            "SELECT status FROM mentor_profiles WHERE user_id = $1",
            &[&a.mentor.id],
        )
        .await;
    assert_eq!(status, "paused");
}

/// A retry can reach the server while the original is still running: the copies lock the
/// device's row one after the other, so the first applies and the others replay it.
async fn racing_copies_of_a_push_apply_once(app: &TestApp) {
    let a = &app.a;
    let client = uuid::Uuid::new_v4().to_string();
    let batch = json!([pause_cmd(&a.mentor.id), {"mutation_id": 2, "name": "resume_mentor", "args": {"mentor_id": a.mentor.id}}]);
    let copies = futures::future::join_all(
        (0..5).map(|_| app.push(&a.coordinator.token, &client, batch.clone())),
    )
    .await;
    for (status, r) in &copies {
        assert_eq!(*status, 200, "{r}");
        assert_eq!(r, &copies[0].1, "every copy answers the same verdicts");
    }
    assert_eq!(copies[0].1["verdicts"][0]["status"], "applied");
    assert_eq!(pauses_audited(app, &a.mentor.id).await, 2, "applied once");
}

async fn reassignment_moves_rows_between_scopes(app: &TestApp) {
    let a = &app.a;
    // A session and a flag on the mentee while with the first mentor.
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": T0 + DAY, "duration_minutes": 30}),
        )
        .await;
    let session = r.1["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &a.mentee.token,
            "/api/v1/missions",
            json!({"mission_ref": "M-9", "title": "t", "content": "v1"}),
        )
        .await;
    let submission = r.1["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentor/missions/{submission}/review"),
            json!({"decision": "changes_requested"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let mut old_mentor = MiniClient::new();
    let mut new_mentor = MiniClient::new();
    let mut new_coord = MiniClient::new();
    old_mentor.sync(app, &a.mentor.token, 500).await;
    new_mentor.sync(app, &a.other_mentor.token, 500).await;
    new_coord.sync(app, &a.other_coordinator.token, 500).await;
    assert!(old_mentor.has("mentee", &a.mentee.id) && old_mentor.has("session", &session));
    assert!(!new_mentor.has("mentee", &a.mentee.id));

    // The admin moves the mentee to the other mentor.
    let assignment: String = app
        .scalar(
            "SELECT id FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'",
            &[&a.mentee.id],
        )
        .await;
    assert_eq!(
        app.post(
            &a.admin.token,
            &format!("/api/v1/assignments/{assignment}/end"),
            json!({})
        )
        .await
        .0,
        200
    );
    let r = app
        .post(
            &a.admin.token,
            "/api/v1/assignments",
            json!({"mentor_id": a.other_mentor.id, "mentee_id": a.mentee.id}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);

    let pages = old_mentor.sync(app, &a.mentor.token, 500).await;
    assert_eq!(
        pages[0]["scope_change"]["removed"],
        json!([format!("mentee:{}", a.mentee.id)])
    );
    assert!(
        !old_mentor.has("mentee", &a.mentee.id),
        "the mentee left the old mentor's device"
    );
    assert!(
        old_mentor.has("session", &session),
        "their own past session stays"
    );
    assert!(
        old_mentor.has("submission", &submission),
        "the submission they reviewed stays while it is theirs"
    );

    // The mentee resubmits: the submission now belongs to the new mentor, and leaves the
    // old mentor's device through a removal in the old scope.
    let r = app
        .post(
            &a.mentee.token,
            &format!("/api/v1/missions/{submission}/resubmit"),
            json!({"content": "v2"}),
        )
        .await;
    assert_eq!(
        r.1["row"]["mentor_id"],
        a.other_mentor.id.as_str(),
        "{}",
        r.1
    );
    old_mentor.sync(app, &a.mentor.token, 500).await;
    assert!(!old_mentor.has("submission", &submission));

    let pages = new_mentor.sync(app, &a.other_mentor.token, 500).await;
    assert_eq!(
        pages[0]["scope_change"]["added"],
        json!([format!("mentee:{}", a.mentee.id)])
    );
    assert!(
        new_mentor.has("mentee", &a.mentee.id),
        "the mentee arrived with their history"
    );
    assert!(new_mentor.has("session", &session));
    new_coord.sync(app, &a.other_coordinator.token, 500).await;
    assert!(new_coord.has("mentee", &a.mentee.id));
    converged(app, &a.mentor.token, &old_mentor).await;
    converged(app, &a.other_mentor.token, &new_mentor).await;
    converged(app, &a.other_coordinator.token, &new_coord).await;
}

async fn paging_while_writers_run(app: &TestApp) {
    let a = app.a.clone();
    let mut c = MiniClient::new();
    c.sync(app, &a.admin.token, 3).await;
    let (base, token, mentee) = (
        app.base.clone(),
        a.mentor.token.clone(),
        a.mentee.id.clone(),
    );
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..30 {
            let r = http
                .post(format!("{base}/api/v1/mentor/flags"))
                .bearer_auth(&token)
                .json(
                    &json!({"mentee_id": mentee, "severity": "low", "reason": format!("note {i}")}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
    });
    // Page through rounds (3 rows a page) while the writer runs.
    let mut rounds = 0;
    while !writer.is_finished() && rounds < 200 {
        c.sync(app, &a.admin.token, 3).await;
        rounds += 1;
    }
    writer.await.unwrap();
    c.sync(app, &a.admin.token, 3).await;
    let flags = c.rows.keys().filter(|(e, _)| e == "flag").count();
    assert_eq!(flags, 30, "every flag arrived");
    converged(app, &a.admin.token, &c).await;
}

async fn chapters_and_clients_are_isolated(app: &TestApp) {
    let mut b_admin = MiniClient::new();
    b_admin.sync(app, &app.b.admin.token, 1000).await;
    let a_ids = [
        &app.a.mentor.id,
        &app.a.other_mentor.id,
        &app.a.mentee.id,
        &app.a.free_mentee.id,
    ];
    for ((_, id), (_, scopes, _)) in &b_admin.rows {
        assert!(!a_ids.contains(&id), "chapter b saw {id}");
        assert!(scopes.contains(&format!("chapter:{}", app.b.id)));
    }
    assert!(b_admin.has("mentor", &app.b.mentor.id));
    // A client id belongs to the user who used it first.
    let client = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        app.pull_page(&app.a.mentor.token, &client, None, 10)
            .await
            .0,
        200
    );
    assert_error(
        &app.pull_page(&app.a.coordinator.token, &client, None, 10)
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &app.push(&app.b.admin.token, &client, json!([])).await,
        403,
        "forbidden",
    );
    assert_error(
        &app.pull_page(&app.a.mentor.token, "not-a-uuid", None, 10)
            .await,
        400,
        "bad_request",
    );
    // Before any dashboard is computed, a director syncs only the cohorts they direct.
    let mut d = MiniClient::new();
    d.sync(app, &app.a.director.token, 100).await;
    let keys: Vec<_> = d.rows.keys().cloned().collect();
    assert_eq!(keys, [("cohort".to_owned(), app.a.cohort_id.clone())]);
}

async fn compaction_resets_old_cursors(app: &TestApp) {
    let a = &app.a;
    let mut c = MiniClient::new();
    c.sync(app, &a.coordinator.token, 500).await;
    app.post(
        &a.coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.mentor.id),
        json!({"reason": "x"}),
    )
    .await;
    let mut tx = app.db.write().await.unwrap();
    let horizon = mentorsync_server::sync::compact::compact(&mut tx, T0 + 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(horizon > 0);
    let left: i64 = app.scalar("SELECT COUNT(*) FROM change_log", &[]).await;
    assert_eq!(left, 0);
    // The old cursor gets a clear full reset, not an error and not a silent gap.
    let pages = c.sync(app, &a.coordinator.token, 500).await;
    assert_eq!(pages[0]["scope_change"]["full_reset"], true);
    assert_eq!(
        c.rows[&("mentor".to_owned(), a.mentor.id.clone())].2["status"],
        "paused"
    );
    converged(app, &a.coordinator.token, &c).await;
}

async fn compression_and_protocol_versions(app: &TestApp) {
    let a = &app.a;
    let client = uuid::Uuid::new_v4().to_string();
    let url = format!("{}?client_id={client}", app.url("/api/v1/sync/pull"));
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .build()
        .unwrap();
    let decoding = reqwest::Client::builder().build().unwrap();
    for encoding in ["gzip", "br", "zstd"] {
        let r = raw
            .get(&url)
            .bearer_auth(&a.admin.token)
            .header("x-mentorsync-protocol", "1")
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], encoding);
        let r = decoding
            .get(&url)
            .bearer_auth(&a.admin.token)
            .header("x-mentorsync-protocol", "1")
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        let page: Value = r.json().await.unwrap();
        assert!(
            page["changes"].as_array().is_some_and(|c| !c.is_empty()),
            "{encoding} body decodes"
        );
    }
    let r = app
        .http
        .get(&url)
        .bearer_auth(&a.admin.token)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_protocol_version");
    assert_eq!(body["details"]["supported"], json!([1]));
    let r = app
        .http
        .get(&url)
        .bearer_auth(&a.admin.token)
        .header("x-mentorsync-protocol", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_error(
        &app.pull_page(&a.admin.token, &client, Some("bogus"), 10)
            .await,
        400,
        "bad_request",
    );
}

/// Compression is for bodies worth it: a tiny answer and an event stream go as they are.
async fn small_responses_and_streams_are_not_compressed(app: &TestApp) {
    let a = &app.a;
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .build()
        .unwrap();
    let r = raw
        .get(app.url("/healthz"))
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.bytes().await.unwrap().len() < 1024);
    let r = raw
        .get(app.url("/api/v1/sync/events"))
        .bearer_auth(&a.admin.token)
        .header("x-mentorsync-protocol", "1")
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(r.headers().get("content-encoding").is_none());
}

async fn next_poke(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: "))
                && event.contains("event: poke")
            {
                return serde_json::from_str::<Value>(data).unwrap()["position"]
                    .as_i64()
                    .unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("a poke within 10 s")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn events_poke_on_visible_changes(app: &TestApp) {
    let a = &app.a;
    let open = |token: String, base: String| async move {
        reqwest::Client::new()
            .get(format!("{base}/api/v1/sync/events?protocol=1"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    };
    let r = open(a.coordinator.token.clone(), app.base.clone()).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    let initial = next_poke(&mut stream, &mut buf).await;

    // Invisible to this coordinator (another chapter, another coordinator's mentor), then visible.
    app.post(
        &app.b.coordinator.token,
        &format!("/api/v1/mentors/{}/pause", app.b.mentor.id),
        json!({"reason": "b"}),
    )
    .await;
    app.post(
        &a.other_coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.other_mentor.id),
        json!({"reason": "o"}),
    )
    .await;
    app.post(
        &a.coordinator.token,
        &format!("/api/v1/mentors/{}/pause", a.mentor.id),
        json!({"reason": "mine"}),
    )
    .await;
    let newest: i64 = app
        .scalar("SELECT CAST(MAX(position) AS BIGINT) FROM change_log", &[])
        .await;
    let poke = next_poke(&mut stream, &mut buf).await;
    assert!(poke > initial);
    assert_eq!(
        poke, newest,
        "the first poke after connecting is the visible change, not the others"
    );

    // A reconnect with Last-Event-ID at the newest position gets no stale poke; the next
    // change pokes it.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/events", app.base))
        .bearer_auth(&a.coordinator.token)
        .header("x-mentorsync-protocol", "1")
        .header("last-event-id", newest.to_string())
        .send()
        .await
        .unwrap();
    let mut stream2 = r.bytes_stream();
    let mut buf2 = String::new();
    app.post(
        &a.coordinator.token,
        &format!("/api/v1/mentors/{}/resume", a.mentor.id),
        json!({}),
    )
    .await;
    let p = next_poke(&mut stream2, &mut buf2).await;
    assert!(p > newest);

    // A second server instance on the same database pokes its clients for commits made
    // through the first (PostgreSQL LISTEN/NOTIFY). SQLite is single-instance.
    if app.backend == Backend::Postgres {
        let second = app.second_instance().await;
        let r = open(a.coordinator.token.clone(), second.clone()).await;
        let mut s3 = r.bytes_stream();
        let mut b3 = String::new();
        let first = next_poke(&mut s3, &mut b3).await;
        app.post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{}/pause", a.mentor.id),
            json!({"reason": "again"}),
        )
        .await;
        let p = next_poke(&mut s3, &mut b3).await;
        assert!(
            p > first,
            "a commit on instance 1 poked a client of instance 2"
        );
    }
}

/// On shutdown the server stops accepting, ends open event streams (devices reconnect to
/// another instance) and closes idle keep-alive connections, so `run` returns promptly.
async fn shutdown_ends_streams_and_stops_serving(app: &TestApp) {
    let state = app.second_state().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(mentorsync_server::serve::run(listener, state.clone()));

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http
        .get(format!("{base}/api/v1/sync/events?protocol=1"))
        .bearer_auth(&app.a.coordinator.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    next_poke(&mut stream, &mut String::new()).await;
    // An idle keep-alive connection in the client's pool.
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    state.shutdown.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the open event stream ends");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("run returns once every connection is closed")
        .unwrap()
        .unwrap();
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer serving"
    );
}

/// A client that mixes up its cursors is told so: a roster cursor sent for the queue (or
/// for every set) is refused with `cursor_set_mismatch`, never answered with an empty page
/// that would silently lose the queue.
async fn a_cursor_serves_only_its_own_set(app: &TestApp) {
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.mentee.token,
            "/api/v1/missions",
            json!({"mission_ref": "M", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let client = uuid::Uuid::new_v4().to_string();
    let token = &a.coordinator.token;
    let mut roster_cursor = None;
    loop {
        let (status, page) = app
            .pull_set(
                token,
                &client,
                roster_cursor.as_deref(),
                100,
                Some("roster"),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        roster_cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] != true {
            break;
        }
    }
    let roster_cursor = roster_cursor.unwrap();
    for other in [Some("queue"), Some("rest"), None] {
        let refused = app
            .pull_set(token, &client, Some(&roster_cursor), 100, other)
            .await;
        assert_error(&refused, 400, "cursor_set_mismatch");
        assert_eq!(
            refused.1["details"]["issued_for"], "roster",
            "{}",
            refused.1
        );
    }
    let (status, fresh) = app.pull_set(token, &client, None, 100, Some("queue")).await;
    assert_eq!(status, 200);
    assert!(
        !fresh["changes"].as_array().unwrap().is_empty(),
        "the queue has rows: {fresh}"
    );
    let (status, again) = app
        .pull_set(token, &client, Some(&roster_cursor), 100, Some("roster"))
        .await;
    assert_eq!(status, 200, "its own set still takes it: {again}");
}
