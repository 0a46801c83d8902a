//! Sign-in, throttling, refresh rotation with reuse detection, logout and expiry, with
//! production token lifetimes and a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::Settings;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let app = TestApp::start_with(Backend::Sqlite, Settings::default())
        .await
        .unwrap();
    sessions_and_tokens(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let Some(app) = TestApp::start_with(Backend::Postgres, Settings::default()).await else {
        eprintln!("SKIPPED auth::postgres: set {PG_ENV} to run it");
        return;
    };
    sessions_and_tokens(&app).await;
    app.stop().await;
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value, Option<String>) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap(), retry)
}

/// The device the tests refresh from.
const DEVICE: &str = "6f1c2a9e-0000-4000-8000-000000000001";

async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    refresh_from(app, token, Some(DEVICE)).await
}

async fn refresh_from(app: &TestApp, token: &str, device: Option<&str>) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": token, "client_id": device}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn me(app: &TestApp, access: &str) -> u16 {
    app.get(access, "/api/v1/me").await.0.as_u16()
}

async fn sessions_and_tokens(app: &TestApp) {
    let email = app.a.coordinator.email.clone();

    // Sign in (email is case-insensitive); the stored token is only a hash.
    let (status, body, _) = login(app, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "coordinator");
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh1 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(me(app, &access).await, 200);
    let raw: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = $1",
            &[&refresh1],
        )
        .await;
    assert_eq!(raw, 0, "tokens are stored hashed");

    // Wrong password and unknown account read the same.
    let (s1, b1, _) = login(app, &email, "wrong").await;
    let (s2, b2, _) = login(app, "nobody@a.test", "wrong").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(b1["message"], b2["message"]);

    // Rotation: the new pair works.
    let (status, pair) = refresh(app, &refresh1).await;
    assert_eq!(status, 200, "{pair}");
    let access2 = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(app, &access2).await, 200);
    // The answer was lost on the way: the phone presents the same token again within the
    // grace period and gets a fresh pair instead of a sign-out.
    let (status, retry) = refresh(app, &refresh1).await;
    assert_eq!(status, 200, "a retry after a lost answer: {retry}");
    let refresh3 = retry["refresh_token"].as_str().unwrap().to_owned();
    let (status, pair4) = refresh(app, &refresh3).await;
    assert_eq!(status, 200, "{pair4}");
    let access4 = pair4["access_token"].as_str().unwrap().to_owned();
    let refresh4 = pair4["refresh_token"].as_str().unwrap().to_owned();
    // Once a later token was presented, the old one again is reuse: the family is revoked.
    let (status, body) = refresh(app, &refresh1).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (401, "refresh_token_reused")
    );
    assert_eq!(
        me(app, &access4).await,
        401,
        "reuse signs the whole family out"
    );
    assert_eq!(refresh(app, &refresh4).await.0, 401);

    // The pair a retry superseded turning up later did arrive somewhere: reuse.
    let (_, body, _) = login(app, &email, PASSWORD).await;
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    let (_, lost) = refresh(app, &first).await;
    let (_, kept) = refresh(app, &first).await;
    let (status, body) = refresh(app, lost["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (401, "refresh_token_reused")
    );
    assert_eq!(
        refresh(app, kept["refresh_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    // The retry is the spending device's, once: a copy presented from another device (or
    // with no device id) within the minute is theft, and so is a second retry.
    for thief in [Some("6f1c2a9e-0000-4000-8000-0000000000ff"), None] {
        let (_, body, _) = login(app, &email, PASSWORD).await;
        let first = body["refresh_token"].as_str().unwrap().to_owned();
        let (_, owner) = refresh(app, &first).await;
        let (status, body) = refresh_from(app, &first, thief).await;
        assert_eq!(
            (status, body["code"].as_str().unwrap()),
            (401, "refresh_token_reused"),
            "{thief:?}"
        );
        assert_eq!(me(app, owner["access_token"].as_str().unwrap()).await, 401);
    }
    let (_, body, _) = login(app, &email, PASSWORD).await;
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(app, &first).await.0, 200);
    assert_eq!(refresh(app, &first).await.0, 200, "one retry");
    let (status, body) = refresh(app, &first).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (401, "refresh_token_reused"),
        "a second retry is not a lost answer"
    );

    // Past the grace period, presenting a spent token again is reuse.
    let (_, body, _) = login(app, &email, PASSWORD).await;
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(app, &first).await.0, 200);
    app.clock.advance(app.state.settings.refresh_grace_ms + 1);
    let (status, body) = refresh(app, &first).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (401, "refresh_token_reused")
    );

    // Expiry: access tokens last 15 minutes; the refresh token still works after.
    let (_, body, _) = login(app, &email, PASSWORD).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh3 = body["refresh_token"].as_str().unwrap().to_owned();
    app.clock.advance(16 * 60 * 1000);
    assert_eq!(me(app, &access).await, 401);
    let (status, pair) = refresh(app, &refresh3).await;
    assert_eq!(
        status, 200,
        "a client offline for a while can still refresh: {pair}"
    );
    let access = pair["access_token"].as_str().unwrap().to_owned();

    // Logout ends this session only.
    let (_, other, _) = login(app, &email, PASSWORD).await;
    let other_access = other["access_token"].as_str().unwrap().to_owned();
    let r = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me(app, &access).await, 401);
    assert_eq!(
        refresh(app, pair["refresh_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    assert_eq!(me(app, &other_access).await, 200);

    // Refresh tokens expire too (60 days).
    app.clock.advance(61 * DAY);
    assert_eq!(
        refresh(app, other["refresh_token"].as_str().unwrap())
            .await
            .0,
        401
    );

    // Throttling: 5 failures within 15 minutes lock the email, even for the right password.
    let victim = app.a.mentor.email.clone();
    for _ in 0..5 {
        assert_eq!(login(app, &victim, "guess").await.0, 401);
    }
    let (status, body, retry) = login(app, &victim, PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "too_many_requests");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry));
    // Other accounts are unaffected; the lock lifts when the window passes.
    assert_eq!(login(app, &app.a.admin.email, PASSWORD).await.0, 200);
    app.clock.advance(16 * 60 * 1000);
    assert_eq!(login(app, &victim, PASSWORD).await.0, 200);
}
