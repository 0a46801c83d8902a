//! A real programme from an empty database, on both backends, with nothing but the
//! operator CLI (the `mentorsync-server` code, as a child process) and the admin API: a
//! chapter and its first admin, a roster file imported (and imported again, changing
//! nothing), people signing in with one-time codes, a coordinator's and a mentor's day
//! through client-core, a coordinator reassigned, a certification that expires, is
//! renewed and lets the mentor be reactivated, and a disabled coordinator whose device's
//! open stream closes and whose data leaves the device.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_core::{Client, CoreError};
use mentorsync_protocol::command::*;
use mentorsync_protocol::{FlagSeverity, MentorStatus};
use mentorsync_server::clock::{Clock, ManualClock, SystemClock};
use mentorsync_server::db::{ConnectOptions, q};
use mentorsync_server::jobs::{Job, scheduler};
use mentorsync_server::roster_file::parse::day_of;
use mentorsync_server::testkit::{Owner, TestDb};
use mentorsync_server::{AppState, Settings};
use mentorsync_tests::{Backend, PG_ENV, serve};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::Duration;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_test-server");
const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_programme_runs_from_an_empty_database_sqlite() {
    programme(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_programme_runs_from_an_empty_database_postgres() {
    if std::env::var(PG_ENV).is_err() {
        eprintln!(
            "SKIPPED a_programme_runs_from_an_empty_database_postgres: set {PG_ENV} to run it"
        );
        return;
    }
    programme(Backend::Postgres).await;
}

/// Runs the operator CLI on the test database; returns its standard output.
fn operator(opts: &ConnectOptions, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Process::new(SERVER_BIN);
    cmd.args(args)
        .env("DATABASE_URL", &opts.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(schema) = &opts.pg_schema {
        cmd.env("MENTORSYNC_PG_SCHEMA", schema);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Signs the admin in (again: the test's clock outruns access tokens).
    async fn admin(&self) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": "ADA@north.example.org", "password": "the admin's password"}))
            .send()
            .await
            .unwrap();
        let login: Value = r.json().await.unwrap();
        login["access_token"].as_str().unwrap().to_owned()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    async fn import(&self, token: &str, csv: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/api/v1/admin/import", self.base))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The person behind `email` signs in for the first time with a code the admin issues.
    async fn first_sign_in(&self, admin: &str, email: &str, password: &str) {
        let (_, page) = self
            .call(
                reqwest::Method::GET,
                admin,
                &format!("/api/v1/admin/users?q={email}"),
                None,
            )
            .await;
        let id = page["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, code) = self
            .post(
                admin,
                &format!("/api/v1/admin/users/{id}/sign-in-code"),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{code}");
        let r = self
            .http
            .post(format!("{}/api/v1/auth/redeem", self.base))
            .json(&json!({"email": email, "code": code["code"], "new_password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

async fn device(
    dir: &std::path::Path,
    base: &str,
    clock: &Arc<ManualClock>,
    email: &str,
    password: &str,
) -> Client {
    let clock = clock.clone();
    let c = Client::open_with_clock(
        &dir.join(format!("{email}.db")),
        base,
        Box::new(move || Clock::now_ms(&*clock)),
    )
    .unwrap();
    c.login(email, password).await.unwrap();
    c
}

async fn sync(c: &Client) {
    let report = c.sync(|_| {}).await.unwrap();
    assert_eq!(report.rejected, 0, "{:?}", c.rejected_commands().unwrap());
}

fn roster_ids(c: &Client) -> Vec<String> {
    c.roster(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| r.mentor.id)
        .collect()
}

fn status_of(c: &Client, mentor: &str) -> MentorStatus {
    c.roster(&Default::default())
        .unwrap()
        .into_iter()
        .find(|r| r.mentor.id == mentor)
        .map(|r| r.mentor.status)
        .unwrap()
}

async fn programme(backend: Backend) {
    mentorsync_server::testkit::init_tracing();
    let TestDb {
        db,
        opts,
        schema,
        dir,
    } = TestDb::create(backend, Owner::Configured, 8).await.unwrap();

    // The operator's first five minutes: a chapter, its admin with a password.
    let chapter = operator(
        &opts,
        &[
            "chapter",
            "create",
            "--name",
            "North",
            "--time-zone",
            "Europe/Dublin",
        ],
        None,
    );
    let chapter = chapter.trim().to_owned();
    let listed = operator(&opts, &["chapter", "list"], None);
    assert!(
        listed.contains(&chapter) && listed.contains("North"),
        "{listed}"
    );
    operator(
        &opts,
        &[
            "user",
            "create",
            "--email",
            "ada@north.example.org",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("the admin's password\n"),
    );

    let now = SystemClock.now_ms();
    let clock = Arc::new(ManualClock::new(now));
    let state = AppState::new(db.clone(), clock.clone(), Settings::default());
    let (addr, server) = serve(state.clone()).await;
    let base = format!("http://{addr}");
    let api = Api {
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        base: base.clone(),
    };
    let r = api
        .http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "ADA@north.example.org", "password": "the admin's password"}))
        .send()
        .await
        .unwrap();
    let login: Value = r.json().await.unwrap();
    let admin = login["access_token"].as_str().unwrap().to_owned();
    assert_eq!(login["user"]["chapter_id"], chapter.as_str());

    // The roster arrives as a file; importing it again changes nothing.
    let csv = format!(
        "kind,key,email,name,coordinator,mentor,cohort,capacity,specialties,interests,certified_until,starts_on,ends_on,seats,directors
cohort,north-27,,North 2027,,,,,,,,{start},{end},20,dee@north.example.org
director,,dee@north.example.org,Dee Rector,,,,,,,,,,,
coordinator,,cora@north.example.org,Cora Dinator,,,,,,,,,,,
coordinator,,colm@north.example.org,Colm Dinator,,,,,,,,,,,
mentor,,max@north.example.org,Max Mentor,cora@north.example.org,,,3,maths,,{soon},,,,
mentor,,mo@north.example.org,Mo Mentor,colm@north.example.org,,,3,art,,{later},,,,
mentee,,mia@north.example.org,Mia Mentee,,max@north.example.org,north-27,,,maths,,,,,
mentee,,ned@north.example.org,Ned Mentee,,max@north.example.org,north-27,,,,,,,,
",
        start = day_of(now),
        end = day_of(now + 90 * DAY),
        soon = day_of(now + 10 * DAY),
        later = day_of(now + 300 * DAY),
    );
    let first = api.import(&admin, &csv).await;
    assert_eq!(first["changes"]["create_user"], 7, "{first}");
    assert_eq!(
        api.import(&admin, &csv).await["changes"],
        json!({}),
        "the same file again changes nothing"
    );
    let file = dir.path().join("roster.csv");
    std::fs::write(&file, &csv).unwrap();
    let cli = operator(
        &opts,
        &["import", file.to_str().unwrap(), "--chapter", &chapter],
        None,
    );
    assert_eq!(cli.trim(), "", "the CLI lists no command: {cli}");

    let id_of = |email: &'static str| {
        let db = db.clone();
        async move {
            let mut tx = db.read().await.unwrap();
            let id: String = tx
                .fetch_one(q("SELECT id FROM users WHERE email = $1").bind(email))
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            id
        }
    };
    let (max, mia, ned, colm) = (
        id_of("max@north.example.org").await,
        id_of("mia@north.example.org").await,
        id_of("ned@north.example.org").await,
        id_of("colm@north.example.org").await,
    );
    for email in [
        "cora@north.example.org",
        "colm@north.example.org",
        "max@north.example.org",
    ] {
        api.first_sign_in(&admin, email, "a password of theirs")
            .await;
    }
    let cora_device = device(
        dir.path(),
        &base,
        &clock,
        "cora@north.example.org",
        "a password of theirs",
    )
    .await;
    let max_device = device(
        dir.path(),
        &base,
        &clock,
        "max@north.example.org",
        "a password of theirs",
    )
    .await;
    sync(&cora_device).await;
    sync(&max_device).await;
    assert_eq!(roster_ids(&cora_device), std::slice::from_ref(&max));

    // A mentor's day: a pause asked for offline, a session scheduled and held, a flag.
    max_device
        .execute(Command::RequestPause(PauseMentor {
            mentor_id: max.clone(),
            reason: "exams".into(),
            starts_at: None,
            ends_at: None,
            pause_id: None,
        }))
        .unwrap();
    let session = uuid::Uuid::new_v4().to_string();
    max_device
        .execute(Command::ScheduleSession(ScheduleSession {
            mentee_id: mia.clone(),
            mentor_id: None,
            scheduled_at: now + DAY,
            duration_minutes: 45,
            meeting_link: Some("https://meet.example.org/max-mia".into()),
            session_id: Some(session.clone()),
        }))
        .unwrap();
    let flag = uuid::Uuid::new_v4().to_string();
    max_device
        .execute(Command::RaiseFlag(RaiseFlag {
            mentee_id: ned.clone(),
            severity: FlagSeverity::High,
            reason: "missed two sessions".into(),
            flag_id: Some(flag.clone()),
        }))
        .unwrap();
    sync(&max_device).await;
    clock.advance(DAY + 3_600_000);
    max_device
        .execute(Command::CompleteSession(SessionRef {
            session_id: session.clone(),
        }))
        .unwrap();
    sync(&max_device).await;

    // A coordinator's day: the request approved, the mentor resumed, the flag acknowledged.
    sync(&cora_device).await;
    let pause: String = {
        let mut tx = db.read().await.unwrap();
        let id = tx
            .fetch_one(q("SELECT id FROM pauses WHERE mentor_id = $1").bind(max.as_str()))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        id
    };
    cora_device
        .execute(Command::ApprovePause(PauseRef { pause_id: pause }))
        .unwrap();
    assert_eq!(
        status_of(&cora_device, &max),
        MentorStatus::Paused,
        "shown at once, offline"
    );
    sync(&cora_device).await;
    cora_device
        .execute(Command::ResumeMentor(MentorRef {
            mentor_id: max.clone(),
        }))
        .unwrap();
    cora_device
        .execute(Command::AcknowledgeFlag(FlagRef { flag_id: flag }))
        .unwrap();
    sync(&cora_device).await;
    assert_eq!(status_of(&cora_device, &max), MentorStatus::Active);

    // Max changes hands: Cora's device drops him, Colm's receives him.
    let admin = api.admin().await;
    let colm_device = device(
        dir.path(),
        &base,
        &clock,
        "colm@north.example.org",
        "a password of theirs",
    )
    .await;
    sync(&colm_device).await;
    assert!(!roster_ids(&colm_device).contains(&max));
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &admin,
            &format!("/api/v1/admin/mentors/{max}/coordinator"),
            Some(json!({"coordinator_id": colm})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    sync(&cora_device).await;
    sync(&colm_device).await;
    assert!(roster_ids(&cora_device).is_empty());
    assert!(roster_ids(&colm_device).contains(&max));

    // The certification expires and the job pauses Max; Colm takes him off the programme;
    // the admin can bring him back only once the renewal is recorded.
    clock.advance(10 * DAY);
    scheduler::run(&db, Job::Certifications, clock.now_ms())
        .await
        .unwrap();
    sync(&colm_device).await;
    assert_eq!(status_of(&colm_device, &max), MentorStatus::Paused);
    colm_device
        .execute(Command::DeactivateMentor(MentorRef {
            mentor_id: max.clone(),
        }))
        .unwrap();
    sync(&colm_device).await;
    assert_eq!(status_of(&colm_device, &max), MentorStatus::Inactive);
    let admin = api.admin().await;
    let reactivate = format!("/api/v1/mentors/{max}/reactivate");
    let (status, body) = api.post(&admin, &reactivate, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("certification_invalid")),
        "{body}"
    );
    let renewal = json!({"expires_at": clock.now_ms() + 365 * DAY});
    let (status, body) = api
        .post(
            &admin,
            &format!("/api/v1/admin/mentors/{max}/certification"),
            renewal,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.post(&admin, &reactivate, json!({})).await;
    assert_eq!(status, 200, "{body}");
    sync(&colm_device).await;
    assert_eq!(status_of(&colm_device, &max), MentorStatus::Active);

    // Cora is disabled while her device follows the server: its stream closes, the
    // device signs out and forgets what it held of hers.
    let cora = id_of("cora@north.example.org").await;
    let run = cora_device.run(std::future::pending());
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => panic!("the loop ended early: {r:?}"),
        () = tokio::time::sleep(Duration::from_millis(500)) => {}
    }
    let (status, body) = api
        .post(
            &admin,
            &format!("/api/v1/admin/users/{cora}/disable"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ended = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the stream closes");
    assert!(
        matches!(ended, Err(CoreError::Unauthorized(_))),
        "{ended:?}"
    );
    assert!(cora_device.me().unwrap().is_none());
    assert!(
        cora_device.dump(false).unwrap().is_empty(),
        "nothing of hers stays on the device"
    );

    // The chapter as it is now, exported and imported again: nothing changes.
    let exported = operator(&opts, &["export"], None);
    assert!(exported.contains("max@north.example.org"), "{exported}");
    assert_eq!(
        api.import(&admin, &exported).await["changes"],
        json!({}),
        "{exported}"
    );

    state.shutdown.cancel();
    let _ = server.await;
    db.close().await;
    if let Some((url, schema)) = schema {
        let _ = mentorsync_server::db::Db::drop_pg_schema(&url, &schema).await;
    }
}
