//! The authorization matrix: every endpoint × every role × own and foreign chapter.
//!
//! Own chapter: a role the endpoint serves is never refused for who it is (no 401/403/404:
//! the fixture's users are related to the target rows); any other role gets 403.
//! Foreign chapter: never a success and never a domain answer that would reveal state —
//! 404 for a role the endpoint serves, 403 or 404 for the others. Lists read by the other
//! chapter contain none of this chapter's ids.
//!
//! The same through sync: a pull carries only rows within the caller's scopes and of the
//! caller's chapter; a pushed command is refused for a role the command does not serve, and
//! for another chapter's rows refused as `not_found` without the row's state; events are in
//! `sync.rs` (`events_poke_on_visible_changes`). An inbox item is one person's: who may
//! read or dismiss it is `inbox.rs` (every role of both chapters but its recipient: 404).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_protocol::Role;
use reqwest::Method;
use serde_json::{Value, json};

both_backends!(authorization_matrix, sync_authorization_matrix);

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
    match &c.body {
        // A roster file.
        Value::String(csv) => req = req.header("content-type", "text/csv").body(csv.clone()),
        _ if [Method::POST, Method::PATCH, Method::PUT].contains(&c.method) => {
            req = req.json(&c.body)
        }
        _ => {}
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Rows of chapter `a` to act on, created through the API by the people who would.
struct Targets {
    pause: String,
    session: String,
    review_sub: String,
    item: String,
    flag: String,
    assignment: String,
    at: i64,
    /// Accounts only admin commands touch: one to disable and enable, a director whose
    /// role changes, a second director for a cohort.
    disposable: String,
    recast: String,
    director2: String,
}

/// Creates an account in chapter `a` through the admin API.
async fn account(app: &TestApp, role: &str) -> String {
    let email = format!("{role}-{}@authz.example.org", uuid::Uuid::new_v4());
    let (status, body) = app
        .post(
            &app.a.admin.token,
            "/api/v1/admin/users",
            json!({"email": email, "display_name": "Made for the matrix", "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn targets(app: &TestApp) -> Targets {
    let a = &app.a;
    let (m, mentee) = (&a.mentor.id, &a.mentee.id);
    let t = |u: &User| u.token.clone();
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

    Targets {
        pause,
        session,
        review_sub,
        item,
        flag,
        assignment,
        at,
        disposable: account(app, "coordinator").await,
        recast: account(app, "director").await,
        director2: account(app, "director").await,
    }
}

async fn authorization_matrix(app: &TestApp) {
    use Role::*;
    let a = &app.a;
    let (m, mentee) = (&a.mentor.id, &a.mentee.id);

    let Targets {
        pause,
        session,
        review_sub,
        item,
        flag,
        assignment,
        at,
        disposable,
        recast,
        director2,
    } = targets(app).await;
    let sub = |n: &str| json!({"mission_ref": n, "title": "t", "content": "c"});
    let audit = format!("/api/v1/audit?entity_id={m}");

    let get = |p: String, allowed| case(Method::GET, p, Value::Null, allowed);
    let post = |p: String, body, allowed| case(Method::POST, p, body, allowed);
    let patch = |p: String, body, allowed| case(Method::PATCH, p, body, allowed);
    let put = |p: String, body, allowed| case(Method::PUT, p, body, allowed);
    let v = json!({});
    let cohort = &a.cohort_id;
    let new_cohort = json!({"name": "Matrix", "starts_at": T0, "ends_at": T0 + DAY, "seats": 3});
    let roster_file =
        Value::String("kind,email,name\ncoordinator,matrix@authz.example.org,Matrix\n".into());
    let cases = vec![
        post(
            "/api/v1/admin/users".into(),
            json!({"email": format!("n-{}@authz.example.org", uuid::Uuid::new_v4()), "display_name": "N", "role": "mentee"}),
            &[Admin],
        ),
        get(format!("/api/v1/admin/users/{disposable}"), &[Admin]),
        patch(
            format!("/api/v1/admin/users/{disposable}"),
            json!({"display_name": "Renamed"}),
            &[Admin],
        ),
        post(
            format!("/api/v1/admin/users/{recast}/role"),
            json!({"role": "coordinator"}),
            &[Admin],
        ),
        post(
            format!("/api/v1/admin/users/{disposable}/sign-in-code"),
            v.clone(),
            &[Admin],
        ),
        post(
            format!("/api/v1/admin/users/{disposable}/disable"),
            v.clone(),
            &[Admin],
        ),
        post(
            format!("/api/v1/admin/users/{disposable}/enable"),
            v.clone(),
            &[Admin],
        ),
        patch(
            format!("/api/v1/admin/mentors/{m}"),
            json!({"capacity_weekly": 10}),
            &[Admin, Coordinator],
        ),
        post(
            format!("/api/v1/admin/mentors/{m}/certification"),
            json!({"expires_at": T0 + 400 * DAY}),
            &[Admin, Coordinator],
        ),
        put(
            format!("/api/v1/admin/mentors/{}/coordinator", a.other_mentor.id),
            json!({"coordinator_id": a.other_coordinator.id}),
            &[Admin],
        ),
        patch(
            format!("/api/v1/admin/mentees/{mentee}"),
            json!({"interests": ["maths"]}),
            &[Admin],
        ),
        put(
            format!("/api/v1/admin/mentees/{}/cohort", a.free_mentee.id),
            json!({"cohort_id": cohort}),
            &[Admin],
        ),
        post("/api/v1/admin/cohorts".into(), new_cohort, &[Admin]),
        patch(
            format!("/api/v1/admin/cohorts/{cohort}"),
            json!({"name": "Renamed cohort"}),
            &[Admin],
        ),
        put(
            format!("/api/v1/admin/cohorts/{cohort}/directors/{director2}"),
            v.clone(),
            &[Admin],
        ),
        case(
            Method::DELETE,
            format!("/api/v1/admin/cohorts/{cohort}/directors/{director2}"),
            Value::Null,
            &[Admin],
        ),
        post(
            "/api/v1/admin/import?dry_run=true".into(),
            roster_file,
            &[Admin],
        ),
        post(
            "/api/v1/auth/password".into(),
            json!({"current_password": PASSWORD, "new_password": PASSWORD}),
            &[Admin, Coordinator, Mentor, Mentee, Director],
        ),
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
        get(
            format!("/api/v1/mentors/{m}/history"),
            &[Admin, Coordinator],
        ),
        get(audit.clone(), &[Admin]),
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
    // The audit trail filters the caller's own chapter: a foreign id finds nothing there
    // (`audit.rs` checks that it is empty).
    let names_no_row = [
        "/api/v1/missions",
        "/api/v1/director/dashboard/refresh",
        audit.as_str(),
        // Creating, importing and one's own password act in the caller's own chapter.
        "/api/v1/admin/users",
        "/api/v1/admin/cohorts",
        "/api/v1/admin/import?dry_run=true",
        "/api/v1/auth/password",
    ];
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
    let lists: [(&str, &[Role]); 11] = [
        ("/api/v1/admin/users", &[Admin]),
        ("/api/v1/admin/cohorts", &[Admin]),
        ("/api/v1/admin/export", &[Admin]),
        ("/api/v1/coordinator/roster", &[Admin, Coordinator]),
        ("/api/v1/coordinator/dashboard", &[Admin, Coordinator]),
        ("/api/v1/director/dashboard/summary", &[Admin, Director]),
        ("/api/v1/director/dashboard/cohorts", &[Admin, Director]),
        ("/api/v1/mentor/workqueue", &[Admin, Coordinator, Mentor]),
        (
            "/api/v1/me",
            &[Admin, Coordinator, Mentor, Mentee, Director],
        ),
        // Everyone's own inbox (reading and dismissing an item: `inbox.rs`, every role of
        // both chapters but the recipient gets 404).
        (
            "/api/v1/inbox",
            &[Admin, Coordinator, Mentor, Mentee, Director],
        ),
        // Everyone's own preferences (and push devices: `push.rs`, owned per person).
        (
            "/api/v1/me/preferences",
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
                let r = app
                    .http
                    .get(app.url(path))
                    .bearer_auth(&chapter.user(role).token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                // Read as text: the export is CSV, the rest JSON.
                let body = r.text().await.unwrap();
                if allowed.contains(&role) {
                    assert_eq!(status, 200, "{path} as {role}: {body}");
                } else {
                    assert_eq!(status, 403, "{path} as {role}: {body}");
                }
                if is_b {
                    let text = body;
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

/// One mutation through push, as `user`'s device `client`; returns its verdict.
async fn push_one(
    app: &TestApp,
    user: &User,
    devices: &mut std::collections::HashMap<String, (String, i64)>,
    name: &str,
    args: &Value,
) -> Value {
    let (client, next) = devices
        .entry(user.id.clone())
        .or_insert_with(|| (uuid::Uuid::new_v4().to_string(), 0));
    *next += 1;
    let mutation = json!([{"mutation_id": *next, "name": name, "args": args}]);
    let (status, body) = app.push(&user.token, client, mutation).await;
    assert_eq!(status, 200, "{name} as {}: {body}", user.role);
    body["verdicts"][0].clone()
}

async fn sync_authorization_matrix(app: &TestApp) {
    use Role::*;
    let a = &app.a;
    let (m, mentee) = (&a.mentor.id, &a.mentee.id);

    // Pull: only the caller's chapter, only rows within the caller's scopes, and none of
    // the people the caller has no relation to.
    for role in ROLES {
        for (chapter, other) in [(&app.a, &app.b), (&app.b, &app.a)] {
            let mut c = MiniClient::new();
            c.sync(app, &chapter.user(role).token, 1000).await;
            let text = serde_json::to_string(&c.rows.values().collect::<Vec<_>>()).unwrap();
            for id in [
                &other.mentor.id,
                &other.mentee.id,
                &other.admin.id,
                &other.id,
            ] {
                assert!(
                    !text.contains(id.as_str()),
                    "{role} of {} pulled {id}",
                    chapter.id
                );
            }
            for ((entity, id), (_, scopes, _)) in &c.rows {
                assert!(
                    scopes.iter().any(|s| c.scopes.contains(s)),
                    "{role} pulled {entity} {id} outside its scopes {:?}: {scopes:?}",
                    c.scopes
                );
            }
            let strangers: &[&String] = match role {
                Coordinator | Mentor => &[&chapter.other_mentor.id],
                Mentee => &[&chapter.other_mentor.id, &chapter.free_mentee.id],
                Director => &[&chapter.mentor.id, &chapter.other_mentor.id],
                Admin => &[],
            };
            for id in strangers {
                assert!(!text.contains(id.as_str()), "{role} pulled unrelated {id}");
            }
        }
    }

    // Push: the same commands as the REST matrix, through sync.
    let Targets {
        pause,
        session,
        review_sub,
        item,
        flag,
        assignment,
        at,
        disposable,
        recast,
        director2,
    } = targets(app).await;
    let cohort = &a.cohort_id;
    let cases: Vec<(&str, Value, &[Role])> = vec![
        (
            "update_user",
            json!({"user_id": disposable, "display_name": "Renamed"}),
            &[Admin],
        ),
        (
            "change_role",
            json!({"user_id": recast, "role": "coordinator"}),
            &[Admin],
        ),
        ("disable_user", json!({"user_id": disposable}), &[Admin]),
        ("enable_user", json!({"user_id": disposable}), &[Admin]),
        (
            "update_mentor",
            json!({"mentor_id": m, "capacity_weekly": 10}),
            &[Admin, Coordinator],
        ),
        (
            "renew_certification",
            json!({"mentor_id": m, "expires_at": T0 + 400 * DAY}),
            &[Admin, Coordinator],
        ),
        (
            "assign_coordinator",
            json!({"mentor_id": a.other_mentor.id, "coordinator_id": a.other_coordinator.id}),
            &[Admin],
        ),
        (
            "update_mentee",
            json!({"mentee_id": mentee, "interests": ["maths"]}),
            &[Admin],
        ),
        (
            "enrol_mentee",
            json!({"mentee_id": a.free_mentee.id, "cohort_id": cohort}),
            &[Admin],
        ),
        (
            "update_cohort",
            json!({"cohort_id": cohort, "seats": 50}),
            &[Admin],
        ),
        (
            "add_cohort_director",
            json!({"cohort_id": cohort, "director_id": director2}),
            &[Admin],
        ),
        (
            "remove_cohort_director",
            json!({"cohort_id": cohort, "director_id": director2}),
            &[Admin],
        ),
        (
            "approve_pause",
            json!({"pause_id": pause}),
            &[Admin, Coordinator],
        ),
        (
            "cancel_pause",
            json!({"pause_id": pause}),
            &[Admin, Coordinator, Mentor],
        ),
        (
            "decline_pause",
            json!({"pause_id": pause}),
            &[Admin, Coordinator],
        ),
        (
            "request_pause",
            json!({"mentor_id": m, "reason": "r"}),
            &[Mentor],
        ),
        (
            "pause_mentor",
            json!({"mentor_id": m, "reason": "r"}),
            &[Admin, Coordinator],
        ),
        (
            "resume_mentor",
            json!({"mentor_id": m}),
            &[Admin, Coordinator],
        ),
        (
            "schedule_session",
            json!({"mentee_id": mentee, "mentor_id": m, "scheduled_at": at, "duration_minutes": 30}),
            &[Admin, Coordinator, Mentor],
        ),
        (
            "complete_session",
            json!({"session_id": session}),
            &[Admin, Coordinator, Mentor],
        ),
        ("claim_work_item", json!({"item_id": item}), &[Mentor]),
        (
            "cancel_work_item",
            json!({"item_id": item}),
            &[Admin, Coordinator, Mentor],
        ),
        (
            "resubmit_mission",
            json!({"submission_id": review_sub, "content": "v2"}),
            &[Mentee],
        ),
        (
            "review_mission",
            json!({"submission_id": review_sub, "decision": "approved"}),
            &[Admin, Coordinator, Mentor],
        ),
        (
            "raise_flag",
            json!({"mentee_id": mentee, "severity": "high", "reason": "r"}),
            &[Admin, Coordinator, Mentor],
        ),
        (
            "acknowledge_flag",
            json!({"flag_id": flag}),
            &[Admin, Coordinator],
        ),
        (
            "resolve_flag",
            json!({"flag_id": flag}),
            &[Admin, Coordinator],
        ),
        (
            "assign_mentee",
            json!({"mentor_id": m, "mentee_id": a.free_mentee.id}),
            &[Admin, Coordinator],
        ),
        (
            "deactivate_mentor",
            json!({"mentor_id": m}),
            &[Admin, Coordinator],
        ),
        ("reactivate_mentor", json!({"mentor_id": m}), &[Admin]),
        (
            "end_assignment",
            json!({"assignment_id": assignment}),
            &[Admin, Coordinator],
        ),
    ];
    let audit = || async {
        app.scalar::<i64>(
            "SELECT COUNT(*) FROM audit_log WHERE chapter_id = $1",
            &[&a.id],
        )
        .await
    };
    let before = audit().await;
    let mut devices = std::collections::HashMap::new();
    for (name, args, _) in &cases {
        for role in ROLES {
            let v = push_one(app, app.b.user(role), &mut devices, name, args).await;
            assert_eq!(v["status"], "rejected", "{name} as chapter-b {role}: {v}");
            assert!(
                ["not_found", "forbidden"].contains(&v["code"].as_str().unwrap_or_default()),
                "{name} as chapter-b {role}: {v}"
            );
            assert!(
                v.get("current").is_none(),
                "{name} leaked chapter a's row: {v}"
            );
        }
    }
    assert_eq!(
        audit().await,
        before,
        "chapter b changed nothing in chapter a"
    );
    for (name, args, allowed) in &cases {
        for role in ROLES {
            let v = push_one(app, a.user(role), &mut devices, name, args).await;
            if allowed.contains(&role) {
                assert!(
                    !["forbidden", "not_found"].contains(&v["code"].as_str().unwrap_or_default()),
                    "{name} as {role} refused: {v}"
                );
            } else {
                assert_eq!(
                    (v["status"].as_str(), v["code"].as_str()),
                    (Some("rejected"), Some("forbidden")),
                    "{name} as {role}: {v}"
                );
            }
        }
    }
}
