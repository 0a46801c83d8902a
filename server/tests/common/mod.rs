//! Test harness: the real router in-process on port 0, over a fresh SQLite file or a fresh
//! PostgreSQL schema, with a clock the test moves, and a two-chapter fixture with one user
//! of every role (and tokens issued through the real token code).
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use mentorsync_protocol::Role;
use mentorsync_server::auth::tokens;
use mentorsync_server::clock::ManualClock;
use mentorsync_server::db::{ConnectOptions, Db, FromDb, q};
use mentorsync_server::seed::Seeder;
use mentorsync_server::{AppState, Settings};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use tempfile::TempDir;

pub use mentorsync_server::db::Backend;
#[allow(unused_imports)]
pub use mentorsync_server::testkit::{APP_ROLE, DAY, PASSWORD, PG_ENV, T0, password_hash};
use mentorsync_server::testkit::{Owner, TestDb};

/// Runs a test body once per backend: `both_backends!(name);` makes `name::sqlite` and
/// `name::postgres`, the latter skipped (and saying so) without `MENTORSYNC_TEST_PG_URL`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await.unwrap();
                super::$name(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::start($crate::common::Backend::Postgres).await else {
                    eprintln!("SKIPPED {}::postgres: set {} to run it", stringify!($name), $crate::common::PG_ENV);
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    )+};
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub token: String,
}

/// One chapter of the fixture.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub id: String,
    pub admin: User,
    /// Coordinates `mentor`.
    pub coordinator: User,
    /// Coordinates `other_mentor`.
    pub other_coordinator: User,
    /// Mentors `mentee`; certification valid for a year.
    pub mentor: User,
    /// Mentors nobody.
    pub other_mentor: User,
    /// Assigned to `mentor`.
    pub mentee: User,
    /// Assigned to nobody.
    pub free_mentee: User,
    pub director: User,
    pub cohort_id: String,
}

impl Chapter {
    pub fn user(&self, role: Role) -> &User {
        match role {
            Role::Admin => &self.admin,
            Role::Coordinator => &self.coordinator,
            Role::Mentor => &self.mentor,
            Role::Mentee => &self.mentee,
            Role::Director => &self.director,
        }
    }
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub db: Db,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub http: reqwest::Client,
    pub a: Chapter,
    pub b: Chapter,
    schema: Option<(String, String)>,
    opts: ConnectOptions,
    extra: std::sync::Mutex<Vec<AppState>>,
    _dir: TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// `None` only for PostgreSQL when it is not configured.
    /// Tokens live for years here because tests move the clock by days; the auth tests
    /// use production lifetimes through [`TestApp::start_with`].
    pub async fn start(backend: Backend) -> Option<TestApp> {
        let settings = Settings {
            access_ttl_ms: 3650 * DAY,
            refresh_ttl_ms: 3650 * DAY,
            ..Settings::default()
        };
        Self::start_with(backend, settings).await
    }

    pub async fn start_with(backend: Backend, settings: Settings) -> Option<TestApp> {
        mentorsync_server::testkit::init_tracing();
        let TestDb {
            db,
            opts,
            schema,
            dir,
        } = TestDb::create(backend, Owner::AppRole, 20).await?;
        let keep_opts = opts.clone();
        let clock = Arc::new(ManualClock::new(T0));
        let state = AppState::new(db.clone(), clock.clone(), settings);
        let (a, b) = fixture(&db, &state).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serve_state = state.clone();
        let server = tokio::spawn(async move {
            mentorsync_server::serve::run(listener, serve_state)
                .await
                .unwrap();
        });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Some(TestApp {
            backend,
            base,
            db,
            clock,
            state,
            http,
            a,
            b,
            schema,
            opts: keep_opts,
            extra: std::sync::Mutex::new(Vec::new()),
            _dir: dir,
            server,
        })
    }

