//! Server-side workloads over raw HTTP: W2 delta, W3 push throughput, W4 concurrent pulls
//! under writes, W5 many event streams.

use crate::report::{Goal, Line, quantile};
use crate::server::{Server, token};
use crate::wire::{self, Puller};
use mentorsync_server::db::{Backend, Db, q};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const DEMO: &str = "demo.mentorsync.dev";

fn email(who: &str) -> String {
    format!("{who}@{DEMO}")
}

async fn strings(db: &Db, sql: &'static str, arg: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut tx = db.read().await?;
    let mut query = q(sql);
    if let Some(a) = arg {
        query = query.bind(a);
    }
    let v = tx.fetch_all(query).await?;
    tx.rollback().await?;
    Ok(v)
}

/// W2: one coordinator device is up to date; 100 changes land in its scope; one pull
/// brings exactly them.
pub async fn w2(server: &Server, db: &Db, http: &reqwest::Client) -> anyhow::Result<Vec<Line>> {
    let coordinator = token(db, &email("coordinator01")).await?;
    let admin = token(db, &email("admin")).await?;
    let mentees = strings(
        db,
        "SELECT ma.mentee_id FROM mentee_assignments ma JOIN coordinator_assignments ca ON ca.mentor_id = ma.mentor_id \
         JOIN users u ON u.id = ca.coordinator_id WHERE u.email = $1 AND ca.status = 'active' \
         AND ma.status = 'active' ORDER BY ma.mentee_id LIMIT 100",
        Some(&email("coordinator01")),
    )
    .await?;
    anyhow::ensure!(mentees.len() == 100, "coordinator01 needs 100 mentees");
    let mut device = Puller::new(http, &server.url, &coordinator);
    device.pull_all("roster").await?;
    let commands: Vec<Value> = mentees
        .iter()
        .enumerate()
        .map(|(i, m)| wire::flag(m, i))
        .collect();
    let refused = wire::push(
        http,
        &server.url,
        &admin,
        &uuid::Uuid::new_v4().to_string(),
        1,
        &commands,
    )
    .await?;
    anyhow::ensure!(refused == 0, "{refused} setup commands refused");
    let page = device.pull("roster", 200).await?;
    Ok(vec![
        Line::new(
            "W2",
            "delta after 100 changes: one pull (ms)",
            page.took.as_secs_f64() * 1e3,
            "ms",
            Goal::AtMost,
            10.0,
        ),
        Line::new(
            "W2",
            "  rows in that pull other than the 100",
            (page.changes as f64 - 100.0).abs(),
            "rows",
            Goal::AtMost,
            0.0,
        ),
        Line::new(
            "W2",
            "  further pages needed",
            f64::from(u8::from(page.has_more)),
            "pages",
            Goal::AtMost,
            0.0,
        ),
    ])
}

/// W3: 2,000 commands pushed in batches of 100, against a raw SQL transaction doing the
/// same writes.
pub async fn w3(server: &Server, db: &Db, http: &reqwest::Client) -> anyhow::Result<Vec<Line>> {
    const BATCHES: usize = 20;
    let admin = token(db, &email("admin")).await?;
    let mentees = strings(
        db,
        "SELECT user_id FROM mentee_profiles ORDER BY user_id LIMIT 2000",
        None,
    )
    .await?;
    let device = uuid::Uuid::new_v4().to_string();
    let mut per_batch = Vec::new();
    let started = Instant::now();
    for b in 0..BATCHES {
        let commands: Vec<Value> = (0..100)
            .map(|i| wire::flag(&mentees[(b * 100 + i) % mentees.len()], b * 100 + i))
            .collect();
        let t = Instant::now();
        let refused = wire::push(
            http,
            &server.url,
            &admin,
            &device,
            (b * 100 + 1) as i64,
            &commands,
        )
        .await?;
        per_batch.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(refused == 0, "{refused} commands refused");
    }
    let rate = (BATCHES * 100) as f64 / started.elapsed().as_secs_f64();
    let limit = raw_writes(db, &mentees, BATCHES).await?;
    // The target is set for SQLite with synchronous=FULL; on PostgreSQL the figure and
    // its ratio to the same writes in raw SQL are reported.
    let push = match db.backend() {
        Backend::Sqlite => Line::new(
            "W3",
            "push, batches of 100 (commands/s)",
            rate,
            "cmd/s",
            Goal::AtLeast,
            2_000.0,
        ),
        Backend::Postgres => Line::info("W3", "push, batches of 100 (commands/s)", rate, "cmd/s"),
    };
    Ok(vec![
        push.ratio(rate / limit),
        Line::info(
            "W3",
            "  p99 per batch",
            quantile(&mut per_batch, 0.99),
            "ms",
        ),
        Line::info(
            "W3",
            "  limit: raw SQL, same rows per batch, one tx",
            limit,
            "cmd/s",
        ),
    ])
}

