//! The audit trail read back through the API, on both backends: admins filter and page the
//! chapter's trail, the people who manage a mentor read that mentor's history, and nobody
//! reads another chapter's or a mentor they do not manage.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::clock::Clock;
use serde_json::{Value, json};

both_backends!(
    admins_read_the_chapter_trail,
    managers_read_a_mentors_history
);

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

/// Follows `next_cursor` from `path` (which has a `?`) to the end, `limit` at a time.
async fn all_pages(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<i64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            None => format!("{path}&limit={limit}"),
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
        };
        let r = app.get(token, &url).await;
        assert_eq!(r.0, 200, "{}", r.1);
        assert!(r.1["items"].as_array().unwrap().len() <= limit as usize);
        out.extend(ids(&r.1));
        match r.1["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("paging never ended");
}

async fn admins_read_the_chapter_trail(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    let start = app.clock.now_ms();
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "Parental leave"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    app.clock.advance(60_000);
    let between = app.clock.now_ms();
    // The resume arrives from the coordinator's phone, through push.
    let client = uuid::Uuid::new_v4().to_string();
    let (status, pushed) = app
        .push(
            &a.coordinator.token,
            &client,
            json!([{"mutation_id": 1, "name": "resume_mentor", "args": {"mentor_id": m}}]),
        )
        .await;
    assert_eq!(status, 200, "{pushed}");
    assert_eq!(pushed["verdicts"][0]["status"], "applied", "{pushed}");

    // Newest first, each change with who, when (RFC 3339) and from what to what.
    let r = app
        .get(
            &a.admin.token,
            &format!("/api/v1/audit?entity=mentor&entity_id={m}"),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let items = r.1["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", r.1);
    let (resume, pause, seeded) = (&items[0], &items[1], &items[2]);
    assert_eq!(seeded["action"], "seed");
    assert_eq!(
        seeded["actor_role"], "system",
        "the scheduler and the seed act as the system"
    );
    assert!(seeded["actor_id"].is_null());
    assert_eq!(resume["action"], "resume");
    assert_eq!(
        (resume["from_status"].as_str(), resume["to_status"].as_str()),
        (Some("paused"), Some("active"))
    );
    assert_eq!(pause["action"], "pause");
    assert_eq!(pause["from_status"], "active");
    for e in [resume, pause] {
        assert_eq!(e["actor_id"], a.coordinator.id.as_str());
        assert_eq!(e["actor_role"], "coordinator");
        assert!(e["actor_name"].as_str().is_some_and(|n| !n.is_empty()));
    }
    let at = |e: &Value| {
        chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    assert_eq!(at(pause), start);
    assert_eq!(at(resume), between);
    // The device command behind the resume, so an operator can trace a phone's mutation.
    assert_eq!(resume["device"]["client_id"], client.as_str());
    assert_eq!(resume["device"]["mutation_id"], 1);
    assert!(pause["device"].is_null(), "a REST command has no device");

    // Time range: [since, until).
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let r = app
        .get(
            &a.admin.token,
            &format!("/api/v1/audit?entity_id={m}&since={}", iso(between)),
        )
        .await;
    assert_eq!(ids(&r.1), [resume["id"].as_i64().unwrap()], "{}", r.1);
    let r = app
        .get(
            &a.admin.token,
            &format!("/api/v1/audit?entity_id={m}&until={}", iso(between)),
        )
        .await;
    let before: Vec<i64> = ids(&r.1);
    assert!(before.contains(&pause["id"].as_i64().unwrap()), "{}", r.1);
    assert!(!before.contains(&resume["id"].as_i64().unwrap()), "{}", r.1);

    // By actor: everything the coordinator did, and nothing else.
    let r = app
        .get(
            &a.admin.token,
            &format!("/api/v1/audit?actor_id={}", a.coordinator.id),
        )
        .await;
    let by_actor = r.1["items"].as_array().unwrap();
    assert!(
        by_actor.len() >= 3,
        "the pause row, the mentor twice: {}",
        r.1
    );
    assert!(
        by_actor
            .iter()
            .all(|e| e["actor_id"] == a.coordinator.id.as_str())
    );

    // Paging one at a time visits exactly the entries of one big page, in order.
    let whole = all_pages(app, &a.admin.token, "/api/v1/audit?entity=pause", 200).await;
    assert!(!whole.is_empty());
    let paged = all_pages(app, &a.admin.token, "/api/v1/audit?entity=pause", 1).await;
    assert_eq!(paged, whole);
    let everything = all_pages(app, &a.admin.token, "/api/v1/audit?", 200).await;
    let mut sorted = everything.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    sorted.dedup();
    assert_eq!(sorted.len(), everything.len(), "no entry twice");

    // Another chapter's admin sees none of it; only admins read the trail.
    let r = app
        .get(&app.b.admin.token, &format!("/api/v1/audit?entity_id={m}"))
        .await;
    assert_eq!(r.0, 200);
    assert!(ids(&r.1).is_empty(), "{}", r.1);
    let theirs = all_pages(app, &app.b.admin.token, "/api/v1/audit?", 200).await;
    assert!(theirs.iter().all(|id| !everything.contains(id)));
    for who in [&a.coordinator, &a.mentor, &a.director, &a.mentee] {
        assert_error(
            &app.get(&who.token, "/api/v1/audit").await,
            403,
            "forbidden",
        );
    }

    // Bad input is a clear 400.
    for bad in [
        "/api/v1/audit?cursor=garbage",
        "/api/v1/audit?since=yesterday",
        "/api/v1/audit?entity=planet",
        "/api/v1/audit?entity_id=not-a-uuid",
        "/api/v1/audit?limit=0",
        "/api/v1/audit?limit=201",
        "/api/v1/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
    ] {
        assert_error(&app.get(&a.admin.token, bad).await, 400, "bad_request");
    }
}

async fn managers_read_a_mentors_history(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    let coord = &a.coordinator.token;
    let r = app
        .post(
            coord,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "Exams"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let pause_id = r.1["changes"][0]["id"].as_str().unwrap().to_owned();
    app.clock.advance(1_000);
    let r = app
        .post(coord, &format!("/api/v1/mentors/{m}/resume"), json!({}))
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    // Someone else's change stays out of this mentor's history.
    let other = &a.other_mentor.id;
    let r = app
        .post(
            &a.admin.token,
            &format!("/api/v1/mentors/{other}/pause"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);

    let path = format!("/api/v1/mentors/{m}/history");
    let r = app.get(coord, &path).await;
    assert_eq!(r.0, 200, "{}", r.1);
    let items = r.1["items"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|e| {
            (
                e["entity"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["to_status"].as_str().unwrap(),
            )
        })
        .collect();
    // Newest first: the resume (pause ended, mentor active), then the pause.
    assert_eq!(seen[0].0, "mentor", "{}", r.1);
    assert_eq!(seen[0].2, "active");
    assert!(
        items
            .iter()
            .any(|e| e["entity"] == "pause" && e["entity_id"] == pause_id.as_str()),
        "the pause itself belongs to the history: {}",
        r.1
    );
    assert!(
        items.iter().any(|e| e["entity"] == "mentee_assignment"),
        "so does the mentee assignment: {}",
        r.1
    );
    assert!(
        items.iter().all(|e| e["entity_id"] != other.as_str()),
        "{}",
        r.1
    );
    assert!(items.iter().all(|e| e["device"].is_null()), "admins only");
    let paged = all_pages(app, coord, &format!("{path}?"), 1).await;
    assert_eq!(paged, ids(&r.1));

    // The mentor's coordinator and admins; not another coordinator, not the mentor, and
    // nobody from another chapter (to whom the mentor does not exist).
    assert_eq!(app.get(&a.admin.token, &path).await.0, 200);
    for who in [&a.other_coordinator, &a.mentor, &a.director, &a.mentee] {
        assert_error(&app.get(&who.token, &path).await, 403, "forbidden");
    }
    assert_error(&app.get(&app.b.admin.token, &path).await, 404, "not_found");
    assert_error(
        &app.get(
            &a.admin.token,
            &format!("/api/v1/mentors/{}/history", uuid::Uuid::new_v4()),
        )
        .await,
        404,
        "not_found",
    );
    for bad in ["cursor=garbage", "limit=0", "limit=201", "since=2026-01-01"] {
        assert_error(
            &app.get(coord, &format!("{path}?{bad}")).await,
            400,
            "bad_request",
        );
    }
}
