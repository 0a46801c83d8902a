//! Notifications on both backends: written with their cause, addressed when dispatched
//! (current coordinator, else admin, else recorded undeliverable), retried with backoff,
//! delivered at most once per channel, and signed on the webhook channel.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use axum::http::HeaderMap;
use common::*;
use futures::future::BoxFuture;
use mentorsync_server::db::q;
use mentorsync_server::notify::webhook::{
    DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, signature,
};
use mentorsync_server::notify::{Channel, ChannelError, Dispatcher, Message, RecordingChannel};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

both_backends!(
    reaches_the_coordinator_of_dispatch_time,
    without_coordinator_reaches_the_admin,
    with_nobody_is_recorded_undeliverable,
    retries_with_backoff_and_never_resends,
    gives_up_after_the_last_attempt,
    webhook_posts_signed_messages,
    webhook_errors_are_retried,
);

/// A channel that fails its first `failures` calls.
struct Flaky {
    failures: usize,
    calls: AtomicUsize,
}

impl Channel for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn deliver<'a>(&'a self, _: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.failures {
                Err(ChannelError("gateway down".into()))
            } else {
                Ok(())
            }
        })
    }
}

async fn request_pause(app: &TestApp, mentor: &User) {
    let r = app
        .post(
            &mentor.token,
            &format!("/api/v1/mentors/{}/pause-requests", mentor.id),
            json!({"reason": "exams"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
}

async fn end_coordination(app: &TestApp, mentor: &str) {
    app.exec(
        q("UPDATE coordinator_assignments SET status = 'ended', ended_at = $1 WHERE mentor_id = $2 AND status = 'active'")
            .bind(T0)
            .bind(mentor),
    )
    .await;
}

async fn notification_status(app: &TestApp, kind: &'static str) -> String {
    app.scalar(
        "SELECT MAX(status) FROM notifications WHERE kind = $1",
        &[kind],
    )
    .await
}

async fn reaches_the_coordinator_of_dispatch_time(app: &TestApp) {
    let a = &app.a;
    let rec = RecordingChannel::default();
    let dispatcher = Dispatcher::new(vec![Arc::new(rec.clone())]);
    request_pause(app, &a.mentor).await;
    // Written with the request, addressed to nobody yet.
    let pending: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM notifications WHERE status = 'pending' AND mentor_id = $1",
            &[&a.mentor.id],
        )
        .await;
    assert_eq!(pending, 1);

    // The mentor changes hands before the dispatcher runs.
    end_coordination(app, &a.mentor.id).await;
    let (chapter, coord, mentor) = (
        a.id.clone(),
        a.other_coordinator.id.clone(),
        a.mentor.id.clone(),
    );
    app.seed(|s| {
        s.coordinate(&chapter, &coord, &mentor);
    })
    .await;

    let report = dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    assert_eq!(report.delivered, 1);
    let got = rec.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].recipient_id, a.other_coordinator.id);
    assert_eq!(got[0].kind, "pause_requested");
    assert_eq!(got[0].mentor_id.as_deref(), Some(a.mentor.id.as_str()));
    assert_eq!(
        notification_status(app, "pause_requested").await,
        "delivered"
    );
    let recorded: String = app
        .scalar(
            "SELECT recipient_id FROM notification_deliveries WHERE channel = 'record'",
            &[],
        )
        .await;
    assert_eq!(recorded, a.other_coordinator.id);
}

async fn without_coordinator_reaches_the_admin(app: &TestApp) {
    let a = &app.a;
    let rec = RecordingChannel::default();
    let dispatcher = Dispatcher::new(vec![Arc::new(rec.clone())]);
    end_coordination(app, &a.mentor.id).await;
    request_pause(app, &a.mentor).await;
    dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    let got = rec.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].recipient_id, a.admin.id);
}

