//! The demo seed builds a consistent chapter, and the roster, work queue and cockpit read
//! it correctly: one query per roster page, keyset paging without gaps or repeats, filters
//! that agree with the rows.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::seed::{self, DEMO_PASSWORD, DemoSize};
use serde_json::{Value, json};
use std::collections::HashSet;

both_backends!(demo_chapter);

async fn demo_chapter(app: &TestApp) {
    let size = DemoSize {
        mentors: 30,
        mentees_per_mentor: 10,
        coordinators: 3,
        cohorts: 2,
    };
    let hash = mentorsync_server::auth::password::hash(DEMO_PASSWORD).unwrap();
    let mut tx = app.db.write().await.unwrap();
    let mut seen = 0;
    seed::demo(&mut tx, T0, hash, &size, |done, total| {
        assert!(done <= total);
        seen = done;
    })
    .await
    .unwrap();
    assert!(seed::demo_exists(&mut tx).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(seen, 30, "progress reported to the end");

    // Invariants of the seeded data.
    let mentees: i64 = app.scalar("SELECT COUNT(*) FROM mentee_profiles p JOIN users u ON u.id = p.user_id WHERE u.email LIKE $1", &["%@demo.mentorsync.dev"]).await;
    assert_eq!(mentees, 300);
    let paused_without_pause: i64 = app
        .scalar("SELECT COUNT(*) FROM mentor_profiles m WHERE (m.status = 'paused') <> EXISTS (SELECT 1 FROM pauses p WHERE p.mentor_id = m.user_id AND p.status = 'active')", &[])
        .await;
    assert_eq!(
        paused_without_pause, 0,
        "paused exactly while a pause is active"
    );
    let over_capacity: i64 = app
        .scalar("SELECT COUNT(*) FROM mentor_profiles m WHERE m.capacity_weekly < (SELECT COUNT(*) FROM mentee_assignments a WHERE a.mentor_id = m.user_id AND a.status = 'active')", &[])
        .await;
    assert_eq!(over_capacity, 0);
    let unaudited: i64 = app
        .scalar("SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity_id = s.id AND l.to_status = s.status)", &[])
        .await;
    assert_eq!(unaudited, 0, "every seeded status has its audit row");

    // A coordinator signs in with the printed demo password and reads the first page.
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "coordinator01@demo.mentorsync.dev", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tok = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, page) = app.get(&tok, "/api/v1/coordinator/roster").await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        10,
        "coordinator01 looks after every third mentor"
    );
    assert!(page["next_cursor"].is_null());
    let names: Vec<&str> = items
        .iter()
        .map(|e| e["mentor"]["display_name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name");
    for e in items {
        let id = e["mentor"]["id"].as_str().unwrap();
        let count: i64 = app.scalar("SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'", &[id]).await;
        assert_eq!(e["mentee_count"].as_i64().unwrap(), count);
        assert_eq!(
            e["mentor"]["status"] == "paused",
            e["open_pause"]["status"] == "active"
        );
    }

    // Admin pages through the whole chapter 7 at a time: every mentor exactly once.
    let admin = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "admin@demo.mentorsync.dev", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/coordinator/roster?limit=7&cursor={c}"),
            None => "/api/v1/coordinator/roster?limit=7".to_owned(),
        };
        let (_, page) = app.get(&admin, &path).await;
        for e in page["items"].as_array().unwrap() {
            assert!(
                ids.insert(e["mentor"]["id"].as_str().unwrap().to_owned()),
                "repeated across pages"
            );
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!((ids.len(), pages), (30, 5));

    // Filters agree with the rows.
    let (_, paused) = app
        .get(&admin, "/api/v1/coordinator/roster?status=paused&limit=200")
        .await;
    let paused_rows: i64 = app
        .scalar("SELECT COUNT(*) FROM mentor_profiles m JOIN users u ON u.id = m.user_id WHERE m.status = 'paused' AND u.email LIKE $1", &["%@demo.mentorsync.dev"])
        .await;
    assert!(paused_rows > 0, "the demo has paused mentors");
    assert_eq!(
        paused["items"].as_array().unwrap().len() as i64,
        paused_rows
    );
    let (_, expiring) = app
        .get(
            &admin,
            "/api/v1/coordinator/roster?certification_expiring_within_days=30&limit=200",
        )
        .await;
    for e in expiring["items"].as_array().unwrap() {
        assert!(e["mentor"]["certification_expires_at"].as_i64().unwrap() < T0 + 30 * DAY);
    }
    let first = items[0]["mentor"]["display_name"].as_str().unwrap();
    let needle = &first[1..4].to_uppercase();
    let (_, found) = app
        .get(
            &admin,
            &format!("/api/v1/coordinator/roster?q={needle}&limit=200"),
        )
        .await;
    assert!(!found["items"].as_array().unwrap().is_empty());
    for e in found["items"].as_array().unwrap() {
        assert!(
            e["mentor"]["display_name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(&needle.to_lowercase())
        );
    }

    // The work queue is ordered: overdue first, then priority, then SLA.
    let (_, queue) = app.get(&admin, "/api/v1/mentor/workqueue?limit=200").await;
    let items = queue["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let rank = |p: &str| {
        ["urgent", "high", "normal", "low"]
            .iter()
            .position(|x| *x == p)
            .unwrap()
    };
    let keys: Vec<(bool, usize, i64)> = items
        .iter()
        .map(|i| {
            (
                !i["overdue"].as_bool().unwrap(),
                rank(i["priority"].as_str().unwrap()),
                i["sla_due_at"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        keys.iter().any(|k| !k.0),
        "the seed has overdue review items"
    );
}
