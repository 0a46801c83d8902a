//! The scheduled jobs with a clock the test moves, on both backends: every change goes
//! through the domain commands as `system` (audit row, change log, notification), nothing
//! is done twice, and a slot runs on exactly one of several instances.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::jobs::{Job, Scheduler, TickReport};
use mentorsync_server::notify::{Dispatcher, RecordingChannel};
use serde_json::{Value, json};
use std::sync::Arc;

both_backends!(
    pauses_start_and_end_on_time,
    expired_certification_pauses_the_mentor,
    overdue_items_are_marked_once,
    matching_respects_specialties_status_and_capacity,
    capacity_check_records_and_resolves,
    reconciliation_records_and_never_fixes,
    each_slot_runs_once_across_instances,
);

const MIN: i64 = 60_000;

fn recording(app: &TestApp) -> (Scheduler, RecordingChannel) {
    let rec = RecordingChannel::default();
    (app.scheduler(vec![Arc::new(rec.clone())]), rec)
}

async fn tick_at(app: &TestApp, s: &Scheduler, t: i64) -> TickReport {
    app.clock.set(t);
    s.tick().await
}

async fn status(app: &TestApp, table: &'static str, id: &str) -> String {
    let sql = match table {
        "mentor" => "SELECT status FROM mentor_profiles WHERE user_id = $1",
        "pause" => "SELECT status FROM pauses WHERE id = $1",
        _ => unreachable!(),
    };
    app.scalar(sql, &[id]).await
}

/// The last audit row of a row: (action, actor_role).
async fn last_audit(app: &TestApp, id: &str) -> (String, String) {
    let action: String = app
        .scalar(
            "SELECT action FROM audit_log WHERE entity_id = $1 ORDER BY id DESC LIMIT 1",
            &[id],
        )
        .await;
    let role: String = app
        .scalar(
            "SELECT actor_role FROM audit_log WHERE entity_id = $1 ORDER BY id DESC LIMIT 1",
            &[id],
        )
        .await;
    (action, role)
}

fn created(applied: &Value, entity: &str) -> String {
    applied["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entity"] == entity)
        .unwrap_or_else(|| panic!("no {entity} in {applied}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn kinds_to(rec: &RecordingChannel, recipient: &str) -> Vec<String> {
    rec.delivered()
        .into_iter()
        .filter(|m| m.recipient_id == recipient)
        .map(|m| m.kind)
        .collect()
}

async fn pauses_start_and_end_on_time(app: &TestApp) {
    let a = &app.a;
    let (sched, rec) = recording(app);
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{}/pause", a.mentor.id),
            json!({"reason": "exams", "starts_at": T0 + DAY, "ends_at": T0 + 3 * DAY}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let pause = created(&r.1, "pause");
    assert_eq!(status(app, "pause", &pause).await, "scheduled");

    tick_at(app, &sched, T0 + 60 * MIN).await;
    assert_eq!(status(app, "pause", &pause).await, "scheduled");
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "active");

    let report = tick_at(app, &sched, T0 + DAY + MIN).await;
    assert_eq!(report.of(Job::Pauses).unwrap()["changed"], 1, "{report:?}");
    assert_eq!(status(app, "pause", &pause).await, "active");
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "paused");
    assert_eq!(
        last_audit(app, &pause).await,
        ("start".into(), "system".into())
    );
    assert_eq!(
        last_audit(app, &a.mentor.id).await,
        ("pause".into(), "system".into())
    );
    assert_eq!(kinds_to(&rec, &a.coordinator.id), ["pause_started"]);

    let report = tick_at(app, &sched, T0 + 3 * DAY + MIN).await;
    assert_eq!(report.of(Job::Pauses).unwrap()["changed"], 1);
    assert_eq!(status(app, "pause", &pause).await, "ended");
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "active");
    assert_eq!(
        last_audit(app, &a.mentor.id).await,
        ("resume".into(), "system".into())
    );
    assert_eq!(
        kinds_to(&rec, &a.coordinator.id),
        ["pause_started", "pause_ended"]
    );
    // The pause kept its planned end; the change log carries every step to phones.
    let ends: i64 = app
        .scalar("SELECT ends_at FROM pauses WHERE id = $1", &[&pause])
        .await;
    assert_eq!(ends, T0 + 3 * DAY);
    let logged: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM change_log WHERE entity_id = $1",
            &[&pause],
        )
        .await;
    assert_eq!(logged, 3);
}

