//! Dashboards on both backends, checked against figures worked out by hand on a small
//! fixture; the director cache and its refresh; who may see which dashboard; dashboards
//! syncing to phones by scope; the mentor's live stream.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use futures::StreamExt;
use mentorsync_server::api::dashboards::REFRESH_FLOOR_MS;
use mentorsync_server::jobs::{Job, scheduler};
use serde_json::{Value, json};

both_backends!(
    figures_match_the_hand_computed_fixture,
    director_figures_come_from_the_cache,
    dashboards_answer_only_those_entitled,
    dashboards_sync_by_scope,
    mentor_stream_sends_changes,
    mentor_stream_counts_toward_the_stream_limit,
    a_fresh_refresh_runs_once_across_instances,
);

/// Every instance hears every commit; a refresh up to a change-log position is claimed by
/// one of them, and the chapter keeps one claim row.
async fn a_fresh_refresh_runs_once_across_instances(app: &TestApp) {
    use mentorsync_server::dashboard::fresh;
    use mentorsync_server::dashboard::store::Subjects;
    let chapter = app.a.id.as_str();
    let people = Subjects::People;
    assert!(
        fresh::refresh(&app.db, "one", chapter, people, 7, NOW)
            .await
            .unwrap()
    );
    assert!(
        !fresh::refresh(&app.db, "two", chapter, people, 7, NOW)
            .await
            .unwrap()
    );
    let rows: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM dashboards WHERE chapter_id = $1",
            &[chapter],
        )
        .await;
    assert!(
        rows > 0,
        "the refresh stored the chapter's people dashboards"
    );
    assert!(
        fresh::refresh(&app.db, "two", chapter, people, 9, NOW)
            .await
            .unwrap()
    );
    let claims: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM job_runs WHERE job LIKE 'fresh_%'",
            &[],
        )
        .await;
    assert_eq!(claims, 1, "older claims of the chapter are gone");
}

const HOUR: i64 = 3_600_000;
/// The fixture is looked at on its first day at 10:00 UTC.
const NOW: i64 = T0 + 10 * HOUR;

/// Chapter a, on top of the common fixture (mentor: capacity 3, holds `mentee`;
/// `free_mentee` unassigned; both enrolled in the cohort of 10 seats):
///
/// sessions of mentor/mentee: completed at -2 d, no-show at -1 d, cancelled at -3 d,
///   scheduled at +1 h (today, already past at 10:00), +14 h (today), +2 d.
/// submissions: approved (submitted -5 d), changes requested (-4 d), both reviewed one
///   day after submission, items done; submitted at -3 d (item open, SLA -1 d: overdue);
///   submitted at -28 h (item in progress, SLA +20 h: due today).
/// flags on mentee: high open, low acknowledged, medium resolved.
async fn fixture(app: &TestApp) {
    let a = &app.a;
    let (c, m, e) = (a.id.clone(), a.mentor.id.clone(), a.mentee.id.clone());
    app.seed(|s| {
        s.session(&c, &m, &e, "completed", T0 - 2 * DAY);
        s.session(&c, &m, &e, "no_show", T0 - DAY);
        s.session(&c, &m, &e, "cancelled", T0 - 3 * DAY);
        s.session(&c, &m, &e, "scheduled", T0 + HOUR);
        s.session(&c, &m, &e, "scheduled", T0 + 14 * HOUR);
        s.session(&c, &m, &e, "scheduled", T0 + 2 * DAY);
        s.submission(&c, &m, &e, "approved", T0 - 5 * DAY, "done");
        s.submission(&c, &m, &e, "changes_requested", T0 - 4 * DAY, "done");
        s.submission(&c, &m, &e, "submitted", T0 - 3 * DAY, "open");
        s.submission(&c, &m, &e, "submitted", T0 - 28 * HOUR, "in_progress");
        s.flag(&c, &e, &m, "high", "open");
        s.flag(&c, &e, &m, "low", "acknowledged");
        s.flag(&c, &e, &m, "medium", "resolved");
    })
    .await;
    app.clock.set(NOW);
}

fn rate(n: i64, d: i64) -> Value {
    json!({"numerator": n, "denominator": d, "rate": n as f64 / d as f64})
}

