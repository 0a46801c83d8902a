//! Bad input never reaches the database and never becomes a 5xx: every case answers a
//! 4xx with the standard `{code, message}` body.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use serde_json::{Value, json};

both_backends!(
    malformed_requests,
    malformed_admin_requests,
    a_refusal_before_the_body_keeps_the_connection_honest,
    a_device_clock_at_the_ends_of_time_is_refused_cleanly
);

/// The clock correction is arithmetic on numbers the device sends: at the extremes it
/// saturates, and the times it yields are refused as out of range, never a panic or a 500.
async fn a_device_clock_at_the_ends_of_time_is_refused_cleanly(app: &TestApp) {
    let a = &app.a;
    for (i, sent_at) in [i64::MAX, i64::MIN].into_iter().enumerate() {
        let client = uuid::Uuid::new_v4().to_string();
        let r = app
            .http
            .post(app.url("/api/v1/sync/push"))
            .bearer_auth(&a.coordinator.token)
            .header("x-mentorsync-protocol", "1")
            .json(&serde_json::json!({
                "client_id": client,
                "sent_at": sent_at,
                "mutations": [{"mutation_id": 1, "name": "pause_mentor", "issued_at": i64::MIN + i as i64,
                    "args": {"mentor_id": a.mentor.id, "reason": "r", "ends_at": 1_800_000_000_000_i64}}],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "case {i}");
        let body: serde_json::Value = r.json().await.unwrap();
        let verdict = &body["verdicts"][0];
        assert_eq!(verdict["status"], "rejected", "{body}");
        assert_eq!(verdict["code"], "validation_failed", "{body}");
    }
    assert_eq!(
        app.audit_count(&a.mentor.id).await,
        1,
        "only the seed's row"
    );
}

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

/// The admin endpoints check their input like every other: unknown fields and values,
/// bad ids, oversized or mistyped roster files, out-of-range list parameters.
async fn malformed_admin_requests(app: &TestApp) {
    use reqwest::Method;
    let tok = app.a.admin.token.clone();
    let json_ct = Some("application/json");
    let send = |method: Method, path: &str, ct: Option<&'static str>, body: Vec<u8>| {
        let (tok, path) = (tok.clone(), path.to_owned());
        async move { raw(app, method, &path, Some(&tok), ct, body).await }
    };
    let users_before: i64 = app.scalar("SELECT COUNT(*) FROM users", &[]).await;
    let cases: [(&str, &str, &[u8], u16, &str); 9] = [
        ("POST", "/api/v1/admin/users", br#"{"email": "a@b.org", "display_name": "A", "role": "wizard"}"#, 422, "validation_failed"),
        ("POST", "/api/v1/admin/users", br#"{"email": "a@b.org", "display_name": "A", "role": "mentor", "admin": true}"#, 422, "validation_failed"),
        ("POST", "/api/v1/admin/users", br#"{"email": "a@b.org", "display_name": "   ", "role": "mentor"}"#, 400, "validation_failed"),
        ("POST", "/api/v1/admin/users", br#"{"email": "a@b.org", "display_name": "A", "role": "mentor", "user_id": "1"}"#, 400, "validation_failed"),
        ("PATCH", "/api/v1/admin/users/not-a-uuid", br#"{"display_name": "A"}"#, 400, "bad_request"),
        ("POST", "/api/v1/admin/users/00000000-0000-0000-0000-000000000000/explode", b"{}", 400, "bad_request"),
        ("POST", "/api/v1/admin/cohorts", br#"{"name": "C", "starts_at": 5, "ends_at": 6, "seats": 1}"#, 400, "validation_failed"),
        ("POST", "/api/v1/admin/cohorts", br#"{"name": "C", "starts_at": 1800000000000, "ends_at": 1900000000000, "seats": -1}"#, 400, "validation_failed"),
        ("POST", "/api/v1/admin/cohorts", br#"{"name": "C", "external_id": "has spaces", "starts_at": 1800000000000, "ends_at": 1900000000000, "seats": 1}"#, 400, "validation_failed"),
    ];
    for (method, path, body, status, code) in cases {
        let method: Method = method.parse().unwrap();
        assert_error(
            &send(method, path, json_ct, body.to_vec()).await,
            status,
            code,
        );
    }
    for q in [
        "status=sleeping",
        "role=wizard",
        "limit=0",
        "limit=201",
        "colour=red",
    ] {
        assert_error(
            &send(
                Method::GET,
                &format!("/api/v1/admin/users?{q}"),
                None,
                vec![],
            )
            .await,
            400,
            "bad_request",
        );
    }
    let long = "x".repeat(101);
    assert_error(
        &send(
            Method::GET,
            &format!("/api/v1/admin/users?q={long}"),
            None,
            vec![],
        )
        .await,
        400,
        "bad_request",
    );
    // Roster files: only CSV, at most 8 MiB, and a file that is not one is refused whole.
    let import = "/api/v1/admin/import";
    assert_error(
        &send(Method::POST, import, Some("text/plain"), b"kind\n".to_vec()).await,
        415,
        "unsupported_media_type",
    );
    let huge = vec![b'x'; 9 * 1024 * 1024];
    assert_error(
        &send(Method::POST, import, Some("text/csv"), huge).await,
        413,
        "payload_too_large",
    );
    let (status, body) = send(
        Method::POST,
        import,
        Some("text/csv"),
        vec![0xff, 0xfe, 0x00],
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (422, Some("import_invalid")),
        "{body}"
    );
    let (status, body) = send(
        Method::POST,
        import,
        Some("text/csv"),
        b"kind,email,name\nmentor,\"unclosed,X\n".to_vec(),
    )
    .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert_error(
        &send(
            Method::POST,
            &format!("{import}?dry_run=perhaps"),
            Some("text/csv"),
            b"kind\n".to_vec(),
        )
        .await,
        400,
        "bad_request",
    );
    let users_after: i64 = app.scalar("SELECT COUNT(*) FROM users", &[]).await;
    assert_eq!(users_before, users_after, "nothing above created anyone");
}

/// Reads one HTTP/1.1 response (headers and a Content-Length body) from `conn`.
async fn read_response(conn: &mut tokio::net::TcpStream) -> Option<(u16, String)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = conn.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head.split_whitespace().nth(1)?.parse().ok()?;
            return Some((status, head));
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A mentor POSTs `{}` to the director-only refresh: the 403 is sent before the body is
/// read. The server must then either say `Connection: close` or take the next request on
/// the same connection — never drop it silently, which fails the client's next request.
async fn a_refusal_before_the_body_keeps_the_connection_honest(app: &TestApp) {
    use tokio::io::AsyncWriteExt;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let token = &app.a.mentor.token;
    for round in 0..20 {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/director/dashboard/refresh HTTP/1.1\r\nhost: x\r\n\
             authorization: Bearer {token}\r\ncontent-type: application/json\r\n\
             content-length: 2\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let (status, headers) = read_response(&mut conn).await.expect("a response");
        assert_eq!(status, 403, "round {round}");
        let _ = conn.write_all(b"{}").await;
        if headers.contains("connection: close") {
            continue;
        }
        let next = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
        let answer = match conn.write_all(next.as_bytes()).await {
            Ok(()) => read_response(&mut conn).await,
            Err(_) => None,
        };
        assert_eq!(
            answer.map(|a| a.0),
            Some(200),
            "round {round}: the connection was kept open, so it must serve the next request"
        );
    }
}
