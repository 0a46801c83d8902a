//! Push to phones, on both backends, against local fakes of FCM and APNs that check what
//! the real services check: FCM's OAuth assertion signed with the service account's RSA key
//! (RS256, audience, scope) and the message's shape; APNs over HTTP/2 with an ES256 bearer
//! token (key id, team), the topic and the push type. Devices register their tokens over
//! the API; a token the service calls gone is forgotten; quiet hours hold a push.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mentorsync_server::notify::push::apns::ApnsConfig;
use mentorsync_server::notify::push::{Apns, Fcm, PushChannel};
use mentorsync_server::notify::{Channel, Dispatcher};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

both_backends!(
    notifications_reach_registered_phones_on_both_platforms,
    device_registration_is_checked_and_owned,
    a_backgrounded_phone_is_woken_once_per_burst,
);

const GONE: &str = "gone-token";

/// One request APNs received: the device, the `apns-*` headers, the body.
type ApnsPush = (String, HashMap<String, String>, Value);

/// What the fakes received.
#[derive(Clone, Default)]
struct Seen {
    fcm: Arc<Mutex<Vec<Value>>>,
    apns: Arc<Mutex<Vec<ApnsPush>>>,
}

#[derive(Clone)]
struct Fake {
    seen: Seen,
    rsa_public: Arc<DecodingKey>,
    ec_public: Arc<DecodingKey>,
    token_uri: String,
}

async fn fcm_token(
    State(f): State<Fake>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[f.token_uri.as_str()]);
    v.set_issuer(&["push@mentorsync-test.iam.gserviceaccount.com"]);
    let claims = jsonwebtoken::decode::<Value>(&form["assertion"], &f.rsa_public, &v)
        .expect("the assertion is signed with the service account's key");
    assert_eq!(
        claims.claims["scope"],
        "https://www.googleapis.com/auth/firebase.messaging"
    );
    (
        StatusCode::OK,
        Json(json!({"access_token": "fcm-access-1", "expires_in": 3600, "token_type": "Bearer"})),
    )
}

async fn fcm_send(
    State(f): State<Fake>,
    Path((project, method)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    assert_eq!(
        (project.as_str(), method.as_str()),
        ("mentorsync-test", "messages:send")
    );
    assert_eq!(headers["authorization"], "Bearer fcm-access-1");
    if body["message"]["token"] == GONE {
        return (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}),
            ),
        );
    }
    f.seen.fcm.lock().unwrap().push(body);
    (
        StatusCode::OK,
        Json(json!({"name": "projects/x/messages/1"})),
    )
}

