//! Attacks on the server's resources, each performed for real: it must refuse them
//! cheaply and keep serving everyone else (docs/security.md lists them).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use base64::Engine;
use common::*;
use mentorsync_protocol::notes::{Notes, attacks};
use mentorsync_server::clock::Clock;
use serde_json::json;
use std::time::{Duration, Instant};

both_backends!(
    a_notes_bomb_is_refused_cheaply,
    parallel_guesses_stop_at_the_limit_and_cannot_lock_out_the_owner,
    logout_ends_open_streams_everywhere,
    side_doors_stay_shut,
    strangers_cannot_grow_tables,
    a_crafted_cursor_names_nothing_outside_the_scope,
    an_unfiltered_query_sees_only_its_chapter,
    a_notes_merge_made_ahead_never_loses_an_edit
);

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

/// The test fixture's settings with connection limits an attack can reach quickly.
async fn app_with(change: impl FnOnce(&mut mentorsync_server::Settings)) -> TestApp {
    let mut settings = mentorsync_server::Settings {
        access_ttl_ms: 3650 * DAY,
        refresh_ttl_ms: 3650 * DAY,
        ..Default::default()
    };
    change(&mut settings);
    TestApp::start_with(Backend::Sqlite, settings)
        .await
        .unwrap()
}

/// Sends part of a request's headers and keeps the connection open.
async fn half_open(addr: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    conn
}

/// Whether the server closed `conn` (end of stream or an error) within `within`.
async fn closed_within(conn: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue, // a 408 or similar before the close
        }
    }
}

/// 300 connections that never finish their headers (transport-level, so SQLite only): the
/// server keeps answering `/healthz` at once, and closes each slow sender once the header
/// read timeout passes instead of holding it forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_headers_are_cut_and_do_not_starve_others() {
    let app = app_with(|s| s.header_read_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(half_open(&addr).await);
    }
    let started = Instant::now();
    let (status, _) = app.get("", "/healthz").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    for conn in slow.iter_mut().take(5) {
        assert!(
            closed_within(conn, Duration::from_secs(3)).await,
            "a connection that never finished its headers is closed"
        );
    }
    app.stop().await;
}

