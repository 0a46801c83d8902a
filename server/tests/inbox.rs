//! Every person's inbox, on both backends: a dispatched notification lands once in the
//! inbox of each person it reached, syncs to their devices and to nobody else's (admins
//! included), and its recipient reads and dismisses it over REST or sync push, offline
//! commands included, as often as their phones repeat it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_protocol::Role;
use mentorsync_server::notify::Dispatcher;
use serde_json::{Value, json};

both_backends!(
    a_dispatched_notification_reaches_its_recipients_inbox_once,
    only_the_recipient_syncs_reads_and_dismisses_an_item,
    a_mentee_finds_their_session_in_their_inbox,
);

async fn inbox(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app.get(token, &format!("/api/v1/inbox{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_dispatched_notification_reaches_its_recipients_inbox_once(app: &TestApp) {
    let a = &app.a;
    let pause = app.request_pause(T0 + DAY).await;
    assert!(
        ids(&inbox(app, &a.coordinator.token, "").await).is_empty(),
        "nothing before dispatch: the recipient is resolved then"
    );
    let dispatcher = Dispatcher::new(Vec::new());
    let report = dispatcher.run_once(&app.db, T0 + 1_000).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let page = inbox(app, &a.coordinator.token, "").await;
    let item = &page["items"][0];
    assert_eq!(ids(&page).len(), 1, "{page}");
    assert_eq!(item["kind"], "pause_requested");
    assert_eq!(item["entity"], "pause");
    assert_eq!(item["entity_id"], pause);
    assert_eq!(item["recipient_id"], a.coordinator.id);
    assert_eq!(item["read_at"], Value::Null);
    assert_eq!(page["unread"], 1);
    // Nobody else has it: not the admin, not the other coordinator.
    assert!(ids(&inbox(app, &a.admin.token, "").await).is_empty());
    assert!(ids(&inbox(app, &a.other_coordinator.token, "").await).is_empty());
    // A dispatch that runs again (a retried notification) adds nothing.
    app.exec(mentorsync_server::db::q(
        "UPDATE notifications SET status = 'pending', next_attempt_at = 0, locked_until = NULL",
    ))
    .await;
    dispatcher.run_once(&app.db, T0 + 2_000).await.unwrap();
    let n: i64 = app.scalar("SELECT COUNT(*) FROM inbox_items", &[]).await;
    assert_eq!(n, 1);
    // Paging: `before` continues after the last item, `limit` is checked.
    let (status, body) = app.get(&a.coordinator.token, "/api/v1/inbox?limit=0").await;
    assert_error(&(status, body), 400, "bad_request");
    let (status, body) = app
        .get(&a.coordinator.token, "/api/v1/inbox?before=not-a-uuid")
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn only_the_recipient_syncs_reads_and_dismisses_an_item(app: &TestApp) {
    let a = &app.a;
    app.request_pause(T0 + DAY).await;
    Dispatcher::new(Vec::new())
        .run_once(&app.db, T0 + 1_000)
        .await
        .unwrap();
    let item = inbox(app, &a.coordinator.token, "").await["items"][0].clone();
    let id = item["id"].as_str().unwrap().to_owned();

    // The coordinator's device receives it, with `user:` as its only scope key.
    let mut phone = MiniClient::new();
    phone.sync(app, &a.coordinator.token, 100).await;
    let (_, scopes, row) = phone.rows[&("inbox_item".to_owned(), id.clone())].clone();
    assert_eq!(scopes, [format!("user:{}", a.coordinator.id)]);
    assert_eq!(row["message"], item["message"]);
    // The admin's device, which holds the whole chapter, does not; neither does the
    // mentor's (whose pause it is about).
    for token in [&a.admin.token, &a.mentor.token] {
        let mut other = MiniClient::new();
        other.sync(app, token, 100).await;
        assert!(!other.has("inbox_item", &id));
    }

    // Only the recipient reads or dismisses it: anyone else, of every role in either
    // chapter, is told it does not exist, and nothing changes.
    let read = format!("/api/v1/inbox/{id}/read");
    for chapter in [&app.a, &app.b] {
        for role in [
            Role::Admin,
            Role::Coordinator,
            Role::Mentor,
            Role::Mentee,
            Role::Director,
        ] {
            let user = chapter.user(role);
            if user.id == a.coordinator.id {
                continue;
            }
            for step in ["read", "dismiss"] {
                let path = format!("/api/v1/inbox/{id}/{step}");
                assert_error(
                    &app.post(&user.token, &path, json!({})).await,
                    404,
                    "not_found",
                );
            }
        }
    }
    assert_error(
        &app.post(&a.other_coordinator.token, &read, json!({})).await,
        404,
        "not_found",
    );
    assert_eq!(
        inbox(app, &a.coordinator.token, "").await["items"][0]["version"],
        1
    );
    // An unknown step or a malformed id is bad input.
    let (status, body) = app
        .post(
            &a.coordinator.token,
            &format!("/api/v1/inbox/{id}/open"),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .post(&a.coordinator.token, "/api/v1/inbox/nope/read", json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.post(&a.coordinator.token, &read, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(inbox(app, &a.coordinator.token, "").await["unread"], 0);
    assert!(ids(&inbox(app, &a.coordinator.token, "?unread_only=true").await).is_empty());
    // Read again (the person's other phone): applied, nothing changes.
    let (status, body) = app.post(&a.coordinator.token, &read, json!({})).await;
    assert_eq!((status.as_u16(), body["version"].clone()), (200, json!(2)));

    // Dismissed through sync push, with a version the device saw before the read: the
    // version does not matter for a person's own inbox.
    let (status, body) = app
        .push(
            &a.coordinator.token,
            &phone.id,
            json!([{"mutation_id": 1, "name": "dismiss_inbox_item",
                    "args": {"item_id": id}, "expected_version": 1}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verdicts"][0]["status"], "applied", "{body}");
    phone.sync(app, &a.coordinator.token, 100).await;
    let (version, _, row) = phone.rows[&("inbox_item".to_owned(), id.clone())].clone();
    assert_eq!(version, 3);
    assert!(
        row["dismissed_at"].is_i64() && row["read_at"].is_i64(),
        "{row}"
    );
    assert!(ids(&inbox(app, &a.coordinator.token, "").await).is_empty());
    // Someone else's push is refused the same way as over REST.
    let (_, body) = app
        .push(
            &a.admin.token,
            &uuid::Uuid::new_v4().to_string(),
            json!([{"mutation_id": 1, "name": "read_inbox_item", "args": {"item_id": id}}]),
        )
        .await;
    assert_eq!(body["verdicts"][0]["code"], "not_found", "{body}");
}

async fn a_mentee_finds_their_session_in_their_inbox(app: &TestApp) {
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": T0 + DAY, "duration_minutes": 30}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let session = body["id"].as_str().unwrap().to_owned();
    Dispatcher::new(Vec::new())
        .run_once(&app.db, T0 + 1_000)
        .await
        .unwrap();
    let page = inbox(app, &a.mentee.token, "").await;
    assert_eq!(page["items"][0]["kind"], "session_scheduled", "{page}");
    assert_eq!(page["items"][0]["entity_id"], session);
    let mut phone = MiniClient::new();
    phone.sync(app, &a.mentee.token, 100).await;
    assert!(phone.has("inbox_item", page["items"][0]["id"].as_str().unwrap()));
}