async fn apns_send(
    State(f): State<Fake>,
    Path(device): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let bearer = headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("bearer ")
        .unwrap()
        .to_owned();
    let header = jsonwebtoken::decode_header(&bearer).unwrap();
    assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
    let mut v = Validation::new(Algorithm::ES256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(&bearer, &f.ec_public, &v)
        .expect("the bearer is signed with the APNs key");
    assert_eq!(claims.claims["iss"], "TEAM123456");
    if device == GONE {
        return (StatusCode::GONE, Json(json!({"reason": "Unregistered"})));
    }
    let headers: HashMap<String, String> = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("apns-"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    f.seen.apns.lock().unwrap().push((device, headers, body));
    (StatusCode::OK, Json(json!({})))
}

/// Starts both fakes and returns a dispatcher whose push channel sends to them.
async fn fakes(app: &TestApp) -> (Seen, Dispatcher) {
    let (seen, push) = fake_push(app).await;
    let channels: Vec<Arc<dyn Channel>> = vec![push];
    (seen, Dispatcher::new(channels))
}

/// Starts both fakes and returns the push channel that sends to them.
async fn fake_push(app: &TestApp) -> (Seen, Arc<PushChannel>) {
    use p256::elliptic_curve::Generate;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let rsa_key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let rsa_private = rsa_key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let rsa_public = rsa_key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let ec_key = p256::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
    let ec_private = ec_key
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let ec_public = ec_key
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Seen::default();
    let fake = Fake {
        seen: seen.clone(),
        rsa_public: Arc::new(DecodingKey::from_rsa_pem(rsa_public.as_bytes()).unwrap()),
        ec_public: Arc::new(DecodingKey::from_ec_pem(ec_public.as_bytes()).unwrap()),
        token_uri: format!("{base}/token"),
    };
    let router = Router::new()
        .route("/token", post(fcm_token))
        .route("/v1/projects/{project}/{method}", post(fcm_send))
        .route("/3/device/{device}", post(apns_send))
        .with_state(fake);
    // axum serves HTTP/1.1 and HTTP/2 (prior knowledge, as APNs' client speaks here).
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let account = json!({
        "type": "service_account", "project_id": "mentorsync-test",
        "client_email": "push@mentorsync-test.iam.gserviceaccount.com",
        "private_key": rsa_private, "token_uri": format!("{base}/token"),
    });
    let fcm = Fcm::new(&account.to_string(), &base).unwrap();
    let apns = Apns::new(ApnsConfig {
        key_pem: ec_private,
        key_id: "KEY1234567".into(),
        team_id: "TEAM123456".into(),
        topic: "org.mentorsync.app".into(),
        base: base.clone(),
    })
    .unwrap();
    let push = Arc::new(PushChannel::new(app.db.clone(), Some(fcm), Some(apns)));
    (seen, push)
}

async fn register(app: &TestApp, token: &str, client: &str, body: Value) -> (u16, Value) {
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            token,
            &format!("/api/v1/devices/{client}/push"),
            Some(body),
        )
        .await;
    (status.as_u16(), body)
}

async fn notifications_reach_registered_phones_on_both_platforms(app: &TestApp) {
    let a = &app.a;
    let (seen, dispatcher) = fakes(app).await;
    let (android, iphone, old) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let t = &a.coordinator.token;
    assert_eq!(
        register(
            app,
            t,
            &android,
            json!({"platform": "fcm", "token": "fcm-device-1"})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        register(
            app,
            t,
            &iphone,
            json!({"platform": "apns", "token": "a1b2c3"})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        register(app, t, &old, json!({"platform": "fcm", "token": GONE}))
            .await
            .0,
        204
    );

    app.request_pause(T0 + 2 * DAY).await;
    let report = dispatcher.run_once(&app.db, T0 + 1_000).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");

    let fcm = seen.fcm.lock().unwrap().clone();
    assert_eq!(fcm.len(), 1, "{fcm:?}");
    let m = &fcm[0]["message"];
    assert_eq!(m["token"], "fcm-device-1");
    assert_eq!(m["notification"]["title"], "Pause requested");
    assert!(
        m["notification"]["body"]
            .as_str()
            .unwrap()
            .contains("exams")
    );
    assert_eq!(m["data"]["kind"], "pause_requested");
    assert_eq!(m["data"]["entity"], "pause");
    let apns = seen.apns.lock().unwrap().clone();
    assert_eq!(apns.len(), 1);
    let (device, headers, body) = &apns[0];
    assert_eq!(device, "a1b2c3");
    assert_eq!(headers["apns-topic"], "org.mentorsync.app");
    assert_eq!(headers["apns-push-type"], "alert");
    assert_eq!(body["aps"]["alert"]["title"], "Pause requested");
    assert_eq!(body["kind"], "pause_requested");
    // The token FCM called unregistered is forgotten.
    let left: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM push_devices WHERE user_id = $1",
            &[&a.coordinator.id],
        )
        .await;
    assert_eq!(left, 2);

    // Quiet hours hold the push (the inbox has it at once); a kind they did not choose is
    // not pushed at all.
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            t,
            "/api/v1/me/preferences",
            Some(json!({"email": "never", "quiet_from": "22:00", "quiet_until": "07:00"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "quiet"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let report = dispatcher
        .run_once(&app.db, T0 + 23 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(report.held, 1, "{report:?}");
    assert_eq!(seen.fcm.lock().unwrap().len(), 1);
    dispatcher
        .run_once(&app.db, T0 + DAY + 7 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(
        seen.fcm.lock().unwrap().len(),
        2,
        "sent when the quiet hours ended"
    );
    assert_eq!(seen.apns.lock().unwrap().len(), 2);
}

async fn device_registration_is_checked_and_owned(app: &TestApp) {
    let a = &app.a;
    let phone = uuid::Uuid::new_v4().to_string();
    for bad in [
        json!({"platform": "sms", "token": "x"}),
        json!({"platform": "fcm", "token": ""}),
        json!({"platform": "fcm", "token": "has spaces"}),
        json!({"platform": "fcm", "token": "x".repeat(4097)}),
        json!({"platform": "fcm", "token": "x", "extra": 1}),
    ] {
        let (status, body) = register(app, &a.mentor.token, &phone, bad.clone()).await;
        assert!(
            [400, 422].contains(&status) && body["code"].is_string(),
            "{bad}: {status} {body}"
        );
    }
    let (status, _) = register(
        app,
        &a.mentor.token,
        "not-a-uuid",
        json!({"platform": "fcm", "token": "t"}),
    )
    .await;
    assert_eq!(status, 400);
    // A device id is one person's: nobody else registers under it (as in sync).
    register(
        app,
        &a.mentor.token,
        &phone,
        json!({"platform": "fcm", "token": "mine"}),
    )
    .await;
    let (status, body) = register(
        app,
        &a.coordinator.token,
        &phone,
        json!({"platform": "fcm", "token": "theirs"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    // The same token registered by a second phone moves there; a person keeps at most 20.
    let tokens = |user: &str| {
        let user = user.to_owned();
        async move {
            app.rows::<(String, String)>(
                "SELECT client_id, token FROM push_devices WHERE user_id = $1 ORDER BY client_id",
                &[user.as_str()],
            )
            .await
        }
    };
    register(
        app,
        &a.mentor.token,
        &phone,
        json!({"platform": "fcm", "token": "shared"}),
    )
    .await;
    let second = uuid::Uuid::new_v4().to_string();
    register(
        app,
        &a.coordinator.token,
        &second,
        json!({"platform": "fcm", "token": "shared"}),
    )
    .await;
    assert!(
        tokens(&a.mentor.id).await.is_empty(),
        "moved to the other phone"
    );
    assert_eq!(tokens(&a.coordinator.id).await.len(), 1);
    for i in 0..25 {
        let id = uuid::Uuid::new_v4().to_string();
        register(
            app,
            &a.mentor.token,
            &id,
            json!({"platform": "apns", "token": format!("t{i}")}),
        )
        .await;
    }
    assert_eq!(tokens(&a.mentor.id).await.len(), 20);
    // Unregistering touches only the caller's own device.
    let (status, _) = app
        .send(
            reqwest::Method::DELETE,
            &a.mentor.token,
            &format!("/api/v1/devices/{second}/push"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        tokens(&a.coordinator.id).await.len(),
        1,
        "not the mentor's to remove"
    );
    let (status, _) = app
        .send(
            reqwest::Method::DELETE,
            &a.coordinator.token,
            &format!("/api/v1/devices/{second}/push"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(tokens(&a.coordinator.id).await.is_empty());
}

/// The "sync now" pushes sent to FCM so far.
fn wakes(seen: &Seen) -> Vec<Value> {
    seen.fcm
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["message"]["data"]["sync"] == "now")
        .cloned()
        .collect()
}

async fn wait_for_wakes(seen: &Seen, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while wakes(seen).len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "expected {n} sync-now pushes, got {:?}",
            wakes(seen)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn raise_low_flag(app: &TestApp) {
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "quiet lately"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
}

/// A phone whose app is in the background (no event stream) gets one data-only push for a
/// burst of changes to its person's data, and another only after the interval; a person
/// whose app is open (streaming) gets none.
async fn a_backgrounded_phone_is_woken_once_per_burst(app: &TestApp) {
    use mentorsync_server::notify::push::wake;
    let a = &app.a;
    let (seen, push) = fake_push(app).await;
    let coordinator_phone = uuid::Uuid::new_v4().to_string();
    let mentor_phone = uuid::Uuid::new_v4().to_string();
    register(
        app,
        &a.coordinator.token,
        &coordinator_phone,
        json!({"platform": "fcm", "token": "coord-phone"}),
    )
    .await;
    register(
        app,
        &a.mentor.token,
        &mentor_phone,
        json!({"platform": "apns", "token": "mentor-phone"}),
    )
    .await;
    let _task = wake::spawn(&app.state, push, std::time::Duration::from_secs(60));
    // The mentor has the app open: their stream is live.
    let _stream = open_stream(app, &app.base, "/api/v1/sync/events", &a.mentor.token).await;

    // A burst: five flags on the coordinator's mentor's mentee.
    for _ in 0..5 {
        raise_low_flag(app).await;
    }
    wait_for_wakes(&seen, 1).await;
    let first = wakes(&seen);
    assert_eq!(first[0]["message"]["token"], "coord-phone");
    assert!(
        first[0]["message"].get("notification").is_none(),
        "data only, nothing shown: {}",
        first[0]
    );
    // After the interval, the next change wakes the phone again. The task handles commits
    // in order, so when this second push has come every change of the burst was handled:
    // the burst woke the phone exactly once.
    app.clock.advance(61_000);
    raise_low_flag(app).await;
    wait_for_wakes(&seen, 2).await;
    assert_eq!(wakes(&seen).len(), 2);
    assert!(
        seen.apns.lock().unwrap().is_empty(),
        "the streaming mentor was not pushed"
    );
    let woken: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM push_devices WHERE woken_at IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(woken, 1);
}
