//! The server under test: a child process (this binary re-run as `__serve`), so its memory
//! is its own, on a fresh SQLite file or a fresh PostgreSQL schema, seeded with the demo
//! chapter.

use anyhow::Context;
use mentorsync_server::auth::tokens;
use mentorsync_server::clock::{Clock, SystemClock};
use mentorsync_server::db::{ConnectOptions, Db, q};
use mentorsync_server::seed::{self, DemoSize};
use mentorsync_server::{AppState, Settings};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the database is.
#[derive(Debug, Clone)]
pub struct Target {
    /// `sqlite://…` or `postgres://…`.
    pub url: String,
    /// PostgreSQL: the schema of this run.
    pub pg_schema: Option<String>,
}

impl Target {
    /// Connection options for it.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            pg_schema: self.pg_schema.clone(),
            ..ConnectOptions::new(self.url.clone())
        }
    }
}

/// Runs the HTTP server in this process until killed (the `__serve` subcommand).
pub async fn serve_here(target: Target, bind: String) -> anyhow::Result<()> {
    let db = Db::connect(&target.options()).await?;
    db.migrate().await?;
    let state = AppState::new(db, std::sync::Arc::new(SystemClock), Settings::default());
    mentorsync_server::memory::spawn_return(&state);
    // As `mentorsync-server serve` does with the same variable (off by default): synced
    // dashboards follow the changes, to measure what that costs.
    let refresh_ms: u64 = std::env::var("MENTORSYNC_DASHBOARD_REFRESH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if refresh_ms > 0 {
        mentorsync_server::dashboard::fresh::spawn(
            &state,
            std::time::Duration::from_millis(refresh_ms),
        );
    }
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    mentorsync_server::serve::run(listener, state).await?;
    Ok(())
}

/// A running server process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// The port.
    pub port: u16,
}

impl Server {
    /// Starts the server on a free port and waits until it answers.
    pub async fn start(target: &Target) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("__serve")
            .arg("--database-url")
            .arg(&target.url)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"));
        if let Some(s) = &target.pg_schema {
            cmd.arg("--pg-schema").arg(s);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server")?;
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/healthz", server.url)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server did not start within 60 s")
    }

    /// The server's resident memory now (MB).
    pub fn rss_mb(&self) -> Option<f64> {
        proc_status_kb(self.child.id(), "VmRSS:").map(|kb| kb as f64 / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of `/proc/<pid>/status` in kB (Linux).
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Seeds the demo chapter (with progress) unless present.
pub async fn seed(target: &Target, size: &DemoSize) -> anyhow::Result<Db> {
    let db = Db::connect(&target.options()).await?;
    db.migrate().await?;
    let mut tx = db.write().await?;
    if !seed::demo_exists(&mut tx).await? {
        let hash = tokio::task::spawn_blocking(|| {
            mentorsync_server::auth::password::hash(seed::DEMO_PASSWORD)
        })
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        seed::demo(&mut tx, SystemClock.now_ms(), hash, size, |done, total| {
            if done % 100 == 0 || done == total {
                eprint!("\rseeding the demo chapter: {done}/{total} mentors");
            }
        })
        .await?;
        tx.commit().await?;
        eprintln!(" ({:.1?})", started.elapsed());
    } else {
        tx.rollback().await?;
    }
    Ok(db)
}

/// An access token for the user with this email, issued directly (no password hashing).
pub async fn token(db: &Db, email: &str) -> anyhow::Result<String> {
    let mut tx = db.write().await?;
    let id: String = tx
        .fetch_one(q("SELECT id FROM users WHERE email = $1").bind(email))
        .await
        .with_context(|| format!("no user {email}"))?;
    let settings = Settings {
        access_ttl_ms: 3_600_000,
        ..Settings::default()
    };
    let pair = tokens::issue_family(&mut tx, &id, SystemClock.now_ms(), &settings).await?;
    tx.commit().await?;
    Ok(pair.access_token)
}
