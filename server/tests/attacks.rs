//! Attacks on the server's resources, each performed for real: it must refuse them
//! cheaply and keep serving everyone else (docs/security.md lists them).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use base64::Engine;
use common::*;
use mentorsync_protocol::notes::{Notes, attacks};
use serde_json::json;
use std::time::{Duration, Instant};

both_backends!(a_notes_bomb_is_refused_cheaply);

/// A ~170-byte notes change that describes 300,000 operations (seconds of CPU and
/// hundreds of MB before the fix), over REST and over push:
/// refused with 413 naming the limit, in milliseconds, with the session untouched and an
/// unrelated coordinator's command served meanwhile. A legitimate edit still merges.
async fn a_notes_bomb_is_refused_cheaply(app: &TestApp) {
    let a = &app.a;
    let (status, session) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": T0 + DAY, "duration_minutes": 30}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let b64 = base64::engine::general_purpose::STANDARD;
    let one = Notes::new().edit(&[7; 16], "x").unwrap();
    let bomb = b64.encode(attacks::run_length_bomb(&one, 300_000));
    assert!(bomb.len() < 200, "{} bytes", bomb.len());

    let notes_path = format!("/api/v1/sessions/{id}/notes");
    let pause_path = format!("/api/v1/mentors/{}/pause", a.other_mentor.id);
    let started = Instant::now();
    let bombed = app.post(&a.mentor.token, &notes_path, json!({"changes": bomb}));
    let other = app.post(
        &a.other_coordinator.token,
        &pause_path,
        json!({"reason": "unrelated"}),
    );
    let (bombed, other) = tokio::join!(bombed, other);
    assert_error(&bombed, 413, "payload_too_large");
    assert!(
        bombed.1["message"].as_str().unwrap().contains("operations"),
        "the limit is named: {}",
        bombed.1
    );
    assert_eq!(other.0, 200, "{}", other.1);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let pushed = app
        .push(
            &a.mentor.token,
            &uuid::Uuid::new_v4().to_string(),
            json!([{"mutation_id": 1, "name": "edit_session_notes",
                    "args": {"session_id": id, "changes": bomb}}]),
        )
        .await;
    assert_eq!(pushed.0, 200, "{}", pushed.1);
    assert_eq!(
        pushed.1["verdicts"][0]["code"], "payload_too_large",
        "{}",
        pushed.1
    );

    let version: i64 = app
        .scalar("SELECT version FROM sessions WHERE id = $1", &[id.as_str()])
        .await;
    assert_eq!(version, 1, "the session is untouched");
    let fine = b64.encode(&one);
    let (status, body) = app
        .post(&a.mentor.token, &notes_path, json!({"changes": fine}))
        .await;
    assert_eq!(status, 200, "a legitimate edit still merges: {body}");
    assert_eq!(body["row"]["notes"], "x");
}
