//! Running a programme through the admin API, on both backends: accounts come in (sign-in
//! codes, unique emails), change (roles, names) and leave (disabled: sessions and streams
//! end at once); mentors are edited, renewed and deactivated; coordinators change hands
//! with their rows and waiting notifications; cohorts gain and lose directors; roster files
//! import all-or-nothing and again without changes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::jobs::{Job, scheduler};
use mentorsync_server::notify::{Dispatcher, RecordingChannel};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    accounts_come_in_with_a_code_and_unique_email,
    staff_roles_change_and_profile_roles_stay,
    disabling_ends_every_session_at_once,
    mentors_are_edited_renewed_and_deactivated,
    coordination_changes_hands_with_rows_and_notifications,
    cohort_directors_see_what_they_direct,
    roster_files_import_whole_or_not_at_all,
);

async fn create(
    app: &TestApp,
    token: &str,
    email: &str,
    role: &str,
) -> (reqwest::StatusCode, Value) {
    app.post(
        token,
        "/api/v1/admin/users",
        json!({"email": email, "display_name": format!("New {role}"), "role": role}),
    )
    .await
}

async fn redeem(app: &TestApp, email: &str, code: &str, password: &str) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/redeem"))
        .json(&json!({"email": email, "code": code, "new_password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn code_for(app: &TestApp, user_id: &str) -> String {
    let (status, body) = app
        .post(
            &app.a.admin.token,
            &format!("/api/v1/admin/users/{user_id}/sign-in-code"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["code"].as_str().unwrap().to_owned()
}

async fn accounts_come_in_with_a_code_and_unique_email(app: &TestApp) {
    let admin = &app.a.admin.token;
    let mut ids = Vec::new();
    for role in ["admin", "coordinator", "mentor", "mentee", "director"] {
        let (status, body) = create(app, admin, &format!("Pat.{role}@Example.ORG"), role).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["row"]["email"], format!("pat.{role}@example.org"));
        assert_eq!(body["row"]["status"], "active");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // Mentors and mentees come with their profiles, audited.
    let mentor = &ids[2];
    let (status, row) = app.get(admin, &format!("/api/v1/mentors/{mentor}")).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(
        (row["status"].as_str(), row["capacity_weekly"].as_i64()),
        (Some("active"), Some(10))
    );
    assert_eq!(
        app.audit_count(mentor).await,
        2,
        "the account and the profile"
    );
    // Emails are unique in the deployment, whatever their case, across chapters too.
    assert_error(
        &create(app, admin, "PAT.MENTOR@example.org", "coordinator").await,
        409,
        "email_taken",
    );
    assert_error(
        &create(app, &app.b.admin.token, "pat.mentor@example.org", "mentor").await,
        409,
        "email_taken",
    );
    let (status, body) = app
        .post(admin, &format!("/api/v1/admin/users/{}", ids[1]), json!({}))
        .await;
    assert!(status.is_client_error(), "{body}");
    assert_error(
        &create(app, admin, "no-at-sign", "mentor").await,
        400,
        "validation_failed",
    );
    assert_error(
        &create(app, &app.a.coordinator.token, "c@x.org", "mentor").await,
        403,
        "forbidden",
    );

    // No password yet: the person signs in with a one-time code and chooses one.
    let email = "pat.mentee@example.org";
    assert_eq!(login(app, email, "").await.0, 401);
    let code = code_for(app, &ids[3]).await;
    assert_eq!(
        redeem(app, email, "AAAA-BBBB-CCCC", "a long password")
            .await
            .1["code"],
        "sign_in_code_invalid"
    );
    assert_eq!(redeem(app, email, &code, "short").await.0, 400);
    let (status, body) = redeem(app, email, &code.to_lowercase(), "a long password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "mentee");
    assert_eq!(
        redeem(app, email, &code, "another password").await.1["code"],
        "sign_in_code_invalid",
        "spent"
    );
    let (status, body) = login(app, email, "a long password").await;
    assert_eq!(status, 200, "{body}");
    // A new code replaces the old one (a reset); the password changes with the current one.
    let first = code_for(app, &ids[3]).await;
    let second = code_for(app, &ids[3]).await;
    assert_eq!(redeem(app, email, &first, "reset password 1").await.0, 401);
    let (status, body) = redeem(app, email, &second, "reset password 2").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    assert_eq!(
        app.post(
            &token,
            "/api/v1/auth/password",
            change("wrong", "0123456789")
        )
        .await
        .0,
        401
    );
    assert_eq!(
        app.post(
            &token,
            "/api/v1/auth/password",
            change("reset password 2", "0123456789")
        )
        .await
        .0,
        204
    );
    assert_eq!(login(app, email, "0123456789").await.0, 200);
    // The admin list finds them by part of a name or email, by role and status.
    let (status, page) = app
        .get(admin, "/api/v1/admin/users?q=PAT.&role=mentee")
        .await;
    assert_eq!(status, 200, "{page}");
    let emails: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["pat.mentee@example.org"]);
    assert!(page["items"][0].get("password_hash").is_none());
    let (_, page) = app.get(admin, "/api/v1/admin/users?limit=2").await;
    let (_, next) = app
        .get(
            admin,
            &format!(
                "/api/v1/admin/users?limit=2&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
        )
        .await;
    assert_ne!(page["items"][0]["id"], next["items"][0]["id"]);
    assert_error(
        &app.get(admin, "/api/v1/admin/users?limit=0").await,
        400,
        "bad_request",
    );
}

async fn staff_roles_change_and_profile_roles_stay(app: &TestApp) {
    let a = &app.a;
    let admin = &a.admin.token;
    let role = |id: &str, r: &str| {
        let path = format!("/api/v1/admin/users/{id}/role");
        let body = json!({ "role": r });
        async move { app.post(admin, &path, body).await }
    };
    // A coordinator with mentors hands them over first; a mentor stays a mentor.
    assert_error(
        &role(&a.coordinator.id, "director").await,
        422,
        "role_change_invalid",
    );
    assert_error(
        &role(&a.mentor.id, "coordinator").await,
        422,
        "role_change_invalid",
    );
    assert_error(&role(&a.admin.id, "director").await, 403, "forbidden");
    assert_error(
        &role(&a.director.id, "director").await,
        422,
        "invalid_transition",
    );
    // A director becomes a coordinator: their cohorts go, and they are signed out.
    let (status, body) = role(&a.director.id, "coordinator").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["row"]["role"], "coordinator");
    let links: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM cohort_directors WHERE director_id = $1",
            &[&a.director.id],
        )
        .await;
    assert_eq!(links, 0);
    assert_error(
        &app.get(&a.director.token, "/api/v1/me").await,
        401,
        "unauthorized",
    );
    let audited: i64 = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'user' AND entity_id = $1 AND action = 'change_role'", &[&a.director.id])
        .await;
    assert_eq!(audited, 1);
    // A name change reaches the devices that show it: the mentor row's version moves.
    let before: i64 = app
        .scalar(
            "SELECT version FROM mentor_profiles WHERE user_id = $1",
            &[&a.mentor.id],
        )
        .await;
    let (status, body) = app
        .post(
            admin,
            &format!("/api/v1/admin/users/{}", a.mentor.id),
            json!({}),
        )
        .await;
    assert!(status.is_client_error(), "POST is not PATCH: {body}");
    let r = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", a.mentor.id)))
        .bearer_auth(admin)
        .json(&json!({"display_name": "Ada Lovelace-Byron", "time_zone": "Europe/Lisbon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after: i64 = app
        .scalar(
            "SELECT version FROM mentor_profiles WHERE user_id = $1",
            &[&a.mentor.id],
        )
        .await;
    assert_eq!(after, before + 1);
    let mut coordinator = MiniClient::new();
    coordinator.sync(app, &a.coordinator.token, 500).await;
    assert_eq!(
        coordinator.rows[&("mentor".into(), a.mentor.id.clone())].2["display_name"],
        "Ada Lovelace-Byron"
    );
    let bad = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", a.mentor.id)))
        .bearer_auth(admin)
        .json(&json!({"time_zone": "Mars/Olympus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

async fn disabling_ends_every_session_at_once(app: &TestApp) {
    let a = &app.a;
    let email = a.coordinator.email.clone();
    let token = fresh_access(app, &email).await;
    let refresh: String = {
        let (_, body) = login(app, &email, PASSWORD).await;
        body["refresh_token"].as_str().unwrap().to_owned()
    };
    let mut bases = vec![app.base.clone()];
    if app.backend == Backend::Postgres {
        bases.push(app.second_instance().await);
    }
    let mut streams = Vec::new();
    for base in &bases {
        streams.push(open_stream(app, base, "/api/v1/sync/events", &token).await);
    }
    let path = format!("/api/v1/admin/users/{}/disable", a.coordinator.id);
    let (status, body) = app.post(&a.admin.token, &path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["row"]["status"], "disabled");
    for s in &mut streams {
        assert!(
            ends_within(s, Duration::from_secs(3)).await,
            "the stream ends at once"
        );
    }
    assert_error(&app.get(&token, "/api/v1/me").await, 401, "unauthorized");
    assert_error(
        &app.get(&a.coordinator.token, "/api/v1/me").await,
        401,
        "unauthorized",
    );
    let (status, body) = login(app, &email, PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled")),
        "{body}"
    );
    let r = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "account_disabled");
    // Nobody can give a disabled person a code; their notifications go to the admin.
    assert_error(
        &app.post(
            &a.admin.token,
            &format!("/api/v1/admin/users/{}/sign-in-code", a.coordinator.id),
            json!({}),
        )
        .await,
        422,
        "account_disabled",
    );
    assert_error(
        &app.post(&a.admin.token, &path, json!({})).await,
        422,
        "invalid_transition",
    );
    assert_error(
        &app.post(
            &a.admin.token,
            &format!("/api/v1/admin/users/{}/disable", a.admin.id),
            json!({}),
        )
        .await,
        403,
        "forbidden",
    );
    // Enabled again, they sign in as before.
    let (status, _) = app
        .post(
            &a.admin.token,
            &format!("/api/v1/admin/users/{}/enable", a.coordinator.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(login(app, &email, PASSWORD).await.0, 200);
}

async fn mentors_are_edited_renewed_and_deactivated(app: &TestApp) {
    let a = &app.a;
    let (admin, coordinator) = (&a.admin.token, &a.coordinator.token);
    let m = &a.mentor.id;
    let profile = format!("/api/v1/admin/mentors/{m}");
    let patch =
        async |token: &str, body: Value| app.send(Method::PATCH, token, &profile, Some(body)).await;
    let (status, body) = patch(
        coordinator,
        json!({"capacity_weekly": 12, "specialties": ["Maths", "maths", "Art"],
        "availability": {"mon": ["18:00-20:00"]}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["row"]["specialties"], json!(["maths", "art"]));
    assert_eq!(body["row"]["availability"]["mon"][0], "18:00-20:00");
    assert_error(
        &patch(coordinator, json!({"capacity_weekly": 0})).await,
        400,
        "validation_failed",
    );
    assert_error(
        &patch(&a.other_coordinator.token, json!({"capacity_weekly": 5})).await,
        403,
        "forbidden",
    );
    let held: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'",
            &[m],
        )
        .await;
    assert!(held > 0);
    if held > 1 {
        assert_error(
            &patch(admin, json!({"capacity_weekly": held - 1})).await,
            422,
            "capacity_exceeded",
        );
    }

    // The certification expires; the job pauses the mentor; resume waits for a renewal.
    app.exec(
        mentorsync_server::db::q(
            "UPDATE mentor_profiles SET certification_expires_at = $1 WHERE user_id = $2",
        )
        .bind(T0 - DAY)
        .bind(m.as_str()),
    )
    .await;
    scheduler::run(&app.db, Job::Certifications, T0)
        .await
        .unwrap();
    let status: String = app
        .scalar(
            "SELECT status FROM mentor_profiles WHERE user_id = $1",
            &[m],
        )
        .await;
    assert_eq!(status, "paused");
    assert_error(
        &app.post(
            coordinator,
            &format!("/api/v1/mentors/{m}/resume"),
            json!({}),
        )
        .await,
        422,
        "certification_invalid",
    );
    let certification = format!("/api/v1/admin/mentors/{m}/certification");
    let renew = |expires_at: i64| {
        app.post(
            coordinator,
            &certification,
            json!({ "expires_at": expires_at }),
        )
    };
    assert_error(&renew(T0 - 1).await, 400, "validation_failed");
    let (status, body) = renew(T0 + 365 * DAY).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post(
            coordinator,
            &format!("/api/v1/mentors/{m}/resume"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    scheduler::run(&app.db, Job::Certifications, T0 + 60_000)
        .await
        .unwrap();
    let status: String = app
        .scalar(
            "SELECT status FROM mentor_profiles WHERE user_id = $1",
            &[m],
        )
        .await;
    assert_eq!(status, "active", "the renewal holds: no new pause");

    // Deactivated: the mentees go back to matching, the coordinator is told, and the
    // mentor's own commands are refused.
    let (status, body) = app
        .post(
            coordinator,
            &format!("/api/v1/mentors/{m}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let active: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'",
            &[m],
        )
        .await;
    assert_eq!(active, 0);
    let ended: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'mentee_assignment' AND action = 'end'",
            &[],
        )
        .await;
    assert_eq!(ended, held);
    let told: i64 = app.scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'mentor_deactivated' AND mentor_id = $1", &[m]).await;
    assert_eq!(told, 1);
    let at = T0 + DAY;
    let refused = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": at, "duration_minutes": 30}),
        )
        .await;
    assert_error(&refused, 422, "mentor_not_active");
    let refused = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "r"}),
        )
        .await;
    assert_error(&refused, 422, "mentor_not_active");
    // Matching gives the mentees to another mentor.
    scheduler::run(&app.db, Job::Matching, T0 + 120_000)
        .await
        .unwrap();
    let mentor_now: String = app
        .scalar(
            "SELECT mentor_id FROM mentee_assignments WHERE mentee_id = $1 AND status = 'active'",
            &[&a.mentee.id],
        )
        .await;
    assert_ne!(&mentor_now, m);
}

async fn coordination_changes_hands_with_rows_and_notifications(app: &TestApp) {
    let a = &app.a;
    let m = &a.mentor.id;
    let mut old = MiniClient::new();
    old.sync(app, &a.coordinator.token, 500).await;
    let mut new = MiniClient::new();
    new.sync(app, &a.other_coordinator.token, 500).await;
    assert!(old.has("mentor", m) && !new.has("mentor", m));
    // A notification written while the old coordinator coordinates.
    let (status, _) = app
        .post(
            &a.mentor.token,
            &format!("/api/v1/mentors/{m}/pause-requests"),
            json!({"reason": "exams"}),
        )
        .await;
    assert!(status.is_success());

    let coordinator = format!("/api/v1/admin/mentors/{m}/coordinator");
    let put = async |body: Value| {
        app.send(Method::PUT, &a.admin.token, &coordinator, Some(body))
            .await
    };
    assert_error(
        &put(json!({"coordinator_id": a.mentee.id})).await,
        422,
        "wrong_role",
    );
    assert_error(
        &put(json!({"coordinator_id": a.coordinator.id})).await,
        422,
        "invalid_transition",
    );
    assert_error(
        &put(json!({"coordinator_id": app.b.coordinator.id})).await,
        404,
        "not_found",
    );
    let (status, body) = put(json!({"coordinator_id": a.other_coordinator.id})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["row"]["coordinator_id"],
        a.other_coordinator.id.as_str()
    );
    let active: i64 = app.scalar("SELECT COUNT(*) FROM coordinator_assignments WHERE mentor_id = $1 AND status = 'active'", &[m]).await;
    assert_eq!(active, 1);

    old.sync(app, &a.coordinator.token, 500).await;
    new.sync(app, &a.other_coordinator.token, 500).await;
    assert!(
        !old.has("mentor", m),
        "the old coordinator's device drops the mentor"
    );
    assert!(!old.has("mentee", &a.mentee.id), "and their mentees");
    assert!(
        new.has("mentor", m) && new.has("mentee", &a.mentee.id),
        "the new one receives them"
    );

    let rec = RecordingChannel::default();
    let report = Dispatcher::new(vec![Arc::new(rec.clone())])
        .run_once(&app.db, T0 + 1000)
        .await
        .unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(
        rec.delivered()[0].recipient_id,
        a.other_coordinator.id,
        "reaches the new coordinator"
    );
}

async fn cohort_directors_see_what_they_direct(app: &TestApp) {
    let a = &app.a;
    let admin = &a.admin.token;
    let (status, body) = app
        .post(
            admin,
            "/api/v1/admin/cohorts",
            json!({"name": "Autumn", "external_id": "autumn-26",
            "starts_at": T0, "ends_at": T0 + 90 * DAY, "seats": 1}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let cohort = body["id"].as_str().unwrap().to_owned();
    let dup = app
        .post(
            admin,
            "/api/v1/admin/cohorts",
            json!({"name": "Again", "external_id": "autumn-26",
            "starts_at": T0, "ends_at": T0 + DAY, "seats": 1}),
        )
        .await;
    assert_error(&dup, 409, "conflict");
    let backwards = app
        .post(
            admin,
            "/api/v1/admin/cohorts",
            json!({"name": "B", "starts_at": T0, "ends_at": T0, "seats": 1}),
        )
        .await;
    assert_error(&backwards, 400, "validation_failed");

    let enrol = async |mentee: &str, cohort: Value| {
        let path = format!("/api/v1/admin/mentees/{mentee}/cohort");
        app.send(
            Method::PUT,
            admin,
            &path,
            Some(json!({ "cohort_id": cohort })),
        )
        .await
    };
    let (status, body) = enrol(&a.mentee.id, json!(cohort)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["row"]["cohort_id"], cohort.as_str());
    assert_error(
        &enrol(&a.free_mentee.id, json!(cohort)).await,
        422,
        "cohort_full",
    );
    assert_error(
        &enrol(&a.mentee.id, json!(cohort)).await,
        422,
        "invalid_transition",
    );

    let mut director = MiniClient::new();
    director.sync(app, &a.director.token, 500).await;
    assert!(!director.has("cohort", &cohort));
    let mut stream = open_stream(app, &app.base, "/api/v1/sync/events", &a.director.token).await;
    let link = format!("/api/v1/admin/cohorts/{cohort}/directors/{}", a.director.id);
    let r = app
        .http
        .put(app.url(&link))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The director's open stream is poked although no row of theirs changed before.
    let poked = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await;
    assert!(
        matches!(poked, Ok(Ok(Some(_)))),
        "a poke for the new cohort"
    );
    scheduler::run(&app.db, Job::Dashboards, T0 + 1000)
        .await
        .unwrap();
    director.sync(app, &a.director.token, 500).await;
    assert!(director.has("cohort", &cohort));
    assert!(
        director.has("dashboard", &format!("cohort:{cohort}")),
        "its dashboard arrives"
    );
    let again = app
        .http
        .put(app.url(&link))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 422);
    let not_director = format!("/api/v1/admin/cohorts/{cohort}/directors/{}", a.mentor.id);
    let r = app
        .http
        .put(app.url(&not_director))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "wrong_role");

    let r = app
        .http
        .delete(app.url(&link))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    director.sync(app, &a.director.token, 500).await;
    assert!(
        !director.has("cohort", &cohort),
        "a director removed stops seeing the cohort"
    );
    assert!(
        !director.has("dashboard", &format!("cohort:{cohort}")),
        "and its dashboard"
    );
}

const ROSTER: &str = "kind,key,email,name,coordinator,mentor,cohort,capacity,specialties,interests,certified_until,starts_on,ends_on,seats,directors
cohort,spring-27,,Spring 2027,,,,,,,,2027-03-01,2027-06-30,10,dee@import.example.org
director,,dee@import.example.org,Dee Rector,,,,,,,,,,,
coordinator,,cora@import.example.org,Cora Dinator,,,,,,,,,,,
mentor,,max@import.example.org,Max Mentor,cora@import.example.org,,,3,maths;art,,2030-01-31,,,,
mentee,,mia@import.example.org,Mia Mentee,,max@import.example.org,spring-27,,,art,,,,,
mentee,,moe@import.example.org,Moe Mentee,,max@import.example.org,spring-27,,,,,,,,
";

async fn import(app: &TestApp, token: &str, body: &str, dry: bool) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(&format!("/api/v1/admin/import?dry_run={dry}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn roster_files_import_whole_or_not_at_all(app: &TestApp) {
    let admin = &app.a.admin.token;
    let users = || app.scalar::<i64>("SELECT COUNT(*) FROM users", &[]);
    let before = users().await;
    // One bad row refuses the file, every error with its line; nothing is written.
    let bad = ROSTER
        .replace("moe@import.example.org,Moe", "moe-at-nowhere,Moe")
        .replace(",3,maths", ",300,maths");
    let (status, body) = import(app, admin, &bad, false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("import_invalid")),
        "{body}"
    );
    let lines: Vec<i64> = body["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [5, 7], "{body}");
    let dangling = ROSTER.replace(
        "max@import.example.org,spring-27,,,art",
        "nobody@import.example.org,spring-27,,,art",
    );
    let (_, body) = import(app, admin, &dangling, false).await;
    assert!(
        body["details"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nobody@import.example.org"),
        "{body}"
    );
    assert_eq!(users().await, before);
    // A dry run shows what would change and keeps nothing.
    let (status, dry) = import(app, admin, ROSTER, true).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["changes"]["create_user"], 5);
    assert_eq!(users().await, before);
    // The import, then the same file again: no change at all.
    let (status, done) = import(app, admin, ROSTER, false).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["changes"], dry["changes"]);
    assert_eq!(done["changes"]["assign_mentee"], 2);
    assert_eq!(done["changes"]["assign_coordinator"], 1);
    assert_eq!(done["changes"]["add_cohort_director"], 1);
    assert_eq!(users().await, before + 5);
    let (status, again) = import(app, admin, ROSTER, false).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["changes"], json!({}), "re-importing changes nothing");
    // Every change went through the commands: audited, and on the admin's devices.
    let max: String = app
        .scalar(
            "SELECT id FROM users WHERE email = 'max@import.example.org'",
            &[],
        )
        .await;
    let (_, mentor) = app.get(admin, &format!("/api/v1/mentors/{max}")).await;
    assert_eq!(
        (
            mentor["capacity_weekly"].as_i64(),
            mentor["specialties"].clone()
        ),
        (Some(3), json!(["maths", "art"]))
    );
    assert!(app.audit_count(&max).await >= 4);
    let mut device = MiniClient::new();
    device.sync(app, admin, 1000).await;
    assert!(device.has("user", &max) && device.has("mentor", &max));
    // The export imports into the same chapter without a change.
    let exported = app
        .http
        .get(app.url("/api/v1/admin/export"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert!(
        exported.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = exported.text().await.unwrap();
    assert!(csv.contains("max@import.example.org,Max Mentor"), "{csv}");
    let (status, round) = import(app, admin, &csv, false).await;
    assert_eq!(status, 200, "{round}");
    assert_eq!(
        round["changes"],
        json!({}),
        "export → import changes nothing: {csv}"
    );
    // Changing one cell changes exactly that.
    let (_, one) = import(app, admin, &ROSTER.replace(",3,maths", ",4,maths"), false).await;
    assert_eq!(one["changes"], json!({"update_mentor": 1}));
    // Wrong media type, other roles, another chapter's people.
    let r = app
        .http
        .post(app.url("/api/v1/admin/import"))
        .bearer_auth(admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        import(app, &app.a.coordinator.token, ROSTER, false).await.0,
        403
    );
    let (status, body) = import(app, &app.b.admin.token, ROSTER, false).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["details"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another chapter"),
        "{body}"
    );
}