async fn expired_certification_pauses_the_mentor(app: &TestApp) {
    let a = &app.a;
    let (sched, rec) = recording(app);
    app.exec(
        mentorsync_server::db::q(
            "UPDATE mentor_profiles SET certification_expires_at = $1 WHERE user_id = $2",
        )
        .bind(T0 + DAY)
        .bind(a.mentor.id.as_str()),
    )
    .await;
    // The mentor's own request for later is overtaken by the expiry.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{}/pause-requests", a.mentor.id),
            json!({"reason": "holiday", "starts_at": T0 + 5 * DAY}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let requested = created(&r.1, "pause");

    tick_at(app, &sched, T0 + 60 * MIN).await;
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "active");

    let report = tick_at(app, &sched, T0 + DAY + MIN).await;
    assert_eq!(report.of(Job::Certifications).unwrap()["changed"], 1);
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "paused");
    assert_eq!(status(app, "pause", &requested).await, "cancelled");
    let reason: String = app
        .scalar(
            "SELECT reason FROM pauses WHERE mentor_id = $1 AND status = 'active'",
            &[&a.mentor.id],
        )
        .await;
    assert_eq!(reason, "certification expired");
    assert_eq!(
        last_audit(app, &a.mentor.id).await,
        ("pause".into(), "system".into())
    );
    assert_eq!(
        kinds_to(&rec, &a.coordinator.id),
        ["pause_requested", "certification_expired"]
    );

    // Already paused: later runs leave it alone.
    let report = tick_at(app, &sched, T0 + 2 * DAY).await;
    assert_eq!(report.of(Job::Certifications).unwrap()["changed"], 0);
    let pauses: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM pauses WHERE mentor_id = $1",
            &[&a.mentor.id],
        )
        .await;
    assert_eq!(pauses, 2);

    // A coordinator who acted on the version before the job is told the job changed it.
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{}/resume", a.mentor.id),
            json!({"expected_version": 1}),
        )
        .await;
    assert_error(&r, 409, "version_conflict");
    assert_eq!(r.1["details"]["changed_by"]["kind"], "scheduler", "{}", r.1);
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains("by a scheduled job"),
        "{}",
        r.1
    );

    // Resuming before the certification is renewed would only be undone by the next run:
    // it is refused with the rule's own code, over REST and over push, and changes nothing.
    let m = &a.mentor.id;
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/resume"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "certification_invalid");
    let active: String = app
        .scalar(
            "SELECT id FROM pauses WHERE mentor_id = $1 AND status = 'active'",
            &[m],
        )
        .await;
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{active}/cancel"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "certification_invalid");
    let (_, pushed) = app
        .push(
            &a.coordinator.token,
            &uuid::Uuid::new_v4().to_string(),
            json!([{"mutation_id": 1, "name": "resume_mentor", "args": {"mentor_id": m}}]),
        )
        .await;
    assert_eq!(pushed["verdicts"][0]["status"], "rejected", "{pushed}");
    assert_eq!(
        pushed["verdicts"][0]["code"], "certification_invalid",
        "{pushed}"
    );
    assert_eq!(status(app, "mentor", m).await, "paused");
    assert_eq!(status(app, "pause", &active).await, "active");

    // Renewed, the same resume applies.
    app.exec(
        mentorsync_server::db::q(
            "UPDATE mentor_profiles SET certification_expires_at = $1 WHERE user_id = $2",
        )
        .bind(T0 + 400 * DAY)
        .bind(m.as_str()),
    )
    .await;
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/resume"),
            json!({}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(status(app, "mentor", m).await, "active");
}