/// One peer address may hold only so many connections; the next is closed at once, and
/// its place comes back when one closes. Others' requests go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_cannot_take_every_connection() {
    const CAP: usize = 40;
    let app = app_with(|s| {
        s.max_connections_per_address = CAP;
        s.limit_loopback = true;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // The fixture's own pooled client may hold a connection or two: fill up to the cap.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..CAP + 5 {
        let mut conn = half_open(&addr).await;
        if closed_within(&mut conn, Duration::from_millis(100)).await {
            refused = Some(conn);
            break;
        }
        held.push(conn);
    }
    assert!(refused.is_some(), "past {CAP} connections one is refused");
    assert!(held.len() <= CAP, "{} held", held.len());
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
        if let Ok(r) = fresh.get(app.url("/healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "places come back when connections close"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

/// Signs in from the local address `from` (any of 127.0.0.0/8 reaches the test server).
async fn sign_in(app: &TestApp, from: [u8; 4], email: &str, password: &str) -> u16 {
    let http = reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    http.post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// 48 wrong guesses at once from one address: exactly the limit (5) are checked, the rest
/// are refused with 429 — the count is taken with the check, not after the slow hash. The
/// guesser's address is then locked out of that account, but the owner signing in from
/// elsewhere is not.
async fn parallel_guesses_stop_at_the_limit_and_cannot_lock_out_the_owner(app: &TestApp) {
    let victim = app.a.mentor.email.clone();
    let guesses = (0..48).map(|i| {
        let victim = victim.clone();
        async move { sign_in(app, [127, 0, 0, 1], &victim, &format!("guess {i}")).await }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|s| **s == 401).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 43), "{answers:?}");
    assert_eq!(sign_in(app, [127, 0, 0, 1], &victim, PASSWORD).await, 429);
    assert_eq!(
        sign_in(app, [127, 0, 0, 2], &victim, PASSWORD).await,
        200,
        "the owner, elsewhere, still signs in"
    );
}

/// A mentor's event stream and dashboard stream, on this instance and (PostgreSQL) on a
/// second one, end the moment they log out — no more names or meeting links after it.
/// A stream opened with a token of another family of theirs is not touched.
async fn logout_ends_open_streams_everywhere(app: &TestApp) {
    let email = app.a.mentor.email.clone();
    let token = fresh_access(app, &email).await;
    let other_family = fresh_access(app, &email).await;
    let mut bases = vec![app.base.clone()];
    if app.backend == Backend::Postgres {
        bases.push(app.second_instance().await);
    }
    let mut streams = Vec::new();
    for base in &bases {
        for path in ["/api/v1/sync/events", "/api/v1/mentor/dashboard/stream"] {
            streams.push((path, open_stream(app, base, path, &token).await));
        }
    }
    let mut kept = open_stream(app, &app.base, "/api/v1/sync/events", &other_family).await;
    let (status, body) = app.post(&token, "/api/v1/auth/logout", json!({})).await;
    assert!(status.is_success(), "{body}");
    for (path, r) in &mut streams {
        assert!(
            ends_within(r, Duration::from_secs(3)).await,
            "{path} ends at logout"
        );
    }
    assert!(
        !ends_within(&mut kept, Duration::from_millis(300)).await,
        "another session's stream stays open"
    );
}

/// No stream outlives the access token that opened it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_ends_when_its_token_expires() {
    let app = app_with(|s| s.access_ttl_ms = 1_500).await;
    let token = fresh_access(&app, &app.a.coordinator.email).await;
    let mut r = open_stream(&app, &app.base, "/api/v1/sync/events", &token).await;
    let started = Instant::now();
    assert!(ends_within(&mut r, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

/// What a caller may not see does not reach them by a side door: a refused command's
/// verdict does not carry a row outside the caller's scopes (here: a mentee who is not the
/// mentor's), mentees do not receive the flags raised about them, and a coordinator's
/// undeliverable list names only the mentors they coordinate.
async fn side_doors_stay_shut(app: &TestApp) {
    let a = &app.a;
    let stranger = &a.free_mentee;
    for name in ["schedule_session", "raise_flag"] {
        let args = match name {
            "schedule_session" => json!({"mentee_id": stranger.id, "scheduled_at": T0 + DAY,
                                         "duration_minutes": 30}),
            _ => json!({"mentee_id": stranger.id, "severity": "high", "reason": "r"}),
        };
        let (status, body) = app
            .push(
                &a.mentor.token,
                &uuid::Uuid::new_v4().to_string(),
                json!([{"mutation_id": 1, "name": name, "args": args}]),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let verdict = &body["verdicts"][0];
        assert_eq!(verdict["status"], "rejected", "{name}: {verdict}");
        assert!(
            verdict
                .get("current")
                .is_none_or(serde_json::Value::is_null),
            "{name}: the refusal hands over a row the mentor may not see: {verdict}"
        );
    }

    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "high", "reason": "worried"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut mentee = MiniClient::new();
    mentee.sync(app, &a.mentee.token, 1000).await;
    let kinds: Vec<&str> = mentee.rows.keys().map(|(e, _)| e.as_str()).collect();
    assert!(kinds.contains(&"mentee"), "{kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|k| ["mentee", "mentee_assignment", "session", "submission"].contains(k)),
        "a mentee receives only their own profile, assignments, sessions and submissions: {kinds:?}"
    );
    let mut mentor = MiniClient::new();
    mentor.sync(app, &a.mentor.token, 1000).await;
    assert!(
        mentor.rows.keys().any(|(e, _)| e == "flag"),
        "the mentor has the flag"
    );

    // An undeliverable notification about the other coordinator's mentor.
    app.exec(
        mentorsync_server::db::q(
            "INSERT INTO notifications (id, chapter_id, kind, audience, mentor_id, entity, entity_id, \
             message, status, attempts, created_at, next_attempt_at) \
             VALUES ($1, $2, 'pause_requested', 'coordinator', $3, 'mentor', $3, 'Omar asks for a pause', \
             'undeliverable', 1, $4, $4)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(a.id.clone())
        .bind(a.other_mentor.id.clone())
        .bind(T0),
    )
    .await;
    let (status, mine) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["undeliverable"], json!([]), "{mine}");
    assert_eq!(mine["figures"]["undeliverable_notifications"], 0);
    let (_, theirs) = app
        .get(&a.other_coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(
        theirs["undeliverable"].as_array().map(Vec::len),
        Some(1),
        "{theirs}"
    );
    assert_eq!(theirs["figures"]["undeliverable_notifications"], 1);
}

/// Rows a caller can create by naming new things are bounded and collected: client ids
/// (one signed-in person inventing device ids) and sign-in failures at unknown emails.
async fn strangers_cannot_grow_tables(app: &TestApp) {
    use mentorsync_server::sync::client::{DEVICE_IDLE_MS, MAX_DEVICES};
    let token = &app.a.mentee.token;
    let pull = |client: String| async move { app.pull_page(token, &client, None, 1).await };
    let mut devices = Vec::new();
    for _ in 0..MAX_DEVICES {
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(pull(id.clone()).await.0, 200);
        devices.push(id);
    }
    let refused = pull(uuid::Uuid::new_v4().to_string()).await;
    assert_error(&refused, 429, "too_many_requests");
    assert_eq!(pull(devices[0].clone()).await.0, 200, "known devices go on");
    app.clock.advance(DEVICE_IDLE_MS + 1);
    assert_eq!(
        pull(uuid::Uuid::new_v4().to_string()).await.0,
        200,
        "devices unseen for 30 days no longer count"
    );

    for i in 0..10 {
        sign_in(app, [127, 0, 0, 9], &format!("nobody{i}@example.test"), "x").await;
    }
    let rows = || {
        app.scalar::<i64>(
            "SELECT COUNT(*) FROM login_failures WHERE email LIKE $1",
            &["%nobody%"],
        )
    };
    assert!(rows().await >= 10);
    let window = app.state.settings.login_window_ms;
    let collect = || async {
        let mut tx = app.db.write().await.unwrap();
        let before = app.clock.now_ms() - window;
        mentorsync_server::auth::throttle::collect(&mut tx, before)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    collect().await;
    assert!(rows().await >= 10, "failures in the window are kept");
    app.clock.advance(window + 1);
    collect().await;
    assert_eq!(rows().await, 0, "collected once out of the window");
}

/// A cursor is opaque base64 JSON; a client can forge one. A round in progress whose
/// snapshot lists the scope keys of someone else's mentor and mentee must not make the
/// server send (or name, as removals) their rows.
async fn a_crafted_cursor_names_nothing_outside_the_scope(app: &TestApp) {
    use base64::Engine;
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.other_coordinator.token,
            "/api/v1/assignments",
            json!({"mentor_id": a.other_mentor.id, "mentee_id": a.free_mentee.id}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, head) = app
        .pull_page(&a.mentor.token, &uuid::Uuid::new_v4().to_string(), None, 1)
        .await;
    let target = head["target"].as_i64().unwrap();
    let forged = json!({"v": 2, "p": 0, "h": "forged", "t": target,
        "s": {"all": false, "e": 0,
              "keys": [format!("mentor:{}", a.other_mentor.id), format!("mentee:{}", a.free_mentee.id)]}});
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    let (status, page) = app
        .pull_page(
            &a.mentor.token,
            &uuid::Uuid::new_v4().to_string(),
            Some(&cursor),
            1000,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let text = page["changes"].to_string();
    for stranger in [&a.other_mentor.id, &a.free_mentee.id] {
        assert!(
            !text.contains(stranger.as_str()),
            "{stranger} named: {text}"
        );
    }
}

/// PostgreSQL row-level security, for a role that reads and writes the tables without
/// owning them (how an operator opts in): a deliberately unfiltered query in a
/// transaction acting for chapter A sees only A's rows, cannot write a row into chapter
/// B, and a transaction that named no context sees nothing at all. (SQLite has one user,
/// the server: nothing to test there.)
async fn an_unfiltered_query_sees_only_its_chapter(app: &TestApp) {
    use mentorsync_server::db::{Acting, Pool, q};
    if app.backend == Backend::Sqlite {
        eprintln!("row-level security is PostgreSQL's; nothing to check on SQLite");
        return;
    }
    let bound = app.bound_role().await.expect("a bound role");
    let become_bound = || q(format!("SET LOCAL ROLE {bound}"));
    let (a, b) = (&app.a.id, &app.b.id);
    let tables = [
        "users",
        "mentor_profiles",
        "mentee_profiles",
        "pauses",
        "sessions",
        "flags",
        "work_items",
        "audit_log",
        "change_log",
        "notifications",
        "dashboards",
        "cohorts",
    ];
    let mut tx = app.db.read_as(Acting::Chapter(a)).await.unwrap();
    tx.execute(become_bound()).await.unwrap();
    let users: Vec<String> = tx
        .fetch_all(q("SELECT chapter_id FROM users"))
        .await
        .unwrap();
    assert!(!users.is_empty());
    assert!(users.iter().all(|c| c == a), "{users:?}");
    for table in tables {
        let foreign: i64 = tx
            .fetch_one(
                q(format!(
                    "SELECT COUNT(*) FROM {table} WHERE chapter_id <> $1"
                ))
                .bind(a.as_str()),
            )
            .await
            .unwrap();
        assert_eq!(foreign, 0, "{table}: rows of another chapter are visible");
    }
    tx.rollback().await.unwrap();

    let mut system = app.db.read().await.unwrap();
    system.execute(become_bound()).await.unwrap();
    let all: i64 = system
        .fetch_one(q("SELECT COUNT(DISTINCT chapter_id) FROM users"))
        .await
        .unwrap();
    assert_eq!(
        all, 2,
        "the server's own work, named as such, sees every chapter"
    );
    system.rollback().await.unwrap();

    let insert = |chapter: &str| {
        q(
            "INSERT INTO cohorts (id, chapter_id, name, starts_at, ends_at, seats, updated_at) \
           VALUES ($1, $2, 'smuggled', 0, 1, 1, 0)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(chapter.to_owned())
    };
    let mut tx = app.db.write_as(Acting::Chapter(a)).await.unwrap();
    tx.execute(become_bound()).await.unwrap();
    assert_eq!(
        tx.execute(insert(a)).await.unwrap(),
        1,
        "its own chapter: fine"
    );
    let err = tx
        .execute(insert(b))
        .await
        .expect_err("a row of another chapter cannot be written");
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    let Pool::Postgres(pool) = app.db.pool() else {
        unreachable!()
    };
    let mut raw = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {bound}")))
        .execute(&mut *raw)
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *raw)
        .await
        .unwrap();
    assert_eq!(n, 0, "no context, no rows (fail closed)");
}

/// Notes are merged before the write transaction, against the session as it was read. If
/// another edit lands in between, the merge made ahead is stale: the command must merge
/// again under its lock, so both edits survive.
async fn a_notes_merge_made_ahead_never_loses_an_edit(app: &TestApp) {
    use mentorsync_server::db::Acting;
    use mentorsync_server::domain;
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
    let mentor_edit = b64.encode(Notes::new().edit(&[1; 16], "Goals: portfolio").unwrap());
    let coordinator_edit = b64.encode(Notes::new().edit(&[2; 16], "Check-in Friday").unwrap());
    let command = |changes: &str| {
        mentorsync_protocol::Command::EditSessionNotes(
            mentorsync_protocol::command::EditSessionNotes {
                session_id: id.clone(),
                changes: changes.to_owned(),
            },
        )
    };

    let ahead = domain::premerge(&app.db, &a.id, &command(&mentor_edit))
        .await
        .expect("merged ahead");
    let (status, body) = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/sessions/{id}/notes"),
            json!({"changes": coordinator_edit}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let actor = domain::Actor::user(
        a.id.clone(),
        a.mentor.id.clone(),
        mentorsync_protocol::Role::Mentor,
    );
    let mut tx = app.db.write_as(Acting::Chapter(&a.id)).await.unwrap();
    domain::apply_premerged(
        &mut tx,
        &actor,
        T0,
        &command(&mentor_edit),
        None,
        Some(ahead),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let notes: String = app
        .scalar("SELECT notes FROM sessions WHERE id = $1", &[id.as_str()])
        .await;
    assert!(
        notes.contains("Goals: portfolio") && notes.contains("Check-in Friday"),
        "both edits survive: {notes:?}"
    );
}
