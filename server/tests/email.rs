//! E-mail reaches the people who want it, on both backends, through a real SMTP exchange
//! with a sink this test starts: `auto` mails only people without the app, `always` and
//! the kinds they chose are honoured, quiet hours in the person's own time zone hold a
//! mail (not the inbox) until they end, and a mail is sent once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;
use mentorsync_server::db::q;
use mentorsync_server::notify::{Channel, Dispatcher, EmailChannel, RecordingChannel};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

both_backends!(
    email_reaches_the_people_who_want_it,
    quiet_hours_hold_a_mail_until_they_end,
    preferences_are_checked_and_kept,
);

/// One mail the sink accepted.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A local SMTP server that accepts every mail and keeps it.
struct Sink {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Sink {
    async fn start() -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                    let mut to = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.to_ascii_uppercase();
                        let reply: &[u8] = if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if verb.starts_with("RCPT TO:") {
                            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 OK\r\n"
                        } else if verb.starts_with("DATA") {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(Mail {
                                to: std::mem::take(&mut to),
                                data,
                            });
                            b"250 queued\r\n"
                        } else if verb.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Sink { port, mails }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    fn dispatcher(&self) -> Dispatcher {
        let email = EmailChannel::new(
            &format!("smtp://127.0.0.1:{}", self.port),
            "mentorsync <noreply@mentorsync.test>",
        )
        .unwrap();
        let channels: Vec<Arc<dyn Channel>> =
            vec![Arc::new(RecordingChannel::default()), Arc::new(email)];
        Dispatcher::new(channels)
    }
}

async fn schedule_session(app: &TestApp) {
    let a = &app.a;
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/sessions",
            json!({"mentee_id": a.mentee.id, "scheduled_at": T0 + 3 * DAY, "duration_minutes": 30}),
        )
        .await;
    assert!(status.is_success(), "{body}");
}

