//! The status machines of DOMAIN.md through the HTTP API, on both backends: every allowed
//! transition applies (with an audit row and a version bump), every refused one answers
//! 422 naming the current status, a stale version answers 409 with the current row.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use serde_json::{Value, json};

both_backends!(
    mentor_lifecycle,
    pause_requests,
    assignments,
    sessions,
    missions_and_work_queue,
    flags,
    stale_version,
    conflicts_say_who_changed_the_row
);

async fn mentor_lifecycle(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    let coord = &a.coordinator.token;

    let r = app
        .post(
            coord,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "Parental leave", "expected_version": 1}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["row"]["status"], "paused");
    assert_eq!(r.1["version"], 2);
    let changes: Vec<&str> = r.1["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entity"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["pause", "mentor"]);

    // Paused → pause again is refused with the current status in the reason.
    let r = app
        .post(
            coord,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "again"}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    assert!(
        r.1["message"].as_str().unwrap().contains("that is paused"),
        "{}",
        r.1
    );

    let r = app
        .post(coord, &format!("/api/v1/mentors/{m}/resume"), json!({}))
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["row"]["status"], "active");
    let ended: String = app
        .scalar("SELECT status FROM pauses WHERE mentor_id = $1", &[m])
        .await;
    assert_eq!(ended, "ended");

    let r = app
        .post(coord, &format!("/api/v1/mentors/{m}/resume"), json!({}))
        .await;
    assert_error(&r, 422, "invalid_transition");

    let r = app
        .post(coord, &format!("/api/v1/mentors/{m}/deactivate"), json!({}))
        .await;
    assert_eq!(r.1["row"]["status"], "inactive", "{}", r.1);

    // Only admins reactivate.
    let r = app
        .post(coord, &format!("/api/v1/mentors/{m}/reactivate"), json!({}))
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.admin.token,
            &format!("/api/v1/mentors/{m}/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "active", "{}", r.1);

    // With an expired certification, reactivation is refused.
    app.post(coord, &format!("/api/v1/mentors/{m}/deactivate"), json!({}))
        .await;
    app.clock.advance(400 * DAY);
    let r = app
        .post(
            &a.admin.token,
            &format!("/api/v1/mentors/{m}/reactivate"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "certification_invalid");

    // A future pause is scheduled: the mentor stays active until it starts.
    let om = &a.other_mentor.id;
    let start = app.clock_now() + 2 * DAY;
    let r = app
        .post(
            &a.other_coordinator.token,
            &format!("/api/v1/mentors/{om}/pause"),
            json!({"reason": "Trip", "starts_at": start, "ends_at": start + DAY}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "active", "{}", r.1);
    let status: String = app
        .scalar("SELECT status FROM pauses WHERE mentor_id = $1", &[om])
        .await;
    assert_eq!(status, "scheduled");

    // pause, resume, deactivate, reactivate, deactivate = 5 mentor transitions + the seed row.
    assert_eq!(
        app.scalar::<i64>(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'mentor' AND entity_id = $1",
            &[m]
        )
        .await,
        6
    );
}

async fn pause_requests(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    // A mentor asks for themselves only.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{}/pause-requests", a.other_mentor.id),
            json!({"reason": "x"}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "Exams"}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    assert_eq!(r.1["row"]["status"], "requested");
    let pause = r.1["id"].as_str().unwrap().to_owned();

    // One open pause per mentor.
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "x"}),
        )
        .await;
    assert_error(&r, 422, "open_pause_exists");

    // Another coordinator may not decide it.
    let r = app
        .post(
            &a.other_coordinator.token,
            &format!("/api/v1/pauses/{pause}/approve"),
            json!({}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{pause}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "active", "{}", r.1);
    assert_eq!(r.1["row"]["decided_by"], a.coordinator.id.as_str());
    let (_, mentor) = app
        .get(&a.coordinator.token, &format!("/api/v1/mentors/{m}"))
        .await;
    assert_eq!(mentor["status"], "paused");

    // The mentor may not cancel an active pause; the coordinator may, and that resumes them.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/pauses/{pause}/cancel"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{pause}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "cancelled", "{}", r.1);
    let (_, mentor) = app
        .get(&a.mentor.token, &format!("/api/v1/mentors/{m}"))
        .await;
    assert_eq!(mentor["status"], "active");

    // Requested → declined; declined → approve is refused.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "Again"}),
        )
        .await;
    let p2 = r.1["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{p2}/decline"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "declined", "{}", r.1);
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{p2}/approve"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains("that is declined")
    );

    // A future request approved becomes scheduled; the mentor may withdraw it.
    let start = app.clock_now() + 3 * DAY;
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "Later", "starts_at": start}),
        )
        .await;
    let p3 = r.1["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/pauses/{p3}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "scheduled", "{}", r.1);
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/pauses/{p3}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "cancelled", "{}", r.1);

    // Bad windows are 400.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "x", "ends_at": 5}),
        )
        .await;
    assert_error(&r, 400, "validation_failed");
}