    /// Another server instance on the same database (its own pool and change listener),
    /// as in a scaled-out deployment. Returns its base URL.
    pub async fn second_instance(&self) -> String {
        let db = Db::connect(&self.opts).await.expect("connect");
        let state = AppState::new(db, self.clock.clone(), (*self.state.settings).clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serve_state = state.clone();
        tokio::spawn(async move {
            let _ = mentorsync_server::serve::run(listener, serve_state).await;
        });
        self.extra.lock().unwrap().push(state);
        base
    }

    /// The state of another instance on the same database (own pool and listener),
    /// without an HTTP listener: for running a second scheduler.
    pub async fn second_state(&self) -> AppState {
        let db = Db::connect(&self.opts).await.expect("connect");
        let state = AppState::new(db, self.clock.clone(), (*self.state.settings).clone());
        self.extra.lock().unwrap().push(state.clone());
        state
    }

    /// A scheduler of this instance delivering through `channels`.
    pub fn scheduler(
        &self,
        channels: Vec<Arc<dyn mentorsync_server::notify::Channel>>,
    ) -> mentorsync_server::jobs::Scheduler {
        mentorsync_server::jobs::Scheduler::new(
            &self.state,
            mentorsync_server::notify::Dispatcher::new(channels),
        )
    }

    /// Changes the database behind the API's back (test set-up and tampering).
    pub async fn exec(&self, query: mentorsync_server::db::Q) -> u64 {
        let mut tx = self.db.write().await.unwrap();
        let n = tx.execute(query).await.unwrap();
        tx.commit().await.unwrap();
        n
    }

    /// Adds rows with the seeder (clock at the test's start) in one transaction.
    pub async fn seed(&self, build: impl FnOnce(&mut Seeder)) {
        let mut s = Seeder::new(T0, password_hash());
        build(&mut s);
        let mut tx = self.db.write().await.unwrap();
        s.flush(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn stop(self) {
        for s in self.extra.lock().unwrap().drain(..) {
            s.shutdown.cancel();
        }
        self.state.shutdown.cancel();
        let _ = self.server.await;
        self.db.close().await;
        if let Some((url, schema)) = self.schema {
            let _ = Db::drop_pg_schema(&url, &schema).await;
        }
    }

    /// PostgreSQL: a role that may read and write this test's tables without owning them,
    /// which row-level security binds (the server's role owns them and is not bound).
    /// Transactions take it with `SET LOCAL ROLE`.
    pub async fn bound_role(&self) -> Option<&'static str> {
        const BOUND: &str = "mentorsync_test_bound";
        let (url, schema) = self.schema.as_ref()?;
        let admin = Db::connect(&ConnectOptions {
            max_connections: 1,
            ..ConnectOptions::new(url.clone())
        })
        .await
        .ok()?;
        let mut tx = admin.write().await.ok()?;
        let _ = tx
            .execute(q(format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{BOUND}') \
                 THEN CREATE ROLE {BOUND} NOLOGIN; END IF; END $$"
            )))
            .await;
        let _ = tx.commit().await;
        let mut tx = admin.write().await.ok()?;
        for grant in [
            format!("GRANT USAGE ON SCHEMA \"{schema}\" TO {BOUND}"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"{schema}\" TO {BOUND}"
            ),
            format!("GRANT {BOUND} TO {APP_ROLE}"),
        ] {
            tx.execute(q(grant)).await.ok()?;
        }
        tx.commit().await.ok()?;
        admin.close().await;
        Some(BOUND)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Any method, with a JSON body when one is given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A scalar from the database (for invariants the API does not expose).
    pub async fn scalar<T: FromDb>(&self, sql: &'static str, args: &[&str]) -> T {
        let mut tx = self.db.read().await.unwrap();
        let mut query = q(sql);
        for a in args {
            query = query.bind(*a);
        }
        let v = tx.fetch_one(query).await.unwrap();
        tx.rollback().await.unwrap();
        v
    }

    /// Rows from the database.
    pub async fn rows<T: FromDb>(&self, sql: &'static str, args: &[&str]) -> Vec<T> {
        let mut tx = self.db.read().await.unwrap();
        let mut query = q(sql);
        for a in args {
            query = query.bind(*a);
        }
        let v = tx.fetch_all(query).await.unwrap();
        tx.rollback().await.unwrap();
        v
    }

    /// Chapter a's mentor asks for a pause from `starts_at` (their coordinator is then
    /// notified); returns the pause id.
    pub async fn request_pause(&self, starts_at: i64) -> String {
        let a = &self.a;
        let (status, body) = self
            .post(
                &a.mentor.token,
                &format!("/api/v1/mentors/{}/pause-requests", a.mentor.id),
                serde_json::json!({"reason": "exams", "starts_at": starts_at}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn audit_count(&self, entity_id: &str) -> i64 {
        self.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = $1",
            &[entity_id],
        )
        .await
    }
}

async fn user_token(db: &Db, state: &AppState, user_id: &str) -> String {
    let mut tx = db.write().await.unwrap();
    let pair = tokens::issue_family(&mut tx, user_id, state.now(), &state.settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    pair.access_token
}

async fn fixture(db: &Db, state: &AppState) -> (Chapter, Chapter) {
    let mut tx = db.write().await.unwrap();
    let mut s = Seeder::new(T0, password_hash());
    let small = [s.small_chapter("a"), s.small_chapter("b")];
    s.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let mut chapters = Vec::new();
    for (tag, c) in ["a", "b"].into_iter().zip(small) {
        let user = async |id: &str, who: &str, role: Role| User {
            id: id.to_owned(),
            email: format!("{who}@{tag}.test"),
            role,
            token: user_token(db, state, id).await,
        };
        chapters.push(Chapter {
            id: c.id.clone(),
            admin: user(&c.admin, "admin", Role::Admin).await,
            coordinator: user(&c.coordinator, "coordinator", Role::Coordinator).await,
            other_coordinator: user(&c.other_coordinator, "coordinator2", Role::Coordinator).await,
            mentor: user(&c.mentor, "mentor", Role::Mentor).await,
            other_mentor: user(&c.other_mentor, "mentor2", Role::Mentor).await,
            mentee: user(&c.mentee, "mentee", Role::Mentee).await,
            free_mentee: user(&c.free_mentee, "mentee2", Role::Mentee).await,
            director: user(&c.director, "director", Role::Director).await,
            cohort_id: c.cohort.clone(),
        });
    }
    let b = chapters.pop().unwrap();
    let a = chapters.pop().unwrap();
    (a, b)
}

/// Asserts a response is the standard error shape with this status and code.
#[track_caller]
pub fn assert_error(resp: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(
        resp.0.as_u16(),
        status,
        "unexpected status; body: {}",
        resp.1
    );
    assert_eq!(resp.1["code"], code, "unexpected code; body: {}", resp.1);
    assert!(
        resp.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message missing: {}",
        resp.1
    );
}

/// The sync protocol version the tests speak.
pub const PROTOCOL: &str = "1";

impl TestApp {
    pub async fn pull_page(
        &self,
        token: &str,
        client: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> (StatusCode, Value) {
        self.pull_set(token, client, cursor, limit, None).await
    }

    pub async fn pull_set(
        &self,
        token: &str,
        client: &str,
        cursor: Option<&str>,
        limit: u32,
        set: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut url = format!(
            "{}?client_id={client}&limit={limit}",
            self.url("/api/v1/sync/pull")
        );
        if let Some(set) = set {
            url.push_str(&format!("&set={set}"));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("x-mentorsync-protocol", PROTOCOL)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn push(&self, token: &str, client: &str, mutations: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("/api/v1/sync/push"))
            .bearer_auth(token)
            .header("x-mentorsync-protocol", PROTOCOL)
            .json(&serde_json::json!({"client_id": client, "mutations": mutations}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A minimal reference client for the sync protocol: it stages a round's pages and
/// publishes them at the end, like client-core must.
#[derive(Debug, Default, Clone)]
pub struct MiniClient {
    pub id: String,
    pub cursor: Option<String>,
    /// (entity, id) → (version, scopes, row)
    pub rows: std::collections::BTreeMap<(String, String), (i64, Vec<String>, Value)>,
    pub scopes: std::collections::BTreeSet<String>,
    pub pages: usize,
    /// Pull one stream only (`roster`, `queue`, `rest`).
    pub set: Option<&'static str>,
}

impl MiniClient {
    pub fn new() -> Self {
        MiniClient {
            id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        }
    }

    /// Pulls one whole round and publishes it. Returns the pages' responses.
    pub async fn sync(&mut self, app: &TestApp, token: &str, limit: u32) -> Vec<Value> {
        let mut staged: Vec<Value> = Vec::new();
        let mut cursor = self.cursor.clone();
        loop {
            let (status, page) = app
                .pull_set(token, &self.id, cursor.as_deref(), limit, self.set)
                .await;
            assert_eq!(status, 200, "{page}");
            cursor = Some(page["cursor"].as_str().unwrap().to_owned());
            let more = page["has_more"].as_bool().unwrap();
            // At most one change per row per page.
            let mut seen = std::collections::HashSet::new();
            for c in page["changes"].as_array().unwrap() {
                assert!(
                    seen.insert((c["entity"].to_string(), c["id"].to_string())),
                    "row twice in a page: {c}"
                );
            }
            staged.push(page);
            self.pages += 1;
            if !more {
                break;
            }
        }
        // Publish.
        let first = &staged[0];
        if let Some(sc) = first.get("scope_change") {
            if sc["full_reset"] == true {
                self.rows.clear();
            }
            self.scopes = first["scopes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
        }
        for page in &staged {
            for c in page["changes"].as_array().unwrap() {
                let key = (
                    c["entity"].as_str().unwrap().to_owned(),
                    c["id"].as_str().unwrap().to_owned(),
                );
                if c["op"] == "remove" {
                    self.rows.remove(&key);
                } else {
                    let version = c["version"].as_i64().unwrap();
                    let scopes: Vec<String> = c["scopes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect();
                    let newer = self.rows.get(&key).is_none_or(|(v, _, _)| *v <= version);
                    if newer {
                        self.rows.insert(key, (version, scopes, c["row"].clone()));
                    }
                }
            }
        }
        let scopes = self.scopes.clone();
        self.rows
            .retain(|_, (_, row_scopes, _)| row_scopes.iter().any(|s| scopes.contains(s)));
        self.cursor = cursor;
        staged
    }

    /// (entity, id, version) of everything held.
    pub fn versions(&self) -> Vec<(String, String, i64)> {
        self.rows
            .iter()
            .map(|((e, id), (v, _, _))| (e.clone(), id.clone(), *v))
            .collect()
    }

    pub fn has(&self, entity: &str, id: &str) -> bool {
        self.rows.contains_key(&(entity.to_owned(), id.to_owned()))
    }
}

/// Signs in afresh (a new token family) and returns the access token.
pub async fn fresh_access(app: &TestApp, email: &str) -> String {
    let r: serde_json::Value = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// Opens a stream at `base` + `path` and reads its first event.
pub async fn open_stream(app: &TestApp, base: &str, path: &str, token: &str) -> reqwest::Response {
    let mut r = app
        .http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-mentorsync-protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk()).await;
    assert!(matches!(first, Ok(Ok(Some(_)))), "{path}: a first event");
    r
}

/// Whether the stream ends (the server closes it) within `within`.
pub async fn ends_within(r: &mut reqwest::Response, within: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match tokio::time::timeout(left, r.chunk()).await {
            Err(_) => return false,
            Ok(Ok(None) | Err(_)) => return true,
            Ok(Ok(Some(_))) => continue,
        }
    }
}
