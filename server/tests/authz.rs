//! The authorization matrix: every endpoint × every role × own and foreign chapter.
//!
//! Own chapter: a role the endpoint serves is never refused for who it is (no 401/403/404:
//! the fixture's users are related to the target rows); any other role gets 403.
//! Foreign chapter: never a success and never a domain answer that would reveal state —
//! 404 for a role the endpoint serves, 403 or 404 for the others. Lists read by the other
//! chapter contain none of this chapter's ids.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_protocol::Role;
use reqwest::Method;
use serde_json::{Value, json};

both_backends!(authorization_matrix);

const ROLES: [Role; 5] = [
    Role::Admin,
    Role::Coordinator,
    Role::Mentor,
    Role::Mentee,
    Role::Director,
];

struct Case {
    method: Method,
    path: String,
    body: Value,
    allowed: &'static [Role],
}

fn case(method: Method, path: String, body: Value, allowed: &'static [Role]) -> Case {
    Case {
        method,
        path,
        body,
        allowed,
    }
}

async fn call(app: &TestApp, token: &str, c: &Case) -> (u16, Value) {
    let mut req = app
        .http
        .request(c.method.clone(), app.url(&c.path))
        .bearer_auth(token);
    if c.method == Method::POST {
        req = req.json(&c.body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn authorization_matrix(app: &TestApp) {
    use Role::*;
    let a = &app.a;
    let (m, mentee) = (&a.mentor.id, &a.mentee.id);
    let t = |u: &User| u.token.clone();

    // Rows to act on, created through the API by the people who would create them.
    let pause = app
        .post(
            &t(&a.mentor),
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "setup"}),
        )
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = T0 + DAY;
    let session = app
        .post(
            &t(&a.mentor),
            "/api/v1/mentor/sessions",
            json!({"mentee_id": mentee, "scheduled_at": at, "duration_minutes": 30}),
        )
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub = |n: &str| json!({"mission_ref": n, "title": "t", "content": "c"});
    let review_sub = app
        .post(&t(&a.mentee), "/api/v1/missions", sub("M-1"))
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue_sub = app
        .post(&t(&a.mentee), "/api/v1/missions", sub("M-2"))
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item: String = app
        .scalar(
            "SELECT id FROM work_items WHERE reference_id = $1",
            &[&queue_sub],
        )
        .await;
    let flag = app
        .post(
            &t(&a.mentor),
            "/api/v1/mentor/flags",
            json!({"mentee_id": mentee, "severity": "low", "reason": "setup"}),
        )
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assignment: String = app
        .scalar(
            "SELECT id FROM mentee_assignments WHERE mentee_id = $1",
            &[mentee],
        )
        .await;

    let get = |p: String, allowed| case(Method::GET, p, Value::Null, allowed);
    let post = |p: String, body, allowed| case(Method::POST, p, body, allowed);
    let v = json!({});
    let cases = vec![
        get(
            format!("/api/v1/mentors/{m}"),
            &[Admin, Coordinator, Mentor],
        ),
        get(
            format!("/api/v1/mentor/mentees/{mentee}/cockpit"),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            format!("/api/v1/pauses/{pause}/approve"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/pauses/{pause}/cancel"),
            v.clone(),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            format!("/api/v1/pauses/{pause}/decline"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "r"}),
            &[Mentor],
        ),
        post(
            format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "r"}),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/mentors/{m}/resume"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            "/api/v1/mentor/sessions".into(),
            json!({"mentee_id": mentee, "mentor_id": m, "scheduled_at": at, "duration_minutes": 30}),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            format!("/api/v1/sessions/{session}/complete"),
            v.clone(),
            &[Admin, Coordinator, Mentor],
        ),
        post("/api/v1/missions".into(), sub("M-3"), &[Mentee]),
        post(
            format!("/api/v1/workqueue/{item}/claim"),
            v.clone(),
            &[Mentor],
        ),
        post(
            format!("/api/v1/workqueue/{item}/cancel"),
            v.clone(),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            format!("/api/v1/missions/{review_sub}/resubmit"),
            json!({"content": "v2"}),
            &[Mentee],
        ),
        post(
            format!("/api/v1/mentor/missions/{review_sub}/review"),
            json!({"decision": "approved"}),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            "/api/v1/mentor/flags".into(),
            json!({"mentee_id": mentee, "severity": "high", "reason": "r"}),
            &[Admin, Coordinator, Mentor],
        ),
        post(
            format!("/api/v1/flags/{flag}/acknowledge"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/flags/{flag}/resolve"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            "/api/v1/assignments".into(),
            json!({"mentor_id": m, "mentee_id": a.free_mentee.id}),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/mentors/{m}/deactivate"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/mentors/{m}/reactivate"),
            v.clone(),
            &[Admin],
        ),
        post(
            format!("/api/v1/assignments/{assignment}/end"),
            v.clone(),
            &[Admin, Coordinator],
        ),
        get(
            format!("/api/v1/mentor/dashboard?mentor_id={m}"),
            &[Admin, Coordinator, Mentor],
        ),
        get(
            format!("/api/v1/director/dashboard/cohorts/{}", a.cohort_id),
            &[Admin, Director],
        ),
        post(
            "/api/v1/director/dashboard/refresh".into(),
            v.clone(),
            &[Admin, Director],
        ),
    ];

    let audit_before: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE chapter_id = $1",
            &[&a.id],
        )
        .await;
    // Foreign chapter first, while every target is in a state where a leak would show.
    // (Submitting a mission names no row of chapter a: chapter b's mentee submits into b;
    // a refresh recomputes the caller's own cohorts.)
    let names_no_row = ["/api/v1/missions", "/api/v1/director/dashboard/refresh"];
    for c in cases
        .iter()
        .filter(|c| !names_no_row.contains(&c.path.as_str()))
    {
        for role in ROLES {
            let (status, body) = call(app, &app.b.user(role).token, c).await;
            let expected: &[u16] = if c.allowed.contains(&role) {
                &[404]
            } else {
                &[403, 404]
            };
            assert!(
                expected.contains(&status),
                "{} {} as chapter-b {role}: {status} {body}",
                c.method,
                c.path
            );
            assert!(body["code"].is_string(), "error body expected: {body}");
        }
    }
    let audit_after: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE chapter_id = $1",
            &[&a.id],
        )
        .await;
    assert_eq!(
        audit_before, audit_after,
        "the other chapter changed nothing"
    );

    // Own chapter.
    for c in &cases {
        for role in ROLES {
            let (status, body) = call(app, &a.user(role).token, c).await;
            if c.allowed.contains(&role) {
                assert!(
                    ![401, 403, 404].contains(&status),
                    "{} {} as {role} refused: {status} {body}",
                    c.method,
                    c.path
                );
                assert!(
                    status < 500,
                    "{} {} as {role}: {status} {body}",
                    c.method,
                    c.path
                );
            } else {
                assert_eq!(status, 403, "{} {} as {role}: {body}", c.method, c.path);
                assert_eq!(body["code"], "forbidden");
            }
        }
    }

    // Lists: who may read them, and nothing of chapter a ever appears in chapter b's.
    let lists: [(&str, &[Role]); 6] = [
        ("/api/v1/coordinator/roster", &[Admin, Coordinator]),
        ("/api/v1/coordinator/dashboard", &[Admin, Coordinator]),
        ("/api/v1/director/dashboard/summary", &[Admin, Director]),
        ("/api/v1/director/dashboard/cohorts", &[Admin, Director]),
        ("/api/v1/mentor/workqueue", &[Admin, Coordinator, Mentor]),
        (
            "/api/v1/me",
            &[Admin, Coordinator, Mentor, Mentee, Director],
        ),
    ];
    let a_ids = [
        &a.mentor.id,
        &a.other_mentor.id,
        &a.mentee.id,
        &a.free_mentee.id,
        &a.coordinator.id,
        &a.admin.id,
        &a.id,
        &a.cohort_id,
    ];
    for (path, allowed) in lists {
        for role in ROLES {
            for (chapter, is_b) in [(&app.a, false), (&app.b, true)] {
                let (status, body) = app.get(&chapter.user(role).token, path).await;
                if allowed.contains(&role) {
                    assert_eq!(status, 200, "{path} as {role}: {body}");
                } else {
                    assert_eq!(status, 403, "{path} as {role}: {body}");
                }
                if is_b {
                    let text = body.to_string();
                    for id in a_ids {
                        assert!(
                            !text.contains(id.as_str()),
                            "{path} as chapter-b {role} leaked {id}"
                        );
                    }
                }
            }
        }
    }
    // Without a token, everything but health and sign-in is 401.
    for c in &cases {
        let (status, body) = call(app, "not-a-token", c).await;
        assert_eq!(status, 401, "{} {}: {body}", c.method, c.path);
    }
}