async fn figures_match_the_hand_computed_fixture(app: &TestApp) {
    let a = &app.a;
    fixture(app).await;

    let (status, d) = app.get(&a.mentor.token, "/api/v1/mentor/dashboard").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d["queue"],
        json!({"open": 1, "in_progress": 1, "overdue": 1, "due_today": 1})
    );
    let times: Vec<i64> = d["today_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduled_at"].as_i64().unwrap())
        .collect();
    assert_eq!(times, [T0 + HOUR, T0 + 14 * HOUR]);
    assert_eq!(
        d["at_risk"],
        json!([{"mentee_id": a.mentee.id, "display_name": "Tom Mentee", "open_flags": 2, "highest_severity": "high"}])
    );
    assert_eq!(
        d["capacity"],
        json!({"used": 1, "weekly": 3, "label": "1/3 weekly slots"})
    );
    assert_eq!(
        (d["day_start"].as_i64(), d["computed_at"].as_i64()),
        (Some(T0), Some(NOW))
    );
    // At UTC-11 it is 23:00 the day before.
    let (_, west) = app
        .get(
            &a.mentor.token,
            "/api/v1/mentor/dashboard?utc_offset_minutes=-660",
        )
        .await;
    assert_eq!(west["day_start"], T0 - DAY + 11 * HOUR);
    assert_eq!(west["queue"]["due_today"], 0, "SLA +20 h is tomorrow there");
    // The coordinator looks at the same mentor's dashboard.
    let (status, via) = app
        .get(
            &a.coordinator.token,
            &format!("/api/v1/mentor/dashboard?mentor_id={}", a.mentor.id),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(via["queue"], d["queue"]);

    let (_, c) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(
        c["figures"],
        json!({"mentors": 1, "active": 1, "paused": 0, "inactive": 0, "over_capacity": 0, "open_flags": 2,
               "overdue_items": 1, "undeliverable_notifications": 0, "open_discrepancies": 0, "computed_at": NOW})
    );
    assert_eq!(c["roster"]["items"].as_array().unwrap().len(), 1);
    let (_, admin) = app
        .get(&a.admin.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(admin["figures"]["mentors"], 2);
    assert_eq!(admin["figures"]["active"], 2);
    assert_eq!(admin["figures"]["open_flags"], 2);

    let (status, cohort) = app
        .get(
            &a.director.token,
            &format!("/api/v1/director/dashboard/cohorts/{}", a.cohort_id),
        )
        .await;
    assert_eq!(status, 200, "{cohort}");
    assert_eq!(cohort["seats_used"], rate(2, 10));
    assert_eq!(cohort["mentor_coverage"], rate(1, 2));
    // Past and not cancelled: completed, no-show, and the 01:00 session not completed.
    assert_eq!(cohort["session_completion"], rate(1, 3));
    assert_eq!(cohort["overdue_rate"], rate(1, 2));
    assert_eq!(
        cohort["open_flags"],
        json!({"low": 1, "medium": 0, "high": 1, "critical": 0})
    );
    assert_eq!(
        cohort["funnel"],
        json!({"submitted": 2, "approved": 1, "changes_requested": 1})
    );
    assert_eq!(cohort["median_review_ms"], DAY);
    assert_eq!(cohort["reviewed"], 2);
    assert_eq!(cohort["computed_at"], NOW);

    let (_, summary) = app
        .get(&a.director.token, "/api/v1/director/dashboard/summary")
        .await;
    assert_eq!(summary["cohorts"], 1);
    assert_eq!(summary["session_completion"], rate(1, 3));
    assert_eq!(summary["computed_at"], NOW);
    let (_, page) = app
        .get(&a.director.token, "/api/v1/director/dashboard/cohorts")
        .await;
    assert_eq!(page["cohorts"][0]["cohort_id"], a.cohort_id.as_str());
    assert_eq!(page["next_cursor"], Value::Null);
}

async fn director_figures_come_from_the_cache(app: &TestApp) {
    let a = &app.a;
    fixture(app).await;
    scheduler::run(&app.db, Job::Dashboards, NOW).await.unwrap();
    let (_, before) = app
        .get(&a.director.token, "/api/v1/director/dashboard/summary")
        .await;
    assert_eq!(before["open_flags"]["critical"], 0);
    assert_eq!(before["computed_at"], NOW);

    app.clock.set(NOW + HOUR);
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "critical", "reason": "silent"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    // Still the cached figures, with their age.
    let (_, cached) = app
        .get(&a.director.token, "/api/v1/director/dashboard/summary")
        .await;
    assert_eq!(cached, before);

    let (status, fresh) = app
        .post(
            &a.director.token,
            "/api/v1/director/dashboard/refresh",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["open_flags"]["critical"], 1);
    assert_eq!(fresh["computed_at"], NOW + HOUR);

    // Pressed again and again within the floor, it computes nothing more.
    const NEWEST: &str = "SELECT CAST(MAX(computed_at) AS BIGINT) FROM dashboards \
                          WHERE kind = 'cohort' AND chapter_id = $1";
    app.clock.set(NOW + HOUR + 10_000);
    for _ in 0..20 {
        let (status, again) = app
            .post(
                &a.director.token,
                "/api/v1/director/dashboard/refresh",
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            again["computed_at"],
            NOW + HOUR,
            "served from the fresh figures"
        );
    }
    assert_eq!(
        app.scalar::<i64>(NEWEST, &[a.id.as_str()]).await,
        NOW + HOUR
    );
    app.clock.set(NOW + HOUR + REFRESH_FLOOR_MS + 1);
    let (_, later) = app
        .post(
            &a.director.token,
            "/api/v1/director/dashboard/refresh",
            json!({}),
        )
        .await;
    assert_eq!(later["computed_at"], NOW + HOUR + REFRESH_FLOOR_MS + 1);

    // The scheduled refresh does the same for everyone.
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "critical", "reason": "still silent"}),
        )
        .await;
    assert!(r.0.is_success());
    scheduler::run(&app.db, Job::Dashboards, NOW + 2 * HOUR)
        .await
        .unwrap();
    let (_, later) = app
        .get(&a.director.token, "/api/v1/director/dashboard/summary")
        .await;
    assert_eq!(later["open_flags"]["critical"], 2);
    assert_eq!(later["computed_at"], NOW + 2 * HOUR);
}