async fn email_reaches_the_people_who_want_it(app: &TestApp) {
    let a = &app.a;
    let sink = Sink::start().await;
    let dispatcher = sink.dispatcher();
    // The mentee has no app: `auto` mails them.
    schedule_session(app).await;
    dispatcher.run_once(&app.db, T0 + 1_000).await.unwrap();
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, std::slice::from_ref(&a.mentee.email));
    assert!(
        mails[0]
            .data
            .contains("Subject: mentorsync: Session scheduled"),
        "{}",
        mails[0].data
    );
    assert!(mails[0].data.contains("noreply@mentorsync.test"));

    // The coordinator syncs a phone: `auto` leaves them to the app (and the inbox).
    MiniClient::new().sync(app, &a.coordinator.token, 200).await;
    app.request_pause(T0 + 2 * DAY).await;
    dispatcher.run_once(&app.db, T0 + 2_000).await.unwrap();
    assert_eq!(
        sink.mails().len(),
        1,
        "nothing more: the coordinator uses the app"
    );
    let inbox: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM inbox_items WHERE recipient_id = $1",
            &[&a.coordinator.id],
        )
        .await;
    assert_eq!(inbox, 1, "the inbox has it whatever the preferences");

    // `always`, for flags only: a pause request is not mailed, a flag is.
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            &a.coordinator.token,
            "/api/v1/me/preferences",
            Some(json!({"email": "always", "kinds": ["flag_raised"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.post(
        &a.mentor.token,
        &format!("/api/v1/pauses/{}/cancel", open_pause(app).await),
        json!({}),
    )
    .await;
    app.request_pause(T0 + 2 * DAY).await;
    let (status, body) = app
        .post(
            &a.mentor.token,
            "/api/v1/mentor/flags",
            json!({"mentee_id": a.mentee.id, "severity": "low", "reason": "quiet lately"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    dispatcher.run_once(&app.db, T0 + 3_000).await.unwrap();
    let to_coordinator: Vec<Mail> = sink
        .mails()
        .into_iter()
        .filter(|m| m.to == std::slice::from_ref(&a.coordinator.email))
        .collect();
    assert_eq!(to_coordinator.len(), 1, "{to_coordinator:?}");
    assert!(to_coordinator[0].data.contains("Flag raised"));
    // Dispatching again sends nothing twice.
    let before = sink.mails().len();
    dispatcher.run_once(&app.db, T0 + 4_000).await.unwrap();
    assert_eq!(sink.mails().len(), before);
}

async fn open_pause(app: &TestApp) -> String {
    app.scalar(
        "SELECT id FROM pauses WHERE mentor_id = $1 AND status = 'requested'",
        &[&app.a.mentor.id],
    )
    .await
}

async fn quiet_hours_hold_a_mail_until_they_end(app: &TestApp) {
    let a = &app.a;
    let sink = Sink::start().await;
    let dispatcher = sink.dispatcher();
    app.exec(
        q("UPDATE users SET time_zone = 'Europe/Dublin' WHERE id = $1").bind(a.mentee.id.as_str()),
    )
    .await;
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            &a.mentee.token,
            "/api/v1/me/preferences",
            Some(json!({"email": "auto", "quiet_from": "22:00", "quiet_until": "07:00"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    schedule_session(app).await;
    // 23:00 in Dublin (UTC+0 in November): the mail waits, the inbox does not.
    let late = T0 + 23 * 3_600_000;
    let report = dispatcher.run_once(&app.db, late).await.unwrap();
    assert_eq!((report.held, report.delivered), (1, 0), "{report:?}");
    assert!(sink.mails().is_empty());
    let inbox: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM inbox_items WHERE recipient_id = $1",
            &[&a.mentee.id],
        )
        .await;
    assert_eq!(inbox, 1);
    let (next, attempts): (i64, i64) = app
        .scalar(
            "SELECT next_attempt_at, attempts FROM notifications WHERE audience = 'mentee'",
            &[],
        )
        .await;
    let seven = T0 + DAY + 7 * 3_600_000;
    assert_eq!(
        (next, attempts),
        (seven, 0),
        "held until 07:00, no attempt spent"
    );
    // Before 07:00 nothing is due; at 07:00 the mail goes, once.
    dispatcher.run_once(&app.db, seven - 60_000).await.unwrap();
    assert!(sink.mails().is_empty());
    let report = dispatcher.run_once(&app.db, seven).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(sink.mails()[0].to, std::slice::from_ref(&a.mentee.email));
    dispatcher.run_once(&app.db, seven + 60_000).await.unwrap();
    assert_eq!(sink.mails().len(), 1);
    let inbox: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM inbox_items WHERE recipient_id = $1",
            &[&a.mentee.id],
        )
        .await;
    assert_eq!(inbox, 1, "one inbox item, however often it was dispatched");
}

async fn preferences_are_checked_and_kept(app: &TestApp) {
    let a = &app.a;
    let (status, body) = app.get(&a.mentor.token, "/api/v1/me/preferences").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"email": "auto", "kinds": null, "quiet_from": null, "quiet_until": null})
    );
    let put = |body: serde_json::Value| async move {
        app.send(
            reqwest::Method::PUT,
            &a.mentor.token,
            "/api/v1/me/preferences",
            Some(body),
        )
        .await
    };
    for bad in [
        json!({"email": "sometimes"}),
        json!({"email": "always", "quiet_from": "22:00"}),
        json!({"email": "always", "quiet_from": "24:00", "quiet_until": "07:00"}),
        json!({"email": "always", "kinds": ["flag_raised", "flag_raised"]}),
        json!({"email": "always", "kinds": ["gossip"]}),
        json!({"email": "always", "extra": true}),
    ] {
        let (status, body) = put(bad.clone()).await;
        assert!(
            [400, 422].contains(&status.as_u16()) && body["code"].is_string(),
            "{bad}: {status} {body}"
        );
    }
    let chosen = json!({"email": "never", "kinds": ["pause_started"], "quiet_from": "21:30", "quiet_until": "06:45"});
    let (status, body) = put(chosen.clone()).await;
    assert_eq!((status.as_u16(), &body), (200, &chosen));
    let (_, body) = app.get(&a.mentor.token, "/api/v1/me/preferences").await;
    assert_eq!(body, chosen);
    // Each person's own: the coordinator's are still the defaults.
    let (_, body) = app
        .get(&a.coordinator.token, "/api/v1/me/preferences")
        .await;
    assert_eq!(body["email"], "auto");
}