async fn overdue_items_are_marked_once(app: &TestApp) {
    let a = &app.a;
    let (sched, rec) = recording(app);
    let r = app
        .post(
            &a.mentee.token,
            "/api/v1/missions",
            json!({"mission_ref": "M-1", "title": "CV", "content": "https://x.test/cv"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let item = created(&r.1, "work_item");

    let report = tick_at(app, &sched, T0 + 47 * 60 * MIN).await;
    assert_eq!(report.of(Job::Overdue).unwrap()["changed"], 0);

    let report = tick_at(app, &sched, T0 + 49 * 60 * MIN).await;
    assert_eq!(report.of(Job::Overdue).unwrap()["changed"], 1);
    let marked: Option<i64> = app
        .scalar("SELECT overdue_at FROM work_items WHERE id = $1", &[&item])
        .await;
    assert_eq!(marked, Some(T0 + 49 * 60 * MIN));
    assert_eq!(
        last_audit(app, &item).await,
        ("overdue".into(), "system".into())
    );
    assert_eq!(kinds_to(&rec, &a.coordinator.id), ["work_item_overdue"]);
    let (_, queue) = app.get(&a.mentor.token, "/api/v1/mentor/workqueue").await;
    assert_eq!(queue["items"][0]["id"], item.as_str(), "{queue}");
    assert_eq!(queue["items"][0]["overdue"], true);

    let audits = app.audit_count(&item).await;
    let report = tick_at(app, &sched, T0 + 50 * 60 * MIN).await;
    assert_eq!(report.of(Job::Overdue).unwrap()["changed"], 0);
    assert_eq!(app.audit_count(&item).await, audits);
    assert_eq!(rec.delivered().len(), 1);
}

async fn held(app: &TestApp, mentor: &str) -> i64 {
    app.scalar(
        "SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'",
        &[mentor],
    )
    .await
}

async fn mentor_of(app: &TestApp, mentee: &str) -> Option<String> {
    app.scalar(
        "SELECT MAX(mentor_id) FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'",
        &[mentee],
    )
    .await
}

async fn matching_respects_specialties_status_and_capacity(app: &TestApp) {
    let a = &app.a;
    let (sched, _) = recording(app);
    let cohort = a.cohort_id.clone();
    let chapter = a.id.clone();
    let mut web = String::new();
    app.seed(|s| {
        web = s.mentee(&chapter, "web@a.test", "Wendy Web", Some(&cohort), &["web"]);
    })
    .await;
    // mentor: web, 1 of 3 held. other_mentor: data, 0 of 3. Interests decide first.
    tick_at(app, &sched, T0).await;
    assert_eq!(
        mentor_of(app, &web).await.as_deref(),
        Some(a.mentor.id.as_str())
    );
    assert_eq!(
        mentor_of(app, &a.free_mentee.id).await.as_deref(),
        Some(a.other_mentor.id.as_str())
    );
    let id: String = app
        .scalar(
            "SELECT id FROM mentee_assignments WHERE mentee_id = $1",
            &[&web],
        )
        .await;
    assert_eq!(
        last_audit(app, &id).await,
        ("create".into(), "system".into())
    );

    // A paused mentor gets nobody, whatever the interests; a full one neither.
    let r = app
        .post(
            &a.admin.token,
            &format!("/api/v1/mentors/{}/pause", a.other_mentor.id),
            json!({"reason": "leave"}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let mut data = Vec::new();
    app.seed(|s| {
        for i in 0..4 {
            data.push(s.mentee(
                &chapter,
                &format!("data{i}@a.test"),
                &format!("Dan Data {i}"),
                Some(&cohort),
                &["data"],
            ));
        }
    })
    .await;
    tick_at(app, &sched, T0 + 15 * MIN).await;
    assert_eq!(held(app, &a.mentor.id).await, 3);
    assert_eq!(held(app, &a.other_mentor.id).await, 1);
    let mut unassigned = 0;
    for m in &data {
        if mentor_of(app, m).await.is_none() {
            unassigned += 1;
        }
    }
    assert_eq!(unassigned, 3);

    let report = tick_at(app, &sched, T0 + 30 * MIN).await;
    assert_eq!(report.of(Job::Matching).unwrap()["changed"], 0);
    assert_eq!(held(app, &a.mentor.id).await, 3);
}

async fn capacity_check_records_and_resolves(app: &TestApp) {
    let a = &app.a;
    let (sched, _) = recording(app);
    let chapter = a.id.clone();
    let mentor = a.mentor.id.clone();
    let mut extra = Vec::new();
    app.seed(|s| {
        for i in 0..2 {
            let m = s.mentee(&chapter, &format!("x{i}@a.test"), "Extra", None, &[]);
            extra.push(s.assign(&chapter, &mentor, &m));
        }
    })
    .await;
    app.exec(
        mentorsync_server::db::q(
            "UPDATE mentor_profiles SET capacity_weekly = 2 WHERE user_id = $1",
        )
        .bind(mentor.as_str()),
    )
    .await;
    let report = tick_at(app, &sched, T0).await;
    assert_eq!(report.of(Job::Capacity).unwrap()["changed"], 1);
    let (_, dash) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["over_capacity"], 1, "{dash}");
    let finding = &dash["findings"][0];
    assert_eq!(finding["kind"], "over_capacity");
    assert_eq!(finding["entity_id"], mentor.as_str());
    assert_eq!(
        finding["details"],
        json!({"capacity_weekly": 2, "active_mentees": 3})
    );
    // The other coordinator's mentors are fine.
    let (_, other) = app
        .get(&a.other_coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(other["figures"]["over_capacity"], 0);

    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/assignments/{}/end", extra[0]),
            json!({}),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    let report = tick_at(app, &sched, T0 + 15 * MIN).await;
    assert_eq!(
        report.of(Job::Capacity).unwrap()["resolved"],
        1,
        "{report:?}"
    );
    let (_, dash) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["over_capacity"], 0);
    assert_eq!(dash["findings"], json!([]));
}

async fn reconciliation_records_and_never_fixes(app: &TestApp) {
    let a = &app.a;
    let (sched, _) = recording(app);
    // The seeded chapter is consistent: the first night finds nothing.
    let report = tick_at(app, &sched, T0).await;
    assert_eq!(
        report.of(Job::Reconciliation).unwrap()["changed"],
        0,
        "{report:?}"
    );

    // Something bypasses the commands.
    app.exec(
        mentorsync_server::db::q("UPDATE mentor_profiles SET status = 'paused' WHERE user_id = $1")
            .bind(a.mentor.id.as_str()),
    )
    .await;
    // Not before the next night.
    let report = tick_at(app, &sched, T0 + 60 * MIN).await;
    assert!(report.of(Job::Reconciliation).is_none());
    let report = tick_at(app, &sched, T0 + 2 * 60 * MIN).await;
    assert_eq!(report.of(Job::Reconciliation).unwrap()["changed"], 2);
    assert_eq!(status(app, "mentor", &a.mentor.id).await, "paused");
    let outcome: String = app
        .scalar(
            "SELECT outcome FROM job_runs WHERE job = 'reconciliation' ORDER BY slot DESC LIMIT 1",
            &[],
        )
        .await;
    assert_eq!(outcome, "ok");

    let (_, dash) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["open_discrepancies"], 2, "{dash}");
    let mut kinds: Vec<String> = dash["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["paused_without_active_pause", "status_differs_from_audit"]
    );
    let (_, admin) = app
        .get(&a.admin.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(admin["figures"]["open_discrepancies"], 2);
    let (_, other) = app
        .get(&app.b.admin.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(other["figures"]["open_discrepancies"], 0);

    // Someone puts it right; the next night closes the findings.
    app.exec(
        mentorsync_server::db::q("UPDATE mentor_profiles SET status = 'active' WHERE user_id = $1")
            .bind(a.mentor.id.as_str()),
    )
    .await;
    let report = tick_at(app, &sched, T0 + 26 * 60 * MIN).await;
    assert_eq!(report.of(Job::Reconciliation).unwrap()["resolved"], 2);
    let (_, dash) = app
        .get(&a.coordinator.token, "/api/v1/coordinator/dashboard")
        .await;
    assert_eq!(dash["figures"]["open_discrepancies"], 0);
}

async fn each_slot_runs_once_across_instances(app: &TestApp) {
    let a = &app.a;
    let second = app.second_state().await;
    let (one, rec_one) = recording(app);
    let rec_two = RecordingChannel::default();
    let two = Scheduler::new(&second, Dispatcher::new(vec![Arc::new(rec_two.clone())]));
    assert_ne!(one.instance(), two.instance());
    for round in 0..3 {
        let r = app
            .post(
                &a.mentor.token,
                "/api/v1/mentor/flags",
                json!({"mentee_id": a.mentee.id, "severity": "low", "reason": format!("round {round}")}),
            )
            .await;
        assert!(r.0.is_success(), "{}", r.1);
        app.clock.set(T0 + round * DAY + 3 * 60 * MIN);
        let (r1, r2) = tokio::join!(one.tick(), two.tick());
        for job in Job::ALL {
            let ran = usize::from(r1.of(job).is_some()) + usize::from(r2.of(job).is_some());
            assert_eq!(ran, 1, "{job:?} ran {ran} times in round {round}");
        }
        let delivered = rec_one.delivered().len() + rec_two.delivered().len();
        assert_eq!(
            delivered as i64,
            round + 1,
            "each notification exactly once"
        );
    }
    let runs: i64 = app.scalar("SELECT COUNT(*) FROM job_runs", &[]).await;
    assert_eq!(runs, 3 * Job::ALL.len() as i64);
    let unfinished: i64 = app
        .scalar("SELECT COUNT(*) FROM job_runs WHERE outcome IS NULL", &[])
        .await;
    assert_eq!(unfinished, 0);
}