async fn with_nobody_is_recorded_undeliverable(app: &TestApp) {
    let b = &app.b;
    let rec = RecordingChannel::default();
    let dispatcher = Dispatcher::new(vec![Arc::new(rec.clone())]);
    end_coordination(app, &b.mentor.id).await;
    // Chapter b has no admin any more.
    app.exec(q("UPDATE users SET role = 'director' WHERE id = $1").bind(b.admin.id.as_str()))
        .await;
    request_pause(app, &b.mentor).await;
    let report = dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    assert_eq!((report.delivered, report.undeliverable), (0, 1));
    assert!(rec.delivered().is_empty());
    assert_eq!(
        notification_status(app, "pause_requested").await,
        "undeliverable"
    );
    // Counted and listed, with the originating mentor, for whoever looks after that mentor:
    // the admin, and a coordinator only once the mentor is theirs (the message names people).
    let (_, dash) = app
        .get(&b.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["undeliverable_notifications"], 0, "{dash}");
    assert_eq!(dash["undeliverable"], serde_json::json!([]), "{dash}");
    app.exec(q("UPDATE users SET role = 'admin' WHERE id = $1").bind(b.admin.id.as_str()))
        .await;
    let (_, dash) = app
        .get(&b.admin.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["undeliverable_notifications"], 1, "{dash}");
    assert_eq!(dash["undeliverable"][0]["mentor_id"], b.mentor.id.as_str());
    assert_eq!(dash["undeliverable"][0]["kind"], "pause_requested");
    app.exec(
        q("UPDATE coordinator_assignments SET status = 'active', ended_at = NULL WHERE mentor_id = $1 \
           AND coordinator_id = $2")
        .bind(b.mentor.id.as_str())
        .bind(b.coordinator.id.as_str()),
    )
    .await;
    let (_, dash) = app
        .get(&b.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["undeliverable_notifications"], 1, "{dash}");
    assert_eq!(dash["undeliverable"][0]["mentor_id"], b.mentor.id.as_str());
    // Not another chapter's business.
    let (_, other) = app
        .get(&app.a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(other["figures"]["undeliverable_notifications"], 0);
    // A later pass does not pick it up again.
    let again = dispatcher.run_once(&app.db, T0 + DAY).await.unwrap();
    assert_eq!(again.undeliverable, 0);
}

async fn retries_with_backoff_and_never_resends(app: &TestApp) {
    let a = &app.a;
    let rec = RecordingChannel::default();
    let flaky = Arc::new(Flaky {
        failures: 1,
        calls: AtomicUsize::new(0),
    });
    let dispatcher = Dispatcher::new(vec![Arc::new(rec.clone()), flaky.clone()]);
    request_pause(app, &a.mentor).await;

    let t = T0 + 1000;
    let first = dispatcher.run_once(&app.db, t).await.unwrap();
    assert_eq!((first.delivered, first.retrying), (0, 1));
    let next: i64 = app
        .scalar("SELECT next_attempt_at FROM notifications", &[])
        .await;
    assert_eq!(next, t + 30_000);

    // Not due yet: nothing happens.
    let early = dispatcher.run_once(&app.db, t + 10_000).await.unwrap();
    assert_eq!(early, Default::default());

    let second = dispatcher.run_once(&app.db, t + 30_000).await.unwrap();
    assert_eq!(second.delivered, 1);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
    // The recording channel had it the first time and was not given it again.
    assert_eq!(rec.delivered().len(), 1);
    assert_eq!(
        notification_status(app, "pause_requested").await,
        "delivered"
    );

    // A delivery claimed by a dispatcher that then died is never sent again.
    let id = "0192aaaa-0000-7000-8000-000000000001";
    app.exec(
        q("INSERT INTO notifications (id, chapter_id, kind, audience, mentor_id, entity, entity_id, message, \
           created_at, next_attempt_at) VALUES ($1, $2, 'test', 'coordinator', $3, 'mentor', $3, 'hello', $4, $4)")
        .bind(id)
        .bind(a.id.as_str())
        .bind(a.mentor.id.as_str())
        .bind(t),
    )
    .await;
    app.exec(
        q("INSERT INTO notification_deliveries (notification_id, channel, recipient_id, status, at) \
           VALUES ($1, 'record', $2, 'sending', $3)")
        .bind(id)
        .bind(a.coordinator.id.as_str())
        .bind(t),
    )
    .await;
    dispatcher.run_once(&app.db, t + 60_000).await.unwrap();
    assert_eq!(
        rec.delivered().len(),
        1,
        "the half-sent message went out again"
    );
}

async fn gives_up_after_the_last_attempt(app: &TestApp) {
    let a = &app.a;
    let broken = Arc::new(Flaky {
        failures: usize::MAX,
        calls: AtomicUsize::new(0),
    });
    let mut dispatcher = Dispatcher::new(vec![broken.clone()]);
    dispatcher.max_attempts = 3;
    request_pause(app, &a.mentor).await;
    let mut t = T0;
    for _ in 0..5 {
        t += 3_600_000;
        dispatcher.run_once(&app.db, t).await.unwrap();
    }
    assert_eq!(broken.calls.load(Ordering::SeqCst), 3);
    assert_eq!(notification_status(app, "pause_requested").await, "failed");
    let error: String = app
        .scalar("SELECT last_error FROM notifications", &[])
        .await;
    assert!(error.contains("gateway down"), "{error}");
}

type Received = Arc<Mutex<Vec<(HeaderMap, bytes::Bytes)>>>;

async fn receiver() -> (String, Received) {
    failing_receiver(0).await
}

/// A webhook receiver that answers 500 to its first `failures` requests.
async fn failing_receiver(failures: usize) -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: bytes::Bytes| {
            let sink = sink.clone();
            async move {
                let mut sink = sink.lock().unwrap();
                sink.push((headers, body));
                if sink.len() <= failures {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

async fn webhook_posts_signed_messages(app: &TestApp) {
    let a = &app.a;
    let (url, got) = receiver().await;
    let hook = WebhookChannel::new(url, "s3cret").unwrap();
    let dispatcher = Dispatcher::new(vec![Arc::new(hook)]);
    // A critical flag tells the coordinator and the cohort's director.
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "critical", "reason": "stopped attending"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let report = dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    assert_eq!(report.delivered, 2);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let mut recipients = Vec::new();
    for (headers, body) in &got {
        let sig = headers[SIGNATURE_HEADER].to_str().unwrap();
        let ts: u64 = headers[TIMESTAMP_HEADER].to_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(ts) < 60, "the send time: {ts}");
        assert_eq!(sig, signature(b"s3cret", ts, body));
        assert_ne!(sig, signature(b"wrong", ts, body));
        assert_ne!(
            sig,
            signature(b"s3cret", ts - 600, body),
            "the time is signed"
        );
        let m: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            headers[DELIVERY_HEADER].to_str().unwrap(),
            m["notification_id"]
        );
        assert_eq!(m["kind"], "flag_raised");
        recipients.push(m["recipient_id"].as_str().unwrap().to_owned());
    }
    recipients.sort();
    let mut expected = vec![a.coordinator.id.clone(), a.director.id.clone()];
    expected.sort();
    assert_eq!(recipients, expected);
}

async fn webhook_errors_are_retried(app: &TestApp) {
    let a = &app.a;
    let (url, got) = failing_receiver(1).await;
    let dispatcher = Dispatcher::new(vec![Arc::new(WebhookChannel::new(url, "s3cret").unwrap())]);
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "quiet"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let first = dispatcher.run_once(&app.db, T0 + 1000).await.unwrap();
    assert_eq!((first.delivered, first.retrying), (0, 1));
    let error: String = app
        .scalar("SELECT last_error FROM notifications", &[])
        .await;
    assert!(error.contains("500"), "{error}");
    let second = dispatcher.run_once(&app.db, T0 + 31_000).await.unwrap();
    assert_eq!(second.delivered, 1);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "sent again after the error");
    assert_eq!(
        got[0].0[DELIVERY_HEADER], got[1].0[DELIVERY_HEADER],
        "the receiver can tell it is the same"
    );
}