async fn assignments(app: &TestApp) {
    let a = &app.a;
    let coord = &a.coordinator.token;
    let body = |mentee: &str| json!({"mentor_id": a.mentor.id, "mentee_id": mentee});
    // Already assigned.
    let r = app
        .post(coord, "/api/v1/assignments", body(&a.mentee.id))
        .await;
    assert_error(&r, 422, "mentee_already_assigned");
    let r = app
        .post(coord, "/api/v1/assignments", body(&a.free_mentee.id))
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let assignment = r.1["id"].as_str().unwrap().to_owned();

    // Capacity 3: fill it with other chapter-a mentees created on the fly, then refuse.
    let extra = extra_mentees(app, 2).await;
    for e in &extra[..1] {
        let r = app.post(coord, "/api/v1/assignments", body(e)).await;
        assert_eq!(r.0, 201, "{}", r.1);
    }
    let r = app
        .post(coord, "/api/v1/assignments", body(&extra[1]))
        .await;
    assert_error(&r, 422, "capacity_exceeded");

    // End one, then a paused mentor gets no new mentee.
    let r = app
        .post(
            coord,
            &format!("/api/v1/assignments/{assignment}/end"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "ended", "{}", r.1);
    let r = app
        .post(
            coord,
            &format!("/api/v1/assignments/{assignment}/end"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    app.post(
        coord,
        &format!("/api/v1/mentors/{}/pause", a.mentor.id),
        json!({"reason": "x"}),
    )
    .await;
    let r = app
        .post(coord, "/api/v1/assignments", body(&extra[1]))
        .await;
    assert_error(&r, 422, "mentor_not_active");

    // Another coordinator's mentor is not yours to assign to.
    let r = app
        .post(
            coord,
            "/api/v1/assignments",
            json!({"mentor_id": a.other_mentor.id, "mentee_id": extra[1]}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
}

/// Creates unassigned mentees in chapter a.
async fn extra_mentees(app: &TestApp, n: usize) -> Vec<String> {
    let mut tx = app.db.write().await.unwrap();
    let mut s = mentorsync_server::seed::Seeder::new(T0, password_hash());
    let ids: Vec<String> = (0..n)
        .map(|i| {
            s.mentee(
                &app.a.id,
                &format!("extra{i}-{}@a.test", uuid::Uuid::new_v4()),
                "Extra",
                None,
                &[],
            )
        })
        .collect();
    s.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    ids
}

async fn sessions(app: &TestApp) {
    let a = &app.a;
    let at = app.clock_now() + DAY;
    let body = json!({"mentee_id": a.mentee.id, "scheduled_at": at, "duration_minutes": 45, "meeting_link": "https://meet.example.org/x"});
    let r = app
        .post(&a.mentor.token, "/api/v1/mentor/sessions", body.clone())
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    assert_eq!(r.1["row"]["status"], "scheduled");
    let s1 = r.1["id"].as_str().unwrap().to_owned();
    // Another mentor's mentee.
    let r = app
        .post(
            &a.other_mentor.token,
            "/api/v1/mentor/sessions",
            body.clone(),
        )
        .await;
    assert_error(&r, 422, "not_assigned");
    // Not in the past (a few minutes' grace for the time it takes to send).
    let mut past = body.clone();
    past["scheduled_at"] = json!(app.clock_now() - 10 * 60_000);
    let r = app
        .post(&a.mentor.token, "/api/v1/mentor/sessions", past)
        .await;
    assert_error(&r, 400, "validation_failed");
    assert!(
        r.1["message"].as_str().unwrap().contains("in the past"),
        "{}",
        r.1
    );
    let mut just_now = body.clone();
    just_now["scheduled_at"] = json!(app.clock_now() - 60_000);
    assert_eq!(
        app.post(&a.mentor.token, "/api/v1/mentor/sessions", just_now)
            .await
            .0,
        201
    );
    // Bad duration and link.
    let mut bad = body.clone();
    bad["duration_minutes"] = json!(1);
    assert_error(
        &app.post(&a.mentor.token, "/api/v1/mentor/sessions", bad)
            .await,
        400,
        "validation_failed",
    );
    let mut bad = body.clone();
    bad["meeting_link"] = json!("javascript:alert(1)");
    assert_error(
        &app.post(&a.mentor.token, "/api/v1/mentor/sessions", bad)
            .await,
        400,
        "validation_failed",
    );

    for (action, status) in [
        ("complete", "completed"),
        ("cancel", "cancelled"),
        ("no-show", "no_show"),
    ] {
        let id = if action == "complete" {
            s1.clone()
        } else {
            app.post(&a.mentor.token, "/api/v1/mentor/sessions", body.clone())
                .await
                .1["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let r = app
            .post(
                &a.mentor.token,
                &format!("/api/v1/sessions/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(r.1["row"]["status"], status, "{}", r.1);
        let r = app
            .post(
                &a.coordinator.token,
                &format!("/api/v1/sessions/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_error(&r, 422, "invalid_transition");
        assert!(
            r.1["message"]
                .as_str()
                .unwrap()
                .contains(&format!("that is {status}"))
        );
    }
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/sessions/{s1}/reschedule"),
            json!({}),
        )
        .await;
    assert_error(&r, 400, "bad_request");
}

async fn missions_and_work_queue(app: &TestApp) {
    let a = &app.a;
    let r = app
        .post(
            &a.mentee.token,
            "/api/v1/missions",
            json!({"mission_ref": "M-1", "title": "Portfolio", "content": "https://x.example/p"}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let sub = r.1["id"].as_str().unwrap().to_owned();

    // The review item is in the mentor's queue: high priority, due in 48 h.
    let (_, q) = app.get(&a.mentor.token, "/api/v1/mentor/workqueue").await;
    let item = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference_id"] == sub.as_str())
        .cloned()
        .expect("review item");
    assert_eq!(item["kind"], "mission_review");
    assert_eq!(item["priority"], "high");
    assert_eq!(item["status"], "open");
    assert_eq!(
        item["sla_due_at"].as_i64().unwrap(),
        app.clock_now() + 48 * 3600 * 1000
    );
    assert_eq!(item["overdue"], false);

    // Past its SLA it is overdue and comes first.
    app.clock.advance(49 * 3600 * 1000);
    let (_, q) = app
        .get(
            &a.coordinator.token,
            &format!("/api/v1/mentor/workqueue?mentor_id={}", a.mentor.id),
        )
        .await;
    assert_eq!(q["items"][0]["reference_id"], sub.as_str());
    assert_eq!(q["items"][0]["overdue"], true);

    // Changes requested completes the item in the same transaction.
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentor/missions/{sub}/review"),
            json!({"decision": "changes_requested", "feedback": "Add tests"}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "changes_requested", "{}", r.1);
    let item_status: String = app
        .scalar(
            "SELECT status FROM work_items WHERE reference_id = $1",
            &[&sub],
        )
        .await;
    assert_eq!(item_status, "done");
    let kinds: Vec<&str> = r.1["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entity"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["submission", "work_item", "work_item"],
        "claimed then completed"
    );

    // Resubmission creates a fresh item; approving completes it.
    let r = app
        .post(
            &a.mentee.token,
            &format!("/api/v1/missions/{sub}/resubmit"),
            json!({"content": "v2"}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "submitted", "{}", r.1);
    let open: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM work_items WHERE reference_id = $1 AND status = 'open'",
            &[&sub],
        )
        .await;
    assert_eq!(open, 1);
    // Another mentee cannot resubmit it; another mentor cannot review it.
    let r = app
        .post(
            &a.free_mentee.token,
            &format!("/api/v1/missions/{sub}/resubmit"),
            json!({"content": "v3"}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.other_mentor.token,
            &format!("/api/v1/mentor/missions/{sub}/review"),
            json!({"decision": "approved"}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentor/missions/{sub}/review"),
            json!({"decision": "approved"}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "approved", "{}", r.1);
    let open: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM work_items WHERE reference_id = $1 AND status <> 'done'",
            &[&sub],
        )
        .await;
    assert_eq!(open, 0);
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentor/missions/{sub}/review"),
            json!({"decision": "approved"}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");

    // Claim → complete; cancel from open; complete from open refused.
    let r = app
        .post(
            &a.mentee.token,
            "/api/v1/missions",
            json!({"mission_ref": "M-2", "title": "t", "content": "c"}),
        )
        .await;
    let sub2 = r.1["id"].as_str().unwrap().to_owned();
    let item: String = app
        .scalar(
            "SELECT id FROM work_items WHERE reference_id = $1",
            &[&sub2],
        )
        .await;
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/workqueue/{item}/complete"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    let r = app
        .post(
            &a.other_mentor.token,
            &format!("/api/v1/workqueue/{item}/claim"),
            json!({}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/workqueue/{item}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "in_progress", "{}", r.1);
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/workqueue/{item}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "cancelled", "{}", r.1);
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/workqueue/{item}/claim"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");

    // The cockpit shows the mentee's submissions.
    let (status, cockpit) = app
        .get(
            &a.mentor.token,
            &format!("/api/v1/mentor/mentees/{}/cockpit", a.mentee.id),
        )
        .await;
    assert_eq!(status, 200, "{cockpit}");
    assert_eq!(cockpit["submissions"].as_array().unwrap().len(), 2);
    assert_eq!(cockpit["assignment"]["mentor_id"], a.mentor.id.as_str());
}

async fn flags(app: &TestApp) {
    let a = &app.a;
    let r = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "high", "reason": "Quiet for 3 weeks"}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let flag = r.1["id"].as_str().unwrap().to_owned();
    // Not this mentor's mentee.
    let r = app
        .post(
            &a.other_mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "x"}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    // Resolve before acknowledging is refused.
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/flags/{flag}/resolve"),
            json!({}),
        )
        .await;
    assert_error(&r, 422, "invalid_transition");
    let r = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/flags/{flag}/acknowledge"),
            json!({}),
        )
        .await;
    assert_error(&r, 403, "forbidden");
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/flags/{flag}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "acknowledged", "{}", r.1);
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/flags/{flag}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(r.1["row"]["status"], "resolved", "{}", r.1);
    assert_eq!(app.audit_count(&flag).await, 3);
}

async fn stale_version(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "x", "expected_version": 7}),
        )
        .await;
    assert_error(&r, 409, "version_conflict");
    assert_eq!(r.1["details"]["current_version"], 1);
    assert_eq!(r.1["details"]["current"]["status"], "active");
    assert_eq!(r.1["details"]["current"]["id"], m.as_str());
    // Nothing happened.
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM pauses WHERE mentor_id = $1", &[m])
            .await,
        0
    );
    let v: Value = app
        .get(&a.coordinator.token, &format!("/api/v1/mentors/{m}"))
        .await
        .1;
    assert_eq!(v["version"], 1);
}

async fn conflicts_say_who_changed_the_row(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    // Another person: named.
    let r = app
        .post(
            &a.admin.token,
            &format!("/api/v1/mentors/{m}/pause"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let r = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/mentors/{m}/resume"),
            json!({"expected_version": 1}),
        )
        .await;
    assert_error(&r, 409, "version_conflict");
    let admin_name: String = app
        .scalar(
            "SELECT display_name FROM users WHERE id = $1",
            &[&a.admin.id],
        )
        .await;
    assert_eq!(r.1["details"]["changed_by"]["kind"], "someone_else");
    assert_eq!(r.1["details"]["changed_by"]["name"], admin_name.as_str());
    let message = r.1["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("changed by {admin_name}")),
        "{message}"
    );

    // The same coordinator's other phone: not "someone else".
    let phone_a = uuid::Uuid::new_v4().to_string();
    let phone_b = uuid::Uuid::new_v4().to_string();
    let (_, first) = app
        .push(
            &a.coordinator.token,
            &phone_a,
            json!([{"mutation_id": 1, "name": "resume_mentor", "args": {"mentor_id": m}, "expected_version": 2}]),
        )
        .await;
    assert_eq!(first["verdicts"][0]["status"], "applied", "{first}");
    let (_, second) = app
        .push(
            &a.coordinator.token,
            &phone_b,
            json!([{"mutation_id": 1, "name": "pause_mentor", "args": {"mentor_id": m, "reason": "y"}, "expected_version": 2}]),
        )
        .await;
    let verdict = &second["verdicts"][0];
    assert_eq!(verdict["code"], "version_conflict", "{second}");
    assert!(
        verdict["reason"]
            .as_str()
            .unwrap()
            .contains("by you, on another device"),
        "{verdict}"
    );
    // And the same phone's own earlier command.
    let (_, third) = app
        .push(
            &a.coordinator.token,
            &phone_a,
            json!([{"mutation_id": 2, "name": "pause_mentor", "args": {"mentor_id": m, "reason": "y"}, "expected_version": 2}]),
        )
        .await;
    assert!(
        third["verdicts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("by an earlier command from this device"),
        "{third}"
    );
}

trait Now {
    fn clock_now(&self) -> i64;
}
impl Now for TestApp {
    fn clock_now(&self) -> i64 {
        mentorsync_server::clock::Clock::now_ms(&*self.clock)
    }
}