async fn dashboards_answer_only_those_entitled(app: &TestApp) {
    let (a, b) = (&app.a, &app.b);
    let cohort = format!("/api/v1/director/dashboard/cohorts/{}", a.cohort_id);
    for who in [&a.mentor, &a.coordinator, &a.mentee] {
        let r = app
            .get(&who.token, "/api/v1/director/dashboard/summary")
            .await;
        assert_error(&r, 403, "forbidden");
        assert_error(&app.get(&who.token, &cohort).await, 403, "forbidden");
    }
    // Another chapter's director (and admin) cannot see this cohort at all.
    assert_error(&app.get(&b.director.token, &cohort).await, 404, "not_found");
    assert_error(&app.get(&b.admin.token, &cohort).await, 404, "not_found");
    assert_eq!(app.get(&a.admin.token, &cohort).await.0, 200);
    assert_error(
        &app.get(
            &a.director.token,
            "/api/v1/director/dashboard/cohorts/not-a-uuid",
        )
        .await,
        400,
        "bad_request",
    );
    assert_error(
        &app.get(
            &a.director.token,
            "/api/v1/director/dashboard/cohorts?cursor=garbage",
        )
        .await,
        400,
        "bad_request",
    );
    // Mentor dashboards: one's own, or a coordinated mentor's.
    let other = format!("/api/v1/mentor/dashboard?mentor_id={}", a.other_mentor.id);
    assert_error(&app.get(&a.mentor.token, &other).await, 403, "forbidden");
    assert_error(
        &app.get(&a.coordinator.token, &other).await,
        403,
        "forbidden",
    );
    assert_eq!(app.get(&a.other_coordinator.token, &other).await.0, 200);
    let foreign = format!("/api/v1/mentor/dashboard?mentor_id={}", b.mentor.id);
    assert_error(&app.get(&a.admin.token, &foreign).await, 404, "not_found");
    assert_error(
        &app.get(&a.director.token, "/api/v1/mentor/dashboard").await,
        403,
        "forbidden",
    );
    assert_error(
        &app.get(
            &a.mentor.token,
            "/api/v1/mentor/dashboard?utc_offset_minutes=9999",
        )
        .await,
        400,
        "bad_request",
    );
    // Coordinator dashboards: coordinators and admins.
    for who in [&a.mentor, &a.director, &a.mentee] {
        let r = app.get(&who.token, "/api/v1/coordinator/dashboard").await;
        assert_error(&r, 403, "forbidden");
    }
    assert_error(
        &app.get(&a.coordinator.token, "/api/v1/mentor/dashboard/stream")
            .await,
        403,
        "forbidden",
    );
}

