//! W9: the server under attack keeps serving everyone else. For five seconds a mentor
//! sends notes bombs (changes that describe 300,000 operations in ~170 bytes), 500
//! connections sit with half-sent headers, and waves of 50 wrong sign-ins arrive in
//! parallel; meanwhile `/healthz` is asked every 50 ms and an unrelated coordinator pauses
//! and resumes a mentor every 200 ms. Each must answer within 100 ms (p99).

use crate::report::{Goal, Line};
use crate::server::{Server, token};
use base64::Engine;
use mentorsync_protocol::notes::{Notes, attacks};
use mentorsync_server::db::{Db, q};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const SECONDS: u64 = 5;
const HALF_OPEN: usize = 500;
const GUESSERS: usize = 50;

fn email(name: &str) -> String {
    format!("{name}@demo.mentorsync.dev")
}

async fn first(db: &Db, sql: &'static str) -> anyhow::Result<Vec<String>> {
    let mut tx = db.read().await?;
    let row: Vec<String> = tx.fetch_all(q(sql)).await?;
    tx.rollback().await?;
    Ok(row)
}

fn p99(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * 0.99).ceil() as usize)
        .saturating_sub(1)
        .min(v.len() - 1)]
}

/// Runs W9.
pub async fn w9(server: &Server, db: &Db) -> anyhow::Result<Vec<Line>> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let base = server.url.clone();
    // The bomber: a mentor and one of their mentees' sessions (scheduled if none).
    let pair = first(
        db,
        "SELECT u.email || ' ' || ma.mentee_id FROM mentee_assignments ma JOIN users u ON u.id = ma.mentor_id \
         WHERE ma.status = 'active' ORDER BY u.email LIMIT 1",
    )
    .await?;
    let (mentor_email, mentee) = pair
        .first()
        .and_then(|p| p.split_once(' '))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| anyhow::anyhow!("no assigned mentee"))?;
    let mentor = token(db, &mentor_email).await?;
    let session: Value = http
        .post(format!("{base}/api/v1/mentor/sessions"))
        .bearer_auth(&mentor)
        .json(&json!({"mentee_id": mentee, "scheduled_at": 4_102_444_800_000_i64, "duration_minutes": 30}))
        .send()
        .await?
        .json()
        .await?;
    let session = session["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no session: {session}"))?
        .to_owned();
    let one = Notes::new().edit(&[7; 16], "x")?;
    let bomb =
        base64::engine::general_purpose::STANDARD.encode(attacks::run_length_bomb(&one, 300_000));

    // The bystander: another coordinator and one of their active mentors.
    let coordinator = token(db, &email("coordinator02")).await?;
    let mentors = first(
        db,
        "SELECT ca.mentor_id FROM coordinator_assignments ca JOIN users u ON u.id = ca.coordinator_id \
         JOIN mentor_profiles m ON m.user_id = ca.mentor_id WHERE u.email = 'coordinator02@demo.mentorsync.dev' \
         AND ca.status = 'active' AND m.status = 'active' ORDER BY ca.mentor_id LIMIT 1",
    )
    .await?;
    let bystander_mentor = mentors
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("coordinator02 has no active mentor"))?;

    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();

    // 500 half-sent requests, held open.
    let addr = base.trim_start_matches("http://").to_owned();
    let mut held = Vec::with_capacity(HALF_OPEN);
    for _ in 0..HALF_OPEN {
        let mut s = tokio::net::TcpStream::connect(&addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await?;
        held.push(s);
    }

    // Notes bombs, four at a time.
    for _ in 0..4 {
        let (http, base, mentor, session, bomb, stop, refused) = (
            http.clone(),
            base.clone(),
            mentor.clone(),
            session.clone(),
            bomb.clone(),
            stop.clone(),
            refused.clone(),
        );
        attackers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = http
                    .post(format!("{base}/api/v1/sessions/{session}/notes"))
                    .bearer_auth(&mentor)
                    .json(&json!({"changes": bomb}))
                    .send()
                    .await
                    && r.status() == 413
                {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Waves of 50 parallel wrong sign-ins.
    {
        let (http, base, stop, target) = (
            http.clone(),
            base.clone(),
            stop.clone(),
            email("coordinator03"),
        );
        attackers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let wave = (0..GUESSERS).map(|i| {
                    http.post(format!("{base}/api/v1/auth/login"))
                        .json(&json!({"email": target, "password": format!("guess {i}")}))
                        .send()
                });
                futures::future::join_all(wave).await;
            }
        }));
    }

    // Meanwhile: /healthz every 50 ms, a bystander's command every 200 ms.
    let started = Instant::now();
    let mut health = Vec::new();
    let mut commands = Vec::new();
    let mut paused = false;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(SECONDS) {
        tick.tick().await;
        let t = Instant::now();
        let ok = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        health.push(if ok {
            t.elapsed().as_secs_f64() * 1000.0
        } else {
            f64::INFINITY
        });
        n += 1;
        if n.is_multiple_of(4) {
            let (path, body) = if paused {
                ("resume", json!({}))
            } else {
                ("pause", json!({"reason": "bystander"}))
            };
            let t = Instant::now();
            let r = http
                .post(format!("{base}/api/v1/mentors/{bystander_mentor}/{path}"))
                .bearer_auth(&coordinator)
                .json(&body)
                .send()
                .await?;
            anyhow::ensure!(
                r.status() == 200,
                "the bystander's {path}: {}",
                r.text().await?
            );
            commands.push(t.elapsed().as_secs_f64() * 1000.0);
            paused = !paused;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }
    drop(held);
    let bombs = refused.load(Ordering::Relaxed);
    anyhow::ensure!(bombs > 0, "no notes bomb was answered 413");
    Ok(vec![
        Line::new(
            "W9",
            format!("p99 /healthz under attack ({} probes)", health.len()),
            p99(health),
            "ms",
            Goal::AtMost,
            100.0,
        ),
        Line::new(
            "W9",
            format!("p99 bystander command under attack ({})", commands.len()),
            p99(commands),
            "ms",
            Goal::AtMost,
            100.0,
        ),
        Line::info("W9", "notes bombs refused with 413", bombs as f64, "bombs"),
    ])
}
