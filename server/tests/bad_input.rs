//! Bad input never reaches the database and never becomes a 5xx: every case answers a
//! 4xx with the standard `{code, message}` body.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use serde_json::{Value, json};

both_backends!(malformed_requests);

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (reqwest::StatusCode, Value) {
    let mut req = app.http.request(method, app.url(path)).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "{path}: content-type {ct}"
    );
    (status, r.json().await.unwrap())
}

async fn malformed_requests(app: &TestApp) {
    use reqwest::Method;
    let tok = app.a.coordinator.token.clone();
    let m = app.a.mentor.id.clone();
    let pause = format!("/api/v1/mentors/{m}/pause");
    let json_ct = Some("application/json");
    let post = |path: String, body: &str| {
        let (tok, path, body) = (tok.clone(), path, body.as_bytes().to_vec());
        async move { raw(app, Method::POST, &path, Some(&tok), json_ct, body).await }
    };

    assert_error(
        &post(pause.clone(), "{\"reason\": ").await,
        400,
        "bad_request",
    );
    assert_error(
        &post(pause.clone(), "[1,2]").await,
        422,
        "validation_failed",
    );
    assert_error(
        &post(pause.clone(), r#"{"reason": "x", "sneaky": true}"#).await,
        422,
        "validation_failed",
    );
    assert_error(
        &post(pause.clone(), r#"{"reason": 5}"#).await,
        422,
        "validation_failed",
    );
    assert_error(
        &post(
            pause.clone(),
            r#"{"reason": "x", "expected_version": "one"}"#,
        )
        .await,
        422,
        "validation_failed",
    );
    assert_error(
        &post(pause.clone(), r#"{"reason": "   "}"#).await,
        400,
        "validation_failed",
    );
    let long = format!(r#"{{"reason": "{}"}}"#, "x".repeat(501));
    assert_error(&post(pause.clone(), &long).await, 400, "validation_failed");
    assert_error(
        &post(
            pause.clone(),
            r#"{"reason": "x", "pause_id": "not-a-uuid"}"#,
        )
        .await,
        400,
        "validation_failed",
    );
    assert_error(
        &post(pause.clone(), r#"{"reason": "x", "starts_at": 1700000000}"#).await,
        400,
        "validation_failed",
    );
    assert_error(
        &raw(app, Method::POST, &pause, Some(&tok), None, b"{}".to_vec()).await,
        415,
        "unsupported_media_type",
    );
    assert_error(
        &raw(
            app,
            Method::POST,
            &pause,
            Some(&tok),
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await,
        415,
        "unsupported_media_type",
    );
    let huge = format!(r#"{{"reason": "{}"}}"#, "x".repeat(300 * 1024));
    assert_error(&post(pause.clone(), &huge).await, 413, "payload_too_large");

    // Ids and actions in the path.
    assert_error(
        &post("/api/v1/mentors/12345/pause".into(), r#"{"reason": "x"}"#).await,
        400,
        "bad_request",
    );
    assert_error(
        &post("/api/v1/mentors/'%20OR%201=1--/resume".into(), "{}").await,
        400,
        "bad_request",
    );
    assert_error(
        &post(format!("/api/v1/mentors/{m}/explode"), "{}").await,
        400,
        "bad_request",
    );
    assert_error(
        &post(
            format!("/api/v1/mentors/{}/resume", uuid::Uuid::new_v4()),
            "{}",
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &post(
            "/api/v1/assignments".into(),
            r#"{"mentor_id": "x", "mentee_id": "y"}"#,
        )
        .await,
        422,
        "validation_failed",
    );

    // Query strings.
    let get = |path: &str| {
        let (tok, path) = (tok.clone(), path.to_owned());
        async move { raw(app, Method::GET, &path, Some(&tok), None, vec![]).await }
    };
    for q in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "status=sleeping",
        "colour=red",
        "cursor=%%%",
        "cursor=e30",
        "certification_expiring_within_days=99999",
    ] {
        assert_error(
            &get(&format!("/api/v1/coordinator/roster?{q}")).await,
            400,
            "bad_request",
        );
    }
    let (status, body) =
        get("/api/v1/coordinator/roster?q=%27%3B%20DROP%20TABLE%20users%3B--&limit=200").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    assert_error(
        &get("/api/v1/mentor/workqueue?limit=500").await,
        400,
        "bad_request",
    );

    // Routing and authentication.
    assert_error(&get("/api/v1/nothing-here").await, 404, "not_found");
    assert_error(
        &raw(app, Method::DELETE, &pause, Some(&tok), None, vec![]).await,
        405,
        "method_not_allowed",
    );
    assert_error(
        &raw(app, Method::GET, "/api/v1/me", None, None, vec![]).await,
        401,
        "unauthorized",
    );
    assert_error(
        &raw(app, Method::GET, "/api/v1/me", Some(""), None, vec![]).await,
        401,
        "unauthorized",
    );
    let r = app
        .http
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Nothing above changed the mentor.
    let version: i64 = app
        .scalar(
            "SELECT version FROM mentor_profiles WHERE user_id = $1",
            &[&m],
        )
        .await;
    assert_eq!(version, 1);
    let (status, _) = get("/readyz").await;
    assert_eq!(status, 200);
    let _ = json!(null);
}
