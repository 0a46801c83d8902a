//! The work queue fills itself, in the transaction of the cause (DOMAIN.md, "Work-queue
//! triggers"), and mentees hear about their sessions — on both backends: a held session
//! asks its mentor for a follow-up, a no-show and a serious flag for a risk assessment,
//! each exactly once; scheduling and cancelling a session reach the mentee at dispatch.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::notify::{Dispatcher, RecordingChannel};
use serde_json::{Value, json};
use std::sync::Arc;

both_backends!(
    a_held_session_asks_for_a_follow_up_once,
    a_no_show_asks_for_a_risk_assessment,
    a_serious_flag_asks_for_an_urgent_assessment_and_a_minor_one_does_not,
    the_mentee_hears_of_a_session_scheduled_and_cancelled,
);

async fn schedule(app: &TestApp) -> String {
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": T0 + DAY, "duration_minutes": 30}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn outcome(app: &TestApp, session: &str, action: &str) -> (u16, Value) {
    let (status, body) = app
        .post(
            &app.a.mentor.token,
            &format!("/api/v1/sessions/{session}/{action}"),
            json!({}),
        )
        .await;
    (status.as_u16(), body)
}

/// `(kind, priority, mentor_id, mentee_id, sla_due_at)` of the items a row caused.
async fn items_for(app: &TestApp, reference: &str) -> Vec<(String, String, String, String, i64)> {
    app.rows(
        "SELECT kind, priority, mentor_id, mentee_id, sla_due_at FROM work_items WHERE reference_id = $1 ORDER BY id",
        &[reference],
    )
    .await
}

async fn a_held_session_asks_for_a_follow_up_once(app: &TestApp) {
    let a = &app.a;
    let session = schedule(app).await;
    assert!(items_for(app, &session).await.is_empty(), "nothing yet");
    assert_eq!(outcome(app, &session, "complete").await.0, 200);
    let items = items_for(app, &session).await;
    assert_eq!(
        items,
        [(
            "session_followup".to_owned(),
            "normal".to_owned(),
            a.mentor.id.clone(),
            a.mentee.id.clone(),
            T0 + DAY
        )]
    );
    // A second outcome is refused, so the item is not made twice.
    assert_eq!(outcome(app, &session, "complete").await.0, 422);
    assert_eq!(items_for(app, &session).await.len(), 1);
    // It is in the mentor's queue as any item is.
    let (_, queue) = app.get(&a.mentor.token, "/api/v1/mentor/workqueue").await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reference_id"] == session && i["kind"] == "session_followup")
    );
}

async fn a_no_show_asks_for_a_risk_assessment(app: &TestApp) {
    let cancelled = schedule(app).await;
    assert_eq!(outcome(app, &cancelled, "cancel").await.0, 200);
    assert!(
        items_for(app, &cancelled).await.is_empty(),
        "a cancelled session asks nothing"
    );
    let missed = schedule(app).await;
    assert_eq!(outcome(app, &missed, "no-show").await.0, 200);
    let items = items_for(app, &missed).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].0.as_str(), items[0].1.as_str()),
        ("risk_assessment", "high")
    );
}

async fn a_serious_flag_asks_for_an_urgent_assessment_and_a_minor_one_does_not(app: &TestApp) {
    let a = &app.a;
    let raise = |severity: &'static str| async move {
        let (status, body) = app
            .post(
                &a.mentor.token,
                "/api/v1/mentor/flags",
                json!({"mentee_id": a.mentee.id, "severity": severity, "reason": "worried"}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        body["id"].as_str().unwrap().to_owned()
    };
    for minor in ["low", "medium"] {
        let flag = raise(minor).await;
        assert!(items_for(app, &flag).await.is_empty(), "{minor}");
    }
    for serious in ["high", "critical"] {
        let flag = raise(serious).await;
        let items = items_for(app, &flag).await;
        assert_eq!(
            items,
            [(
                "risk_assessment".to_owned(),
                "urgent".to_owned(),
                a.mentor.id.clone(),
                a.mentee.id.clone(),
                T0 + DAY
            )],
            "{serious}"
        );
    }
}

async fn the_mentee_hears_of_a_session_scheduled_and_cancelled(app: &TestApp) {
    let a = &app.a;
    let rec = RecordingChannel::default();
    let dispatcher = Dispatcher::new(vec![Arc::new(rec.clone())]);
    let session = schedule(app).await;
    assert_eq!(outcome(app, &session, "cancel").await.0, 200);
    let report = dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    assert_eq!(report.delivered, 2, "{report:?}");
    let to_mentee: Vec<_> = rec
        .delivered()
        .into_iter()
        .filter(|m| m.recipient_id == a.mentee.id)
        .collect();
    assert_eq!(
        to_mentee
            .iter()
            .map(|m| m.kind.as_str())
            .collect::<Vec<_>>(),
        ["session_scheduled", "session_cancelled"]
    );
    assert!(to_mentee.iter().all(|m| m.entity_id == session));
    // The time reads in the mentee's zone (the chapter's: UTC here), not as an epoch.
    assert!(
        to_mentee[0].message.ends_with("UTC")
            && !to_mentee[0].message.contains(&(T0 + DAY).to_string()),
        "{}",
        to_mentee[0].message
    );
    // A disabled mentee hears nothing; the notification is recorded undeliverable.
    let session = schedule(app).await;
    app.exec(
        mentorsync_server::db::q("UPDATE users SET status = 'disabled' WHERE id = $1")
            .bind(a.mentee.id.as_str()),
    )
    .await;
    assert_eq!(outcome(app, &session, "cancel").await.0, 200);
    let report = dispatcher.run_once(&app.db, T0 + 2000).await.unwrap();
    assert_eq!(report.undeliverable, 2, "{report:?}");
}
