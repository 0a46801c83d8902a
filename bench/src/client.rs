//! Device-side workloads through client-core: W1 initial sync (and its limit, a raw
//! rusqlite insert of the same rows), W6 a shaped poor link, W7 local queries, W8 memory.

use crate::proxy::{Proxy, Shape};
use crate::report::{Goal, Line, quantile};
use crate::server::{Server, proc_status_kb};
use mentorsync_core::{Client, RosterFilter};
use mentorsync_protocol::MentorStatus;
use mentorsync_server::seed::DEMO_PASSWORD;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin@demo.mentorsync.dev";
const COORDINATOR: &str = "coordinator01@demo.mentorsync.dev";

async fn signed_in(dir: &Path, name: &str, url: &str, email: &str) -> anyhow::Result<Client> {
    let client = Client::open(&dir.join(format!("{name}.db")), url)?;
    client.login(email, DEMO_PASSWORD).await?;
    Ok(client)
}

/// Inserts the rows a device holds into a fresh database of the same shape, one
/// transaction, with the device's pragmas: the fastest the device could store them.
fn raw_insert(device_db: &Path, scratch: &Path) -> anyhow::Result<(usize, f64)> {
    let src = rusqlite::Connection::open(device_db)?;
    let mut stmt = src.prepare("SELECT entity, id, version, scopes, data FROM server_rows")?;
    let rows: Vec<(String, String, i64, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut dst = rusqlite::Connection::open(scratch)?;
    dst.pragma_update(None, "journal_mode", "WAL")?;
    dst.pragma_update(None, "synchronous", "FULL")?;
    dst.execute_batch(
        "CREATE TABLE server_rows (entity TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, \
         scopes TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID",
    )?;
    let started = Instant::now();
    let tx = dst.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO server_rows VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for r in &rows {
            insert.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4])?;
        }
    }
    tx.commit()?;
    Ok((
        rows.len(),
        rows.len() as f64 / started.elapsed().as_secs_f64(),
    ))
}

/// W1 and W7.
pub async fn w1_w7(
    server: &Server,
    db: &mentorsync_server::db::Db,
    dir: &Path,
) -> anyhow::Result<Vec<Line>> {
    let proxy = Proxy::start(server.port, None).await?;
    let admin = signed_in(dir, "admin", &proxy.url, ADMIN).await?;
    let before = proxy.bytes_down();
    let started = Instant::now();
    let report = admin.sync(|_| {}).await?;
    let took = started.elapsed().as_secs_f64();
    let rows = report.progress.rows as f64;
    let wire = (proxy.bytes_down() - before) as f64;
    let (raw_rows, raw_rate) = raw_insert(&dir.join("admin.db"), &dir.join("raw.db"))?;
    // The server's share: the same pages pulled and decoded without storing them.
    let http = reqwest::Client::new();
    let token = crate::server::token(db, ADMIN).await?;
    let mut raw = crate::wire::Puller::new(&http, &proxy.url, &token);
    let started_raw = Instant::now();
    let mut pulled = 0;
    for set in ["roster", "queue", "rest"] {
        pulled += raw.pull_all(set).await?;
    }
    let pull_rate = pulled as f64 / started_raw.elapsed().as_secs_f64();
    let rate = rows / took;
    let mut lines = vec![
        Line::info(
            "W1",
            format!(
                "whole chapter: {rows:.0} rows, {} pages",
                report.progress.pages
            ),
            took,
            "s",
        ),
        Line::new(
            "W1",
            "  rows per second into client-core",
            rate,
            "rows/s",
            Goal::AtLeast,
            50_000.0,
        ),
        Line::new(
            "W1",
            "  vs raw rusqlite insert of the same rows (limit)",
            rate / raw_rate,
            "x",
            Goal::AtLeast,
            0.3,
        )
        .ratio(rate / raw_rate),
        Line::info(
            "W1",
            format!("  limit: raw insert of {raw_rows} rows, one tx"),
            raw_rate,
            "rows/s",
        ),
        Line::info(
            "W1",
            "  server only: same pages pulled, not stored",
            pull_rate,
            "rows/s",
        ),
        Line::new(
            "W1",
            "  bytes per row on the wire (compressed)",
            wire / rows,
            "B/row",
            Goal::AtMost,
            80.0,
        ),
        Line::info(
            "W1",
            "  bytes per row decompressed",
            report.progress.bytes as f64 / rows,
            "B/row",
        ),
    ];

    let coordinator = signed_in(dir, "coordinator", &proxy.url, COORDINATOR).await?;
    let started = Instant::now();
    let report = coordinator.sync(|_| {}).await?;
    lines.push(Line::new(
        "W1",
        format!("one coordinator's scope ({} rows)", report.progress.rows),
        started.elapsed().as_secs_f64(),
        "s",
        Goal::AtMost,
        0.5,
    ));

    // W7: the app's queries on the whole chapter, from the admin's device.
    let filter = RosterFilter {
        status: Some(MentorStatus::Active),
        name: Some("a".into()),
        limit: 50,
        ..Default::default()
    };
    let mentor = admin.roster(&filter)?.first().map(|r| r.mentor.id.clone());
    // Warm the page cache the sync left cold; then measure.
    for _ in 0..20 {
        std::hint::black_box(admin.roster(&filter)?);
        std::hint::black_box(admin.work_queue(mentor.as_deref(), 50)?);
    }
    let mut roster = Vec::new();
    let mut queue = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        std::hint::black_box(admin.roster(&filter)?);
        roster.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(admin.work_queue(mentor.as_deref(), 50)?);
        queue.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lines.push(Line::new(
        "W7",
        "roster page with filter, p99",
        quantile(&mut roster, 0.99),
        "ms",
        Goal::AtMost,
        2.0,
    ));
    lines.push(Line::new(
        "W7",
        "work queue of a mentor, p99",
        quantile(&mut queue, 0.99),
        "ms",
        Goal::AtMost,
        2.0,
    ));
    Ok(lines)
}