async fn dashboards_sync_by_scope(app: &TestApp) {
    let a = &app.a;
    fixture(app).await;
    scheduler::run(&app.db, Job::Dashboards, NOW).await.unwrap();
    let ids = |c: &MiniClient| -> Vec<String> {
        let mut v: Vec<String> = c
            .rows
            .keys()
            .filter(|(e, _)| e == "dashboard")
            .map(|(_, id)| id.clone())
            .collect();
        v.sort();
        v
    };
    let mut director = MiniClient::new();
    director.sync(app, &a.director.token, 100).await;
    assert_eq!(ids(&director), [format!("cohort:{}", a.cohort_id)]);
    let row = &director.rows[&("dashboard".to_owned(), format!("cohort:{}", a.cohort_id))].2;
    assert_eq!(row["figures"]["session_completion"], rate(1, 3));
    assert_eq!(row["computed_at"], NOW);
    // Directors get their cohorts' dashboards and the cohorts themselves, nothing else.
    assert!(
        director
            .rows
            .contains_key(&("cohort".to_owned(), a.cohort_id.clone()))
    );
    assert!(
        director
            .rows
            .keys()
            .all(|(e, _)| e == "dashboard" || e == "cohort")
    );

    let mut mentor = MiniClient::new();
    mentor.sync(app, &a.mentor.token, 100).await;
    assert_eq!(ids(&mentor), [format!("mentor:{}", a.mentor.id)]);

    let mut coordinator = MiniClient::new();
    coordinator.sync(app, &a.coordinator.token, 100).await;
    let mut expected = vec![
        format!("coordinator:{}", a.coordinator.id),
        format!("mentor:{}", a.mentor.id),
    ];
    expected.sort();
    assert_eq!(ids(&coordinator), expected);

    let mut other = MiniClient::new();
    other.sync(app, &app.b.director.token, 100).await;
    assert_eq!(ids(&other), [format!("cohort:{}", app.b.cohort_id)]);

    // A refresh that finds nothing new sends nothing; a change arrives as a new version.
    scheduler::run(&app.db, Job::Dashboards, NOW + 60_000)
        .await
        .unwrap();
    let pages = director.sync(app, &a.director.token, 100).await;
    assert!(
        pages
            .iter()
            .all(|p| p["changes"].as_array().unwrap().is_empty()),
        "{pages:?}"
    );
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "critical", "reason": "silent"}),
        )
        .await;
    assert!(r.0.is_success());
    scheduler::run(&app.db, Job::Dashboards, NOW + 120_000)
        .await
        .unwrap();
    director.sync(app, &a.director.token, 100).await;
    let (version, _, row) =
        &director.rows[&("dashboard".to_owned(), format!("cohort:{}", a.cohort_id))];
    assert_eq!(*version, 2);
    assert_eq!(row["figures"]["open_flags"]["critical"], 1);
}

async fn next_dashboard(
    events: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> Value {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.contains("event: dashboard") {
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                return serde_json::from_str(&data).unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("no dashboard event within 10 s")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn mentor_stream_sends_changes(app: &TestApp) {
    let a = &app.a;
    let response = app
        .http
        .get(app.url("/api/v1/mentor/dashboard/stream"))
        .bearer_auth(&a.mentor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut events = response.bytes_stream();
    let mut buf = String::new();
    let first = next_dashboard(&mut events, &mut buf).await;
    assert_eq!(first["at_risk"], json!([]));

    // A coordinator raises a flag on the mentor's mentee: the stream shows it.
    let r = app
        .post(
            &a.coordinator.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "medium", "reason": "missed two sessions"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let next = next_dashboard(&mut events, &mut buf).await;
    assert_eq!(next["at_risk"][0]["mentee_id"], a.mentee.id.as_str());
    assert_eq!(next["at_risk"][0]["highest_severity"], "medium");
}

async fn mentor_stream_counts_toward_the_stream_limit(app: &TestApp) {
    let a = &app.a;
    let mut open = Vec::new();
    for _ in 0..app.state.settings.event_streams_per_user {
        let r = app
            .http
            .get(app.url("/api/v1/sync/events"))
            .bearer_auth(&a.mentor.token)
            .header("x-mentorsync-protocol", PROTOCOL)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let r = app
        .get(&a.mentor.token, "/api/v1/mentor/dashboard/stream")
        .await;
    assert_error(&r, 429, "too_many_requests");
    open.pop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = app
        .http
        .get(app.url("/api/v1/mentor/dashboard/stream"))
        .bearer_auth(&a.mentor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a freed slot is usable");
}
