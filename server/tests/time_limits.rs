//! Time limits: a request that cannot finish in time is answered 408 with a JSON error, and
//! the command it carried leaves no trace (its transaction is rolled back, not half-applied);
//! an idle event stream sends heartbeats so that nothing on the way closes it as dead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::Settings;
use mentorsync_server::db::q;
use serde_json::json;
use std::time::Duration;

fn settings() -> Settings {
    Settings {
        request_timeout: Duration::from_millis(400),
        stream_heartbeat: Duration::from_millis(100),
        access_ttl_ms: 3650 * DAY,
        refresh_ttl_ms: 3650 * DAY,
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let app = TestApp::start_with(Backend::Sqlite, settings())
        .await
        .unwrap();
    a_stuck_request_times_out_and_changes_nothing(&app).await;
    idle_streams_heartbeat(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let Some(app) = TestApp::start_with(Backend::Postgres, settings()).await else {
        eprintln!("SKIPPED time_limits::postgres: set {PG_ENV} to run it");
        return;
    };
    a_stuck_request_times_out_and_changes_nothing(&app).await;
    idle_streams_heartbeat(&app).await;
    app.stop().await;
}

async fn a_stuck_request_times_out_and_changes_nothing(app: &TestApp) {
    let m = &app.a.mentor.id;
    let audit = || async {
        app.scalar::<i64>("SELECT COUNT(*) FROM audit_log WHERE entity_id = $1", &[m])
            .await
    };
    let before = audit().await;
    // Someone else holds the mentor (and, on SQLite, the write lock) for a second.
    let mut blocker = app.db.write().await.unwrap();
    blocker
        .execute(
            q("UPDATE mentor_profiles SET updated_at = updated_at WHERE user_id = $1")
                .bind(m.as_str()),
        )
        .await
        .unwrap();
    let path = format!("/api/v1/mentors/{m}/pause");
    let started = std::time::Instant::now();
    let stuck = app.post(&app.a.coordinator.token, &path, json!({"reason": "exams"}));
    let (status, body) = stuck.await;
    let waited = started.elapsed();
    assert_error(&(status, body), 408, "timeout");
    assert!(
        waited < Duration::from_secs(3),
        "answered when the limit passed, not when the lock did ({waited:?})"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    blocker.rollback().await.unwrap();
    assert_eq!(audit().await, before, "the timed-out command left no trace");
    let status: String = app
        .scalar(
            "SELECT status FROM mentor_profiles WHERE user_id = $1",
            &[m],
        )
        .await;
    assert_eq!(status, "active");
    // The same command goes through once the row is free.
    let (status, body) = app
        .post(&app.a.coordinator.token, &path, json!({"reason": "exams"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn idle_streams_heartbeat(app: &TestApp) {
    use futures::StreamExt;
    for (path, token) in [
        ("/api/v1/sync/events", &app.a.coordinator.token),
        ("/api/v1/mentor/dashboard/stream", &app.a.mentor.token),
    ] {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(token)
            .header("x-mentorsync-protocol", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let mut body = r.bytes_stream();
        let mut text = String::new();
        let started = std::time::Instant::now();
        let deadline = started + Duration::from_secs(5);
        while text.matches(": heartbeat\n").count() < 3 {
            assert!(std::time::Instant::now() < deadline, "{path}: {text:?}");
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .unwrap_or_else(|_| panic!("{path}: silent for 5 s: {text:?}"))
                .unwrap()
                .unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{path}: three heartbeats a tenth of a second apart"
        );
    }
}