/// W6: the coordinator on a 1.6 Mbit/s link with a 300 ms round trip.
pub async fn w6(server: &Server, dir: &Path) -> anyhow::Result<Vec<Line>> {
    let shape = Shape {
        bytes_per_sec: 1_600_000.0 / 8.0,
        one_way: Duration::from_millis(150),
    };
    let proxy = Arc::new(Proxy::start(server.port, Some(shape)).await?);
    let device = signed_in(dir, "slow", &proxy.url, COORDINATOR).await?;
    let first_page: Arc<Mutex<Option<Duration>>> = Arc::default();
    let clean_from = proxy.bytes_down();
    let started = Instant::now();
    let seen = first_page.clone();
    let report = device
        .sync(move |p| {
            if p.pages >= 1 {
                seen.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(started.elapsed());
            }
        })
        .await?;
    let whole = started.elapsed().as_secs_f64();
    let first = first_page
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .map_or(f64::NAN, |d| d.as_secs_f64());
    let pages = report.progress.pages;
    let clean = (proxy.bytes_down() - clean_from).max(1);

    // Cut at half, resume.
    let cut_device = signed_in(dir, "cut", &proxy.url, COORDINATOR).await?;
    let cut_from = proxy.bytes_down();
    let got: Arc<Mutex<(u64, u64)>> = Arc::default();
    let (g, p) = (got.clone(), proxy.clone());
    let half = pages / 2;
    let cut = cut_device
        .sync(move |progress| {
            *g.lock().unwrap_or_else(|e| e.into_inner()) = (progress.pages, progress.rows);
            if progress.pages >= half {
                p.take_down();
            }
        })
        .await;
    let (before_cut, rows_before_cut) = *got.lock().unwrap_or_else(|e| e.into_inner());
    proxy.bring_up();
    let resumed = cut_device.sync(|_| {}).await?;
    // Bytes, as the proxy forwarded them: what the cut sync and its resumption downloaded
    // beyond one clean sync, including a page cut in flight (the next page is requested
    // while one is stored).
    let again_bytes = (proxy.bytes_down() - cut_from).saturating_sub(clean);
    let again = again_bytes as f64 / (clean as f64 / pages.max(1) as f64);
    let again_rows = (rows_before_cut + resumed.progress.rows).saturating_sub(report.progress.rows);
    Ok(vec![
        Line::new(
            "W6",
            "first roster page on a 1.6 Mbit/s, 300 ms link",
            first,
            "s",
            Goal::AtMost,
            1.5,
        ),
        Line::new(
            "W6",
            format!("  whole coordinator scope ({pages} pages)"),
            whole,
            "s",
            Goal::AtMost,
            6.0,
        ),
        Line::info(
            "W6",
            format!(
                "  cut after {before_cut} pages ({})",
                if cut.is_err() {
                    "sync failed as expected"
                } else {
                    "sync finished before the cut"
                }
            ),
            before_cut as f64,
            "pages",
        ),
        Line::new(
            "W6",
            "  data downloaded again after resuming (in pages)",
            again,
            "pages",
            Goal::AtMost,
            1.0,
        ),
        Line::info("W6", "  bytes downloaded again", again_bytes as f64, "B"),
        Line::info("W6", "  rows stored again", again_rows as f64, "rows"),
    ])
}

/// W8: a separate process syncs the whole chapter; its peak RSS.
pub async fn w8(server: &Server, dir: &Path) -> anyhow::Result<Vec<Line>> {
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .arg("__client-sync")
        .arg("--server")
        .arg(&server.url)
        .arg("--db")
        .arg(dir.join("w8.db"))
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "client process failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(vec![Line::new(
        "W8",
        format!("client peak RSS, whole-chapter sync ({} rows)", v["rows"]),
        v["peak_rss_kb"].as_f64().unwrap_or(f64::NAN) / 1024.0,
        "MB",
        Goal::AtMost,
        64.0,
    )])
}

/// The `__client-sync` child: sync as the admin, print rows and peak RSS as JSON.
pub async fn client_sync_here(server: String, db: std::path::PathBuf) -> anyhow::Result<()> {
    let client = Client::open(&db, &server)?;
    client.login(ADMIN, DEMO_PASSWORD).await?;
    let report = client.sync(|_| {}).await?;
    let peak = proc_status_kb(std::process::id(), "VmHWM:").unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({"rows": report.progress.rows, "peak_rss_kb": peak})
    );
    Ok(())
}
