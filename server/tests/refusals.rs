//! Every refusal path, over REST and over push: both give the same code for the same cause
//! (ADR 0002), and no message carries database, SQL or driver text.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use serde_json::{Value, json};

both_backends!(rest_and_push_refuse_alike_in_plain_words);

/// Words that only database or driver text contains.
const LEAKS: &[&str] = &[
    "constraint",
    "violates",
    "relation",
    "sqlx",
    "sqlite",
    "unique",
    "duplicate key",
    "error returned from database",
    "column",
    "syntax",
    "pauses_",
    "select ",
    "insert ",
    "update ",
];

fn assert_plain(what: &str, text: &Value) {
    let text = text.as_str().unwrap_or_default();
    assert!(!text.is_empty(), "{what}: no message");
    let lower = text.to_lowercase();
    for leak in LEAKS {
        assert!(
            !lower.contains(leak),
            "{what}: the message leaks database text ({leak:?}): {text}"
        );
    }
}

struct Case {
    what: &'static str,
    token: String,
    rest: (&'static str, String, Value),
    push: Value,
    code: &'static str,
}

async fn rest_and_push_refuse_alike_in_plain_words(app: &TestApp) {
    let a = &app.a;
    let (m, other) = (a.mentor.id.as_str(), a.other_mentor.id.as_str());
    let coord = a.coordinator.token.clone();
    // A pause id already taken: the other mentor was paused and resumed with it.
    let taken = uuid::Uuid::new_v4().to_string();
    let (s, b) = app
        .post(
            &a.other_coordinator.token,
            &format!("/api/v1/mentors/{other}/pause"),
            json!({"reason": "leave", "pause_id": taken}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app
        .post(
            &a.other_coordinator.token,
            &format!("/api/v1/mentors/{other}/resume"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let past = T0 - DAY;
    let cases = vec![
        Case {
            what: "a pause whose id is taken",
            token: coord.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{m}/pause"),
                json!({"reason": "r", "pause_id": taken}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": m, "reason": "r", "pause_id": taken}}),
            code: "conflict",
        },
        Case {
            what: "resuming an active mentor",
            token: coord.clone(),
            rest: ("resume", format!("/api/v1/mentors/{m}/resume"), json!({})),
            push: json!({"name": "resume_mentor", "args": {"mentor_id": m}}),
            code: "invalid_transition",
        },
        Case {
            what: "a pause that ended yesterday",
            token: coord.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{m}/pause"),
                json!({"reason": "r", "ends_at": past}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": m, "reason": "r", "ends_at": past}}),
            code: "validation_failed",
        },
        Case {
            what: "a mentor that does not exist",
            token: coord.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{}/pause", uuid::Uuid::new_v4()),
                json!({"reason": "r"}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": uuid::Uuid::new_v4().to_string(), "reason": "r"}}),
            code: "not_found",
        },
        Case {
            what: "a stale version",
            token: coord.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{m}/pause"),
                json!({"reason": "r", "expected_version": 999}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": m, "reason": "r"}, "expected_version": 999}),
            code: "version_conflict",
        },
        Case {
            what: "a mentor pausing someone",
            token: a.mentor.token.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{other}/pause"),
                json!({"reason": "r"}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": other, "reason": "r"}}),
            code: "forbidden",
        },
        Case {
            what: "a mentor another coordinator looks after",
            token: coord.clone(),
            rest: (
                "pause",
                format!("/api/v1/mentors/{other}/pause"),
                json!({"reason": "r"}),
            ),
            push: json!({"name": "pause_mentor", "args": {"mentor_id": other, "reason": "r"}}),
            code: "forbidden",
        },
        Case {
            what: "an email that is taken, in another case",
            token: a.admin.token.clone(),
            rest: (
                "create user",
                "/api/v1/admin/users".into(),
                json!({"email": a.mentor.email.to_uppercase(), "display_name": "Twin", "role": "mentor"}),
            ),
            push: json!({"name": "create_user", "args": {"email": a.mentor.email.to_uppercase(), "display_name": "Twin", "role": "mentor"}}),
            code: "email_taken",
        },
        Case {
            what: "a mentor made a coordinator",
            token: a.admin.token.clone(),
            rest: (
                "role",
                format!("/api/v1/admin/users/{m}/role"),
                json!({"role": "coordinator"}),
            ),
            push: json!({"name": "change_role", "args": {"user_id": m, "role": "coordinator"}}),
            code: "role_change_invalid",
        },
        Case {
            what: "a certification renewed into the past",
            token: coord.clone(),
            rest: (
                "certification",
                format!("/api/v1/admin/mentors/{m}/certification"),
                json!({"expires_at": past}),
            ),
            push: json!({"name": "renew_certification", "args": {"mentor_id": m, "expires_at": past}}),
            code: "validation_failed",
        },
        Case {
            what: "a coordinator enabling an account",
            token: coord.clone(),
            rest: (
                "enable",
                format!("/api/v1/admin/users/{}/enable", a.director.id),
                json!({}),
            ),
            push: json!({"name": "enable_user", "args": {"user_id": a.director.id}}),
            code: "forbidden",
        },
    ];
    for case in cases {
        let (_, path, body) = &case.rest;
        let rest = app.post(&case.token, path, body.clone()).await;
        assert_eq!(
            rest.1["code"], case.code,
            "{} over REST: {}",
            case.what, rest.1
        );
        assert_plain(case.what, &rest.1["message"]);

        let mut mutation = case.push.clone();
        mutation["mutation_id"] = json!(1);
        let device = uuid::Uuid::new_v4().to_string();
        let pushed = app.push(&case.token, &device, json!([mutation])).await;
        assert_eq!(pushed.0, 200, "{}: {}", case.what, pushed.1);
        let verdict = &pushed.1["verdicts"][0];
        assert_eq!(verdict["status"], "rejected", "{}: {verdict}", case.what);
        assert_eq!(
            verdict["code"], case.code,
            "{}: push and REST give the same code: {verdict}",
            case.what
        );
        assert_plain(case.what, &verdict["reason"]);
    }
}