/// The same rows a `raise_flag` writes (flag, audit row, change-log row, notification,
/// verdict), inserted directly, 100 per transaction.
async fn raw_writes(db: &Db, mentees: &[String], batches: usize) -> anyhow::Result<f64> {
    let chapter: String = {
        let mut tx = db.read().await?;
        let c = tx.fetch_one(q("SELECT id FROM chapters LIMIT 1")).await?;
        tx.rollback().await?;
        c
    };
    let admin: String = strings(
        db,
        "SELECT id FROM users WHERE role = 'admin' LIMIT 1",
        None,
    )
    .await?
    .remove(0);
    let client = uuid::Uuid::new_v4().to_string();
    {
        let mut tx = db.write().await?;
        tx.execute(
            q("INSERT INTO sync_clients (client_id, user_id, created_at, last_seen_at) VALUES ($1, $2, 0, 0)")
                .bind(client.as_str())
                .bind(admin.as_str()),
        )
        .await?;
        tx.commit().await?;
    }
    let started = Instant::now();
    for b in 0..batches {
        let mut tx = db.write().await?;
        for i in 0..100 {
            let n = (b * 100 + i) as i64;
            let id = uuid::Uuid::now_v7().to_string();
            let mentee = mentees[(b * 100 + i) % mentees.len()].as_str();
            tx.execute(
                q("INSERT INTO flags (id, chapter_id, mentee_id, raised_by, severity, status, reason, created_at, version, updated_at) \
                   VALUES ($1, $2, $3, $4, 'low', 'open', 'raw', 0, 1, 0)")
                .bind(id.as_str()).bind(chapter.as_str()).bind(mentee).bind(admin.as_str()),
            )
            .await?;
            tx.execute(
                q("INSERT INTO audit_log (chapter_id, entity, entity_id, action, to_status, actor_id, actor_role, at) \
                   VALUES ($1, 'flag', $2, 'create', 'open', $3, 'admin', 0)")
                .bind(chapter.as_str()).bind(id.as_str()).bind(admin.as_str()),
            )
            .await?;
            tx.execute(
                q("INSERT INTO change_log (chapter_id, entity, entity_id, op, version, mentee_id, at) \
                   VALUES ($1, 'flag', $2, 'upsert', 1, $3, 0)")
                .bind(chapter.as_str()).bind(id.as_str()).bind(mentee),
            )
            .await?;
            tx.execute(
                q("INSERT INTO notifications (id, chapter_id, kind, audience, mentee_id, entity, entity_id, message, created_at, next_attempt_at, status) \
                   VALUES ($1, $2, 'bench', 'coordinator', $3, 'flag', $1, 'raw', 0, 0, 'delivered')")
                .bind(uuid::Uuid::now_v7().to_string()).bind(chapter.as_str()).bind(mentee),
            )
            .await?;
            tx.execute(
                q("INSERT INTO sync_mutations (client_id, mutation_id, name, verdict, at) VALUES ($1, $2, 'raise_flag', '{}', 0)")
                    .bind(client.as_str()).bind(n + 1),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok((batches * 100) as f64 / started.elapsed().as_secs_f64())
}

/// W4: 32 devices pull while 50 commands/s are written; freshness through the event
/// stream, from sending a command to its poke.
pub async fn w4(server: &Server, db: &Db, http: &reqwest::Client) -> anyhow::Result<Vec<Line>> {
    const DEVICES: usize = 32;
    const SECONDS: u64 = 5;
    let admin = token(db, &email("admin")).await?;
    let coordinators = strings(
        db,
        "SELECT email FROM users WHERE role = 'coordinator' ORDER BY email",
        None,
    )
    .await?;
    let mentees = strings(db, "SELECT mentee_id FROM mentee_assignments WHERE status = 'active' ORDER BY mentee_id LIMIT 1000", None).await?;
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        let t = token(db, &coordinators[i % coordinators.len()]).await?;
        let mut d = Puller::new(http, &server.url, &t);
        d.pull_all("roster").await?;
        devices.push(d);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut pullers = Vec::new();
    for (i, mut d) in devices.into_iter().enumerate() {
        let stop = stop.clone();
        pullers.push(tokio::spawn(async move {
            // Phones are not in step: each starts at its own point of the 100 ms interval.
            tokio::time::sleep(Duration::from_millis(100) * i as u32 / DEVICES as u32).await;
            let mut took = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(p) = d.pull("roster", 200).await {
                    took.push(p.took.as_secs_f64() * 1e3);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            took
        }));
    }
    let mut pokes = wire::pokes(http, &server.url, &admin).await?;
    // The stream's first poke says where it starts.
    let mut last = tokio::time::timeout(Duration::from_secs(5), pokes.recv())
        .await?
        .map_or(0, |p| p.1);
    let device = uuid::Uuid::new_v4().to_string();
    let mut fresh = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut n = 0usize;
    while Instant::now() < deadline {
        let slot = Instant::now();
        let sent = Instant::now();
        wire::push(
            http,
            &server.url,
            &admin,
            &device,
            n as i64 + 1,
            &[wire::flag(&mentees[n % mentees.len()], n)],
        )
        .await?;
        n += 1;
        while let Ok(Some((at, position))) =
            tokio::time::timeout(Duration::from_secs(1), pokes.recv()).await
        {
            if position > last {
                last = position;
                fresh.push((at - sent).as_secs_f64() * 1e3);
                break;
            }
        }
        tokio::time::sleep_until((slot + Duration::from_millis(20)).into()).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut took = Vec::new();
    for p in pullers {
        took.extend(p.await?);
    }
    let rate = n as f64 / SECONDS as f64;
    Ok(vec![
        Line::new(
            "W4",
            format!("p99 pull, {DEVICES} devices, {rate:.0} writes/s"),
            quantile(&mut took, 0.99),
            "ms",
            Goal::AtMost,
            20.0,
        ),
        Line::info(
            "W4",
            format!("  pulls measured ({} writes)", n),
            took.len() as f64,
            "pulls",
        ),
        Line::new(
            "W4",
            "freshness: command sent → poke received, p99",
            quantile(&mut fresh, 0.99),
            "ms",
            Goal::AtMost,
            100.0,
        ),
    ])
}

/// W5: 5,000 open event streams (1,000 mentors × 5); server memory; a change for every
/// mentor pushed in 10 batches of 100, and for each stream the time from sending the batch
/// that holds its mentor's change to its poke (the slowest is the figure: a poke has
/// reached all its streams within it). The whole run, which is mostly writing, is shown too.
pub async fn w5(server: &Server, db: &Db) -> anyhow::Result<Vec<Line>> {
    use futures::StreamExt;
    const PER_USER: usize = 5;
    const BATCH: usize = 100;
    let pairs: Vec<(String, String)> = {
        let mut tx = db.read().await?;
        let v = tx
            .fetch_all(q(
                "SELECT u.email, MIN(a.mentee_id) FROM users u JOIN mentee_assignments a ON a.mentor_id = u.id \
                 AND a.status = 'active' WHERE u.role = 'mentor' GROUP BY u.email ORDER BY u.email LIMIT 1000",
            ))
            .await?;
        tx.rollback().await?;
        v
    };
    let rss_before = server.rss_mb().unwrap_or(f64::NAN);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let armed = Arc::new(AtomicBool::new(false));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let (open_tx, mut open_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    for (i, (mentor, _)) in pairs.iter().enumerate() {
        let t = token(db, mentor).await?;
        for _ in 0..PER_USER {
            let (http, url, t, armed, done, open) = (
                http.clone(),
                server.url.clone(),
                t.clone(),
                armed.clone(),
                done_tx.clone(),
                open_tx.clone(),
            );
            tokio::spawn(async move {
                let r = http
                    .get(format!("{url}/api/v1/sync/events"))
                    .bearer_auth(&t)
                    .header(wire::PROTOCOL.0, wire::PROTOCOL.1)
                    .send()
                    .await;
                let Ok(r) = r.map_err(|_| ()).and_then(|r| {
                    if r.status().is_success() {
                        Ok(r)
                    } else {
                        Err(())
                    }
                }) else {
                    let _ = open.send(false);
                    return;
                };
                let _ = open.send(true);
                let mut s = r.bytes_stream();
                while let Some(Ok(chunk)) = s.next().await {
                    if armed.load(Ordering::SeqCst)
                        && String::from_utf8_lossy(&chunk).contains("event: poke")
                    {
                        let _ = done.send((i, Instant::now()));
                        // Keep the stream open until the run ends.
                        while s.next().await.is_some() {}
                        return;
                    }
                }
            });
        }
        if i % 100 == 99 {
            eprint!(
                "\rW5: opening streams {}/{}",
                (i + 1) * PER_USER,
                pairs.len() * PER_USER
            );
        }
    }
    let total = pairs.len() * PER_USER;
    let mut open = 0;
    for _ in 0..total {
        if let Ok(Some(true)) = tokio::time::timeout(Duration::from_secs(30), open_rx.recv()).await
        {
            open += 1;
        }
    }
    eprintln!();
    // Let the first pokes (each stream's starting position) pass.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_opening = server.rss_mb().unwrap_or(f64::NAN);
    // What the streams hold once the server has given back what opening them all at once
    // needed (it does so every `RETURN_INTERVAL`): the memory the operator has to provide.
    tokio::time::sleep(mentorsync_server::memory::RETURN_INTERVAL + Duration::from_secs(1)).await;
    let rss = server.rss_mb().unwrap_or(f64::NAN);
    let admin = token(db, &email("admin")).await?;
    let device = uuid::Uuid::new_v4().to_string();
    let commands: Vec<Value> = pairs
        .iter()
        .enumerate()
        .map(|(i, (_, mentee))| wire::flag(mentee, i))
        .collect();
    armed.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let mut sent = Vec::new();
    for (b, chunk) in commands.chunks(BATCH).enumerate() {
        sent.push(Instant::now());
        wire::push(
            &http,
            &server.url,
            &admin,
            &device,
            (b * BATCH + 1) as i64,
            chunk,
        )
        .await?;
    }
    let written = started.elapsed();
    let mut reached = 0;
    let mut last = started;
    let mut latency = Vec::new();
    while reached < open {
        match tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await {
            Ok(Some((i, at))) => {
                reached += 1;
                last = last.max(at);
                latency.push(at.saturating_duration_since(sent[i / BATCH]).as_secs_f64() * 1e3);
            }
            _ => break,
        }
    }
    let slowest = latency.iter().copied().fold(f64::NAN, f64::max);
    Ok(vec![
        Line::info("W5", "event streams open", open as f64, "streams"),
        Line::new(
            "W5",
            "server RSS with the streams open, settled",
            rss,
            "MB",
            Goal::AtMost,
            150.0,
        ),
        Line::info("W5", "  2 s after 5,000 opened at once", rss_opening, "MB"),
        Line::info("W5", "  server RSS before", rss_before, "MB"),
        Line::new(
            "W5",
            "streams poked after a change for every mentor",
            reached as f64,
            "streams",
            Goal::AtLeast,
            open as f64,
        ),
        Line::new(
            "W5",
            "  batch sent → every stream of its mentors poked",
            slowest,
            "ms",
            Goal::AtMost,
            1_000.0,
        ),
        Line::info(
            "W5",
            "  p50 batch sent → stream poked",
            quantile(&mut latency, 0.5),
            "ms",
        ),
        Line::info(
            "W5",
            "  first write → last stream poked",
            (last - started).as_secs_f64() * 1e3,
            "ms",
        ),
        Line::info(
            "W5",
            "  of which writing the 1,000 commands",
            written.as_secs_f64() * 1e3,
            "ms",
        ),
    ])
}
