//! client-core against a real server on both backends: offline commands, rejections,
//! interrupted and resumed pulls, crash between staging and publishing, convergence,
//! token refresh, listeners.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_core::{CoreError, RosterFilter, Topic};
use mentorsync_protocol::MentorStatus;
use mentorsync_tests::{Harness, both_backends};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

both_backends!(
    offline_pause_then_sync_is_applied,
    collision_with_deactivation_is_rejected_and_rolled_back,
    interrupted_pull_resumes_from_the_last_staged_page,
    busy_day_converges,
    refreshes_tokens_and_refuses_locally,
    a_running_client_follows_pokes,
    offline_notes_edits_merge,
    a_reassigned_mentee_moves_between_devices,
    dashboards_reach_the_devices_that_may_see_them,
    switching_accounts_never_loses_queued_commands_silently,
    tokens_live_in_the_apps_store_and_logout_clears_the_device,
    offline_times_mean_what_the_person_meant,
    queued_admin_commands_on_one_row_all_apply,
    the_live_loop_waits_on_the_stream_and_pushes_at_once,
    a_raised_flag_reaches_the_synced_coordinator_dashboard_within_seconds,
    a_topic_fires_only_when_its_rows_came,
    an_offline_pause_request_reaches_the_coordinators_inbox,
);

/// A mentor asks for a pause on the bus; once it syncs and is dispatched, the
/// coordinator's phone has it in its inbox (its listener told), reads it offline (the badge
/// drops at once) and the server learns it on the next sync.
async fn an_offline_pause_request_reaches_the_coordinators_inbox(h: &Harness) {
    use mentorsync_protocol::command::{Command, InboxItemRef, PauseMentor};
    use mentorsync_server::clock::Clock;
    let mentor = h.client("mentor@a.test").await;
    let coord = h.client("coordinator@a.test").await;
    mentor.sync(|_| {}).await.unwrap();
    coord.sync(|_| {}).await.unwrap();
    assert_eq!(coord.unread_count().unwrap(), 0);
    // The phone hands over its push token (dispatch then pushes to it: server/tests/push.rs).
    coord
        .register_push(mentorsync_protocol::PushPlatform::Fcm, "fcm-token-1")
        .await
        .unwrap();
    let pushable: i64 = scalar(
        h,
        "SELECT COUNT(*) FROM push_devices WHERE user_id = $1",
        &h.a.coordinator,
    )
    .await;
    assert_eq!(pushable, 1);
    let told = Arc::new(AtomicUsize::new(0));
    let seen = told.clone();
    let _sub = coord.observe(Topic::Inbox, move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });

    h.proxy.take_down();
    mentor
        .execute(Command::RequestPause(PauseMentor {
            mentor_id: h.a.mentor.clone(),
            reason: "exams".into(),
            starts_at: Some(h.clock.now_ms() + 86_400_000),
            ends_at: None,
            pause_id: None,
        }))
        .unwrap();
    h.proxy.bring_up();
    assert_eq!(mentor.sync(|_| {}).await.unwrap().progress.pushed, 1);
    mentorsync_server::notify::Dispatcher::new(Vec::new())
        .run_once(&h.db, h.clock.now_ms())
        .await
        .unwrap();

    coord.sync(|_| {}).await.unwrap();
    let inbox = coord.inbox(false, 0).unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].kind, "pause_requested");
    assert_eq!(coord.unread_count().unwrap(), 1);
    assert!(told.load(Ordering::SeqCst) >= 1, "the inbox listener fired");
    // The mentor's phone, whose pause it is about, does not receive the coordinator's item.
    mentor.sync(|_| {}).await.unwrap();
    assert!(mentor.inbox(false, 0).unwrap().is_empty());

    h.proxy.take_down();
    coord
        .execute(Command::ReadInboxItem(InboxItemRef {
            item_id: inbox[0].id.clone(),
        }))
        .unwrap();
    assert_eq!(coord.unread_count().unwrap(), 0, "read at once, offline");
    assert_eq!(coord.inbox(true, 0).unwrap().len(), 0);
    h.proxy.bring_up();
    let report = coord.sync(|_| {}).await.unwrap();
    assert_eq!((report.progress.pushed, report.rejected), (1, 0));
    let row = h
        .server_row(&h.a.id, "inbox_item", &inbox[0].id)
        .await
        .unwrap();
    assert!(row["read_at"].is_i64(), "{row}");
    h.assert_mirrors_server(&coord, &h.a.id, "coordinator@a.test")
        .await;
    coord.unregister_push().await.unwrap();
    let pushable: i64 = scalar(
        h,
        "SELECT COUNT(*) FROM push_devices WHERE user_id = $1",
        &h.a.coordinator,
    )
    .await;
    assert_eq!(pushable, 0);
}

/// A sync that brings nothing tells no data topic (the live loop syncs on every poke); one
/// that brings a session tells the sessions topic.
async fn a_topic_fires_only_when_its_rows_came(h: &Harness) {
    use mentorsync_protocol::command::{Command, ScheduleSession};
    use mentorsync_server::clock::Clock;
    let coord = h.client("coordinator@a.test").await;
    coord.sync(|_| {}).await.unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let seen = fired.clone();
    let _sub = coord.observe(Topic::Sessions, move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    coord.sync(|_| {}).await.unwrap();
    assert_eq!(fired.load(Ordering::SeqCst), 0, "nothing came, nobody told");
    let mentor = h.client("mentor@a.test").await;
    mentor.sync(|_| {}).await.unwrap();
    mentor
        .execute(Command::ScheduleSession(ScheduleSession {
            mentee_id: h.a.mentee.clone(),
            mentor_id: None,
            scheduled_at: h.clock.now_ms() + 86_400_000,
            duration_minutes: 30,
            meeting_link: None,
            session_id: None,
        }))
        .unwrap();
    mentor.sync(|_| {}).await.unwrap();
    coord.sync(|_| {}).await.unwrap();
    assert_eq!(fired.load(Ordering::SeqCst), 1, "the session came");
}

/// Synced dashboards follow the rows they summarise: a flag raised on one device changes
/// the coordinator's synced figures within 5 s, without the five-minute job.
async fn a_raised_flag_reaches_the_synced_coordinator_dashboard_within_seconds(h: &Harness) {
    use mentorsync_protocol::FlagSeverity;
    use mentorsync_protocol::command::{Command, RaiseFlag};
    use mentorsync_server::clock::Clock;
    use mentorsync_server::jobs::{Job, scheduler};
    scheduler::run(&h.db, Job::Dashboards, h.clock.now_ms())
        .await
        .unwrap();
    let _fresh =
        mentorsync_server::dashboard::fresh::spawn(&h.state, std::time::Duration::from_millis(200));
    let coord = h.client("coordinator@a.test").await;
    coord.sync(|_| {}).await.unwrap();
    let before = coord.coordinator_dashboard().unwrap().unwrap();
    let mentor = h.client("mentor@a.test").await;
    mentor.sync(|_| {}).await.unwrap();
    mentor
        .execute(Command::RaiseFlag(RaiseFlag {
            mentee_id: h.a.mentee.clone(),
            severity: FlagSeverity::High,
            reason: "missed two sessions".into(),
            flag_id: None,
        }))
        .unwrap();
    mentor.sync(|_| {}).await.unwrap();
    let raised = std::time::Instant::now();
    loop {
        coord.sync(|_| {}).await.unwrap();
        let now = coord.coordinator_dashboard().unwrap().unwrap();
        if now.open_flags == before.open_flags + 1 {
            assert!(now.overdue_items >= before.overdue_items);
            break;
        }
        assert!(
            raised.elapsed() < std::time::Duration::from_secs(5),
            "the synced figures did not change within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// While the event stream is open the loop waits for pokes (`Live`, no polling); a command
/// queued meanwhile is pushed at once; the stream lost, it says when it retries; stopped,
/// it says so.
async fn the_live_loop_waits_on_the_stream_and_pushes_at_once(h: &Harness) {
    use mentorsync_core::LiveState;
    let coord = h.client("coordinator@a.test").await;
    let (states_tx, mut states) = tokio::sync::mpsc::unbounded_channel::<LiveState>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let coord = coord.clone();
        tokio::spawn(async move {
            coord
                .run_with(
                    async {
                        let _ = stop_rx.await;
                    },
                    move |s| {
                        let _ = states_tx.send(s);
                    },
                )
                .await
        })
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut wait_for = async |want: fn(&LiveState) -> bool| loop {
        let s = tokio::time::timeout_at(deadline, states.recv())
            .await
            .expect("the state did not come within 20 s")
            .expect("the loop ended");
        if want(&s) {
            return s;
        }
    };
    wait_for(|s| *s == LiveState::Live).await;
    // Queued while live: pushed within seconds, not at the one-minute fallback.
    coord.pause_mentor(&h.a.mentor, "Leave", None).unwrap();
    let pushed_by = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while mentor_status(&coord, &h.a.mentor) != (MentorStatus::Paused, false) {
        assert!(
            tokio::time::Instant::now() < pushed_by,
            "not pushed within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    h.proxy.take_down();
    let retrying = wait_for(|s| matches!(s, LiveState::Retrying { .. })).await;
    let LiveState::Retrying { retry_at, .. } = retrying else {
        unreachable!()
    };
    assert!(retry_at > 0);
    h.proxy.bring_up();
    coord.wake();
    wait_for(|s| *s == LiveState::Live).await;
    stop_tx.send(()).unwrap();
    wait_for(|s| *s == LiveState::Stopped { error: None }).await;
    runner.await.unwrap().unwrap();
}

/// Provisioning commands are not predicted on the device, but a second one on the same
/// mentor must not carry the version from before the first: both apply, none conflicts.
async fn queued_admin_commands_on_one_row_all_apply(h: &Harness) {
    use mentorsync_protocol::command::{Command, RenewCertification, UpdateMentor};
    use mentorsync_server::clock::Clock;
    let admin = h.client("admin@a.test").await;
    admin.sync(|_| {}).await.unwrap();
    h.proxy.take_down();
    admin
        .execute(Command::UpdateMentor(UpdateMentor {
            mentor_id: h.a.mentor.clone(),
            capacity_weekly: Some(7),
            specialties: None,
            availability: None,
        }))
        .unwrap();
    let expires_at = h.clock.now_ms() + 365 * 86_400_000;
    admin
        .execute(Command::RenewCertification(RenewCertification {
            mentor_id: h.a.mentor.clone(),
            expires_at,
        }))
        .unwrap();
    h.proxy.bring_up();
    let report = admin.sync(|_| {}).await.unwrap();
    assert_eq!((report.progress.pushed, report.rejected), (2, 0));
    let mentor = admin
        .roster(&RosterFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| r.mentor.id == h.a.mentor)
        .unwrap()
        .mentor;
    assert_eq!(mentor.capacity_weekly, 7);
    assert_eq!(mentor.certification_expires_at, Some(expires_at));
}

async fn dashboards_reach_the_devices_that_may_see_them(h: &Harness) {
    use mentorsync_server::clock::Clock;
    use mentorsync_server::jobs::{Job, scheduler};
    let director = h.client("director@a.test").await;
    let mentor = h.client("mentor@a.test").await;
    director.sync(|_| {}).await.unwrap();
    assert!(
        director.cohort_dashboards().unwrap().is_empty(),
        "none computed yet"
    );

    scheduler::run(&h.db, Job::Dashboards, h.clock.now_ms())
        .await
        .unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let seen = fired.clone();
    let _sub = director.observe(Topic::Dashboards, move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    director.sync(|_| {}).await.unwrap();
    assert!(
        fired.load(Ordering::SeqCst) >= 1,
        "the dashboards listener fired"
    );
    let cohorts = director.cohort_dashboards().unwrap();
    assert_eq!(cohorts.len(), 1);
    assert_eq!(cohorts[0].cohort_id, h.a.cohort);
    // Two enrolled mentees, one with an active mentor.
    assert_eq!(
        (
            cohorts[0].mentor_coverage.numerator,
            cohorts[0].mentor_coverage.denominator
        ),
        (1, 2)
    );
    assert_eq!(cohorts[0].computed_at, h.clock.now_ms());
    assert!(
        director
            .mentor_dashboard(Some(&h.a.mentor))
            .unwrap()
            .is_none()
    );

    mentor.sync(|_| {}).await.unwrap();
    let mine = mentor
        .mentor_dashboard(None)
        .unwrap()
        .expect("own dashboard");
    assert_eq!(mine.capacity.label, "1/3 weekly slots");
    assert!(mentor.cohort_dashboards().unwrap().is_empty());
    assert_eq!(mentor.dashboards(None).unwrap().len(), 1);
    h.assert_mirrors_server(&director, &h.a.id, "director@a.test")
        .await;
}

async fn a_reassigned_mentee_moves_between_devices(h: &Harness) {
    use mentorsync_protocol::command::*;
    let old = h.client("mentor@a.test").await;
    let new = h.client("mentor2@a.test").await;
    let admin = h.client("admin@a.test").await;
    for c in [&old, &new, &admin] {
        c.sync(|_| {}).await.unwrap();
    }
    assert!(old.cockpit(&h.a.mentee).unwrap().is_some());
    assert!(new.cockpit(&h.a.mentee).unwrap().is_none());
    let assignment = old
        .cockpit(&h.a.mentee)
        .unwrap()
        .unwrap()
        .assignment
        .unwrap()
        .id;
    admin
        .execute(Command::EndAssignment(AssignmentRef {
            assignment_id: assignment,
        }))
        .unwrap();
    admin
        .execute(Command::AssignMentee(AssignMentee {
            mentor_id: h.a.other_mentor.clone(),
            mentee_id: h.a.mentee.clone(),
            assignment_id: None,
        }))
        .unwrap();
    admin.sync(|_| {}).await.unwrap();
    assert!(admin.rejected_commands().unwrap().is_empty());
    old.sync(|_| {}).await.unwrap();
    new.sync(|_| {}).await.unwrap();
    assert!(
        old.cockpit(&h.a.mentee).unwrap().is_none(),
        "the mentee left the old mentor's device"
    );
    let cockpit = new
        .cockpit(&h.a.mentee)
        .unwrap()
        .expect("the mentee arrived on the new mentor's device");
    assert_eq!(cockpit.assignment.unwrap().mentor_id, h.a.other_mentor);
    h.assert_mirrors_server(&old, &h.a.id, "mentor@a.test")
        .await;
    h.assert_mirrors_server(&new, &h.a.id, "mentor2@a.test")
        .await;
}

async fn offline_notes_edits_merge(h: &Harness) {
    use mentorsync_protocol::command::*;
    let mentor = h.client("mentor@a.test").await;
    let coord = h.client("coordinator@a.test").await;
    mentor.sync(|_| {}).await.unwrap();
    mentor
        .execute(Command::ScheduleSession(ScheduleSession {
            mentee_id: h.a.mentee.clone(),
            mentor_id: None,
            scheduled_at: mentorsync_tests::T0 + 86_400_000,
            duration_minutes: 45,
            meeting_link: None,
            session_id: None,
        }))
        .unwrap();
    mentor.sync(|_| {}).await.unwrap();
    coord.sync(|_| {}).await.unwrap();
    let session = mentor.sessions_between(0, i64::MAX).unwrap()[0].id.clone();
    assert_eq!(coord.session_notes(&session).unwrap().as_deref(), Some(""));

    // Both write notes offline, at the same time.
    mentor
        .edit_session_notes(&session, "Goals: ship the portfolio.")
        .unwrap();
    coord
        .edit_session_notes(&session, "Next check-in: Friday.")
        .unwrap();
    assert_eq!(
        mentor.session_notes(&session).unwrap().as_deref(),
        Some("Goals: ship the portfolio.")
    );
    mentor.sync(|_| {}).await.unwrap();
    coord.sync(|_| {}).await.unwrap();
    mentor.sync(|_| {}).await.unwrap();

    let server = h.server_row(&h.a.id, "session", &session).await.unwrap()["notes"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        server.contains("Goals: ship the portfolio.") && server.contains("Next check-in: Friday."),
        "{server}"
    );
    assert_eq!(
        mentor.session_notes(&session).unwrap().as_deref(),
        Some(server.as_str())
    );
    assert_eq!(
        coord.session_notes(&session).unwrap().as_deref(),
        Some(server.as_str())
    );
    assert!(
        mentor.rejected_commands().unwrap().is_empty()
            && coord.rejected_commands().unwrap().is_empty()
    );

    // Editing the merged text keeps converging.
    let edited = server.replace("Friday", "Monday");
    coord.edit_session_notes(&session, &edited).unwrap();
    mentor
        .edit_session_notes(&session, &format!("{server} Bring the CV."))
        .unwrap();
    coord.sync(|_| {}).await.unwrap();
    mentor.sync(|_| {}).await.unwrap();
    coord.sync(|_| {}).await.unwrap();
    let server = h.server_row(&h.a.id, "session", &session).await.unwrap()["notes"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        server.contains("Monday") && server.contains("Bring the CV.") && !server.contains("Friday"),
        "{server}"
    );
    h.assert_mirrors_server(&mentor, &h.a.id, "mentor@a.test")
        .await;
    h.assert_mirrors_server(&coord, &h.a.id, "coordinator@a.test")
        .await;
}

async fn a_running_client_follows_pokes(h: &Harness) {
    let coord = h.client("coordinator@a.test").await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let coord = coord.clone();
        tokio::spawn(async move {
            coord
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    // The first sync happens by itself.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while coord.sync_status().unwrap().last_sync_at.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loop never synced"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (changed_tx, mut changed_rx) = tokio::sync::mpsc::unbounded_channel();
    let _sub = coord.observe(Topic::Roster, move |_| {
        let _ = changed_tx.send(());
    });
    // Another device pauses the mentor; the running client learns it from a poke, well
    // before its one-minute fallback.
    let admin = h.client("admin@a.test").await;
    admin.sync(|_| {}).await.unwrap();
    admin.pause_mentor(&h.a.mentor, "Leave", None).unwrap();
    admin.sync(|_| {}).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if mentor_status(&coord, &h.a.mentor).0 == MentorStatus::Paused {
            break;
        }
        tokio::time::timeout_at(deadline, changed_rx.recv())
            .await
            .expect("no roster change within 20 s");
    }
    stop_tx.send(()).unwrap();
    runner.await.unwrap().unwrap();
}

fn mentor_status(c: &mentorsync_core::Client, id: &str) -> (MentorStatus, bool) {
    let r = c.roster(&RosterFilter::default()).unwrap();
    let item = r
        .iter()
        .find(|i| i.mentor.id == id)
        .unwrap_or_else(|| panic!("{id} not on the roster"));
    (item.mentor.status, item.pending)
}

async fn offline_pause_then_sync_is_applied(h: &Harness) {
    let c = h.client("coordinator@a.test").await;
    c.sync(|_| {}).await.unwrap();
    assert_eq!(
        mentor_status(&c, &h.a.mentor),
        (MentorStatus::Active, false)
    );
    let roster_events = Arc::new(AtomicUsize::new(0));
    let seen = roster_events.clone();
    let _sub = c.observe(Topic::Roster, move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });

    // On the bus with no signal.
    h.proxy.take_down();
    c.pause_mentor(&h.a.mentor, "Parental leave", None).unwrap();
    assert_eq!(
        mentor_status(&c, &h.a.mentor),
        (MentorStatus::Paused, true),
        "visible at once, marked pending"
    );
    assert!(
        roster_events.load(Ordering::SeqCst) >= 1,
        "the roster listener fired"
    );
    assert!(matches!(c.sync(|_| {}).await, Err(CoreError::Offline(_))));
    let status = c.sync_status().unwrap();
    assert!(!status.online);
    assert_eq!(status.pending, 1);

    // Signal, but the server is restarting behind its gateway: "not now" is offline too,
    // not a protocol error the app would report.
    h.proxy.bring_up();
    h.proxy.set_faults(mentorsync_tests::proxy::Faults {
        unavailable: 1.0,
        ..Default::default()
    });
    match c.sync(|_| {}).await {
        Err(CoreError::Offline(m)) => assert!(m.contains("503"), "{m}"),
        other => panic!("a 503 is offline, got {other:?}"),
    }
    assert_eq!(c.sync_status().unwrap().pending, 1);
    h.proxy.set_faults(Default::default());

    // Signal is back.
    h.proxy.bring_up();
    let report = c.sync(|_| {}).await.unwrap();
    assert_eq!((report.progress.pushed, report.rejected), (1, 0));
    assert_eq!(
        mentor_status(&c, &h.a.mentor),
        (MentorStatus::Paused, false)
    );
    assert_eq!(
        h.server_row(&h.a.id, "mentor", &h.a.mentor).await.unwrap()["status"],
        "paused"
    );
    let status = c.sync_status().unwrap();
    assert!(status.online && status.last_error.is_none() && status.pending == 0);
    h.assert_mirrors_server(&c, &h.a.id, "coordinator@a.test")
        .await;
}

async fn collision_with_deactivation_is_rejected_and_rolled_back(h: &Harness) {
    let coord = h.client("coordinator@a.test").await;
    coord.sync(|_| {}).await.unwrap();
    // The coordinator pauses offline (no sync yet)…
    coord.pause_mentor(&h.a.mentor, "Exams", None).unwrap();
    // …while the admin deactivates the same mentor, online.
    let admin = h.client("admin@a.test").await;
    admin.sync(|_| {}).await.unwrap();
    admin.deactivate_mentor(&h.a.mentor).unwrap();
    admin.sync(|_| {}).await.unwrap();

    let report = coord.sync(|_| {}).await.unwrap();
    assert_eq!(report.rejected, 1);
    let rejected = coord.rejected_commands().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].name, "pause_mentor");
    assert_eq!(rejected[0].code, "version_conflict", "{:?}", rejected[0]);
    assert!(
        rejected[0].reason.contains("changed by Admin"),
        "{}",
        rejected[0].reason
    );
    // Rolled back to the server's truth: inactive, no pause.
    assert_eq!(
        mentor_status(&coord, &h.a.mentor),
        (MentorStatus::Inactive, false)
    );
    let roster = coord.roster(&RosterFilter::default()).unwrap();
    assert!(roster.iter().all(|i| i.open_pause.is_none()));
    h.assert_mirrors_server(&coord, &h.a.id, "coordinator@a.test")
        .await;

    // A second offline pause is refused locally, with the server's words.
    match coord.pause_mentor(&h.a.mentor, "again", None) {
        Err(CoreError::Rejected { code, reason }) => {
            assert_eq!(code, "invalid_transition");
            assert_eq!(
                reason,
                "cannot pause a mentor that is inactive; only a mentor that is active can be"
            );
        }
        other => panic!("expected a local refusal, got {other:?}"),
    }
}

async fn interrupted_pull_resumes_from_the_last_staged_page(h: &Harness) {
    // How many pages a whole sync takes at one row a page.
    let probe = h.client("admin@a.test").await;
    probe.set_page_size(1);
    let total = probe.sync(|_| {}).await.unwrap().progress.pages;
    assert!(total > 6, "enough pages to interrupt ({total})");

    let path = h.dir.path().join("interrupted.db");
    let c = h.open_client(&path);
    c.login("admin@a.test", mentorsync_tests::PASSWORD)
        .await
        .unwrap();
    c.set_page_size(1);
    let proxy = &h.proxy;
    let result = c
        .sync(|p| {
            if p.pages == 2 {
                proxy.take_down();
            }
        })
        .await;
    assert!(matches!(result, Err(CoreError::Offline(_))), "{result:?}");
    // The page after the second is requested before the second is stored (the prefetch),
    // so it may have arrived whole before the cut; nothing further can have.
    let staged = c.sync_status().unwrap().sets[0].staged_pages;
    assert!(
        staged == 2 || staged == 3,
        "the pages before the cut, and at most the one in flight, are staged ({staged})"
    );
    assert!(
        c.roster(&RosterFilter::default()).unwrap().is_empty(),
        "half a round is never shown"
    );

    // The app is killed and restarted.
    drop(c);
    let c = h.open_client(&path);
    c.set_page_size(1);
    assert_eq!(
        c.sync_status().unwrap().sets[0].staged_pages,
        staged,
        "staged pages survive a restart"
    );
    assert!(c.roster(&RosterFilter::default()).unwrap().is_empty());
    h.proxy.bring_up();
    let resumed = c.sync(|_| {}).await.unwrap().progress.pages;
    assert_eq!(
        staged as u64 + resumed,
        total,
        "no staged page was downloaded twice"
    );
    assert_eq!(c.roster(&RosterFilter::default()).unwrap().len(), 2);
    h.assert_mirrors_server(&c, &h.a.id, "admin@a.test").await;
}

async fn busy_day_converges(h: &Harness) {
    let coord = h.client("coordinator@a.test").await;
    let mentor = h.client("mentor@a.test").await;
    let mentee = h.client("mentee@a.test").await;
    for c in [&coord, &mentor, &mentee] {
        c.sync(|_| {}).await.unwrap();
    }
    use mentorsync_protocol::command::*;
    mentee
        .execute(Command::SubmitMission(SubmitMission {
            mission_ref: "M-1".into(),
            title: "Portfolio".into(),
            content: "https://x.example/p".into(),
            submission_id: None,
        }))
        .unwrap();
    mentee.sync(|_| {}).await.unwrap();
    mentor.sync(|_| {}).await.unwrap();
    let queue = mentor.work_queue(None, 50).unwrap();
    assert_eq!(
        queue.len(),
        1,
        "the review item reached the mentor's device"
    );
    let item = queue[0].clone();
    // Offline, the mentor claims the item, reviews the submission and raises a flag.
    mentor
        .execute(Command::ClaimWorkItem(WorkItemRef {
            item_id: item.id.clone(),
        }))
        .unwrap();
    mentor
        .execute(Command::ReviewMission(ReviewMission {
            submission_id: item.reference_id.clone().unwrap(),
            decision: ReviewDecision::Approved,
            feedback: Some("Great".into()),
        }))
        .unwrap();
    assert!(
        mentor.work_queue(None, 50).unwrap().is_empty(),
        "the review finished the item locally"
    );
    mentor
        .execute(Command::RaiseFlag(RaiseFlag {
            mentee_id: h.a.mentee.clone(),
            severity: mentorsync_protocol::FlagSeverity::High,
            reason: "Quiet for weeks".into(),
            flag_id: None,
        }))
        .unwrap();
    // The coordinator pauses and resumes another mentor twice, offline.
    coord.pause_mentor(&h.a.mentor, "one", None).unwrap();
    coord.resume_mentor(&h.a.mentor).unwrap();
    coord.pause_mentor(&h.a.mentor, "two", None).unwrap();
    assert_eq!(coord.pending_commands().unwrap().len(), 3);
    let r = mentor.sync(|_| {}).await.unwrap();
    assert_eq!(r.rejected, 0, "{:?}", mentor.rejected_commands().unwrap());
    let r = coord.sync(|_| {}).await.unwrap();
    assert_eq!(r.rejected, 0, "{:?}", coord.rejected_commands().unwrap());
    mentee.sync(|_| {}).await.unwrap();
    mentor.sync(|_| {}).await.unwrap();
    let roster = coord.roster(&RosterFilter::default()).unwrap();
    let mia = roster.iter().find(|i| i.mentor.id == h.a.mentor).unwrap();
    assert_eq!(mia.mentor.status, MentorStatus::Paused);
    assert_eq!(
        mia.open_flags, 1,
        "the mentor's flag reached the coordinator"
    );
    h.assert_mirrors_server(&coord, &h.a.id, "coordinator@a.test")
        .await;
    h.assert_mirrors_server(&mentor, &h.a.id, "mentor@a.test")
        .await;
    h.assert_mirrors_server(&mentee, &h.a.id, "mentee@a.test")
        .await;
}

async fn refreshes_tokens_and_refuses_locally(h: &Harness) {
    let c = h.client("coordinator@a.test").await;
    c.sync(|_| {}).await.unwrap();
    // Refusals that need no server.
    match c.resume_mentor(&h.a.mentor) {
        Err(CoreError::Rejected { code, .. }) => assert_eq!(code, "invalid_transition"),
        other => panic!("{other:?}"),
    }
    match c.execute(mentorsync_protocol::Command::ReactivateMentor(
        mentorsync_protocol::command::MentorRef {
            mentor_id: h.a.mentor.clone(),
        },
    )) {
        Err(CoreError::Rejected { code, reason }) => {
            assert_eq!(code, "forbidden");
            assert_eq!(reason, "a coordinator may not reactivate mentor");
        }
        other => panic!("{other:?}"),
    }
    assert!(c.pending_commands().unwrap().is_empty());
    // Twenty minutes later the access token is dead; the client refreshes by itself.
    h.clock.advance(20 * 60 * 1000);
    c.pause_mentor(&h.a.mentor, "x", None).unwrap();
    c.sync(|_| {}).await.unwrap();
    assert!(c.pending_commands().unwrap().is_empty());
    // Two months offline: the refresh token has expired too; sign in again.
    h.clock.advance(61 * 86_400_000);
    assert!(matches!(
        c.sync(|_| {}).await,
        Err(CoreError::Unauthorized(_))
    ));
}

/// A coordinator queues a pause offline; someone else signs in on the same phone. The
/// switch is refused, naming how many commands wait and whose; only an explicit discard
/// (which says how many it dropped) lets the other person in. Signing out is refused the
/// same way.
async fn switching_accounts_never_loses_queued_commands_silently(h: &Harness) {
    let c = h.client("coordinator@a.test").await;
    c.sync(|_| {}).await.unwrap();
    // Queued, not synced. (No proxy outage: a connection the proxy cut would make the
    // next request fail as offline, at random, before the switch is even considered.)
    c.pause_mentor(&h.a.mentor, "Parental leave", None).unwrap();
    match c.login("admin@a.test", mentorsync_tests::PASSWORD).await {
        Err(CoreError::PendingCommands { count, owner }) => {
            assert_eq!((count, owner.as_str()), (1, "coordinator@a.test"));
        }
        other => panic!("the switch must be refused: {other:?}"),
    }
    assert_eq!(c.me().unwrap().unwrap().email, "coordinator@a.test");
    assert_eq!(c.sync_status().unwrap().pending, 1, "nothing was lost");
    assert!(matches!(
        c.logout().await,
        Err(CoreError::PendingCommands { count: 1, .. })
    ));
    assert_eq!(c.discard_pending().unwrap(), 1);
    assert_eq!(
        mentor_status(&c, &h.a.mentor),
        (MentorStatus::Active, false),
        "the view is the server's again"
    );
    let me = c
        .login("admin@a.test", mentorsync_tests::PASSWORD)
        .await
        .unwrap();
    assert_eq!(me.email, "admin@a.test");
    assert!(c.roster(&RosterFilter::default()).unwrap().is_empty());
    c.sync(|_| {}).await.unwrap();
    assert_eq!(
        mentor_status(&c, &h.a.mentor),
        (MentorStatus::Active, false),
        "the discarded pause never reached the server"
    );
}

/// Tokens kept in a store the app provides (the Keychain, the Keystore): the device
/// database never holds them, refreshing writes the new pair there, and signing out
/// empties it and clears the person's rows from the device.
async fn tokens_live_in_the_apps_store_and_logout_clears_the_device(h: &Harness) {
    use mentorsync_core::{ClientOptions, TokenStore, Tokens};
    #[derive(Default)]
    struct Keychain(std::sync::Mutex<Option<Tokens>>);
    impl TokenStore for Keychain {
        fn load(&self) -> mentorsync_core::Result<Option<Tokens>> {
            Ok(self.0.lock().unwrap().clone())
        }
        fn save(&self, tokens: Option<&Tokens>) -> mentorsync_core::Result<()> {
            *self.0.lock().unwrap() = tokens.cloned();
            Ok(())
        }
    }
    let keychain = Arc::new(Keychain::default());
    let path = h.dir.path().join("keychain-phone.db");
    let options = ClientOptions {
        tokens: Some(keychain.clone()),
        allow_insecure_http: false,
    };
    let c = mentorsync_core::Client::open_with(&path, &h.proxy.url(), options).unwrap();
    c.login("coordinator@a.test", mentorsync_tests::PASSWORD)
        .await
        .unwrap();
    let first = keychain
        .0
        .lock()
        .unwrap()
        .clone()
        .expect("tokens in the app's store");
    c.sync(|_| {}).await.unwrap();
    assert!(!c.roster(&RosterFilter::default()).unwrap().is_empty());
    let db = rusqlite::Connection::open(&path).unwrap();
    let in_db: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM meta WHERE key IN ('access_token', 'refresh_token')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_db, 0, "the device database holds no token");

    // A dead access token is refreshed through the store.
    *keychain.0.lock().unwrap() = Some(Tokens {
        access: "expired".into(),
        refresh: first.refresh.clone(),
    });
    c.sync(|_| {}).await.unwrap();
    let refreshed = keychain.0.lock().unwrap().clone().unwrap();
    assert_ne!(
        refreshed.refresh, first.refresh,
        "the new pair went to the store"
    );

    // The session ended on the server (signed out elsewhere): the device says so.
    let other = mentorsync_core::Client::open_with(
        &h.dir.path().join("keychain-other.db"),
        &h.proxy.url(),
        mentorsync_core::ClientOptions {
            tokens: Some(Arc::new(Keychain(std::sync::Mutex::new(Some(
                refreshed.clone(),
            ))))),
            allow_insecure_http: false,
        },
    )
    .unwrap();
    other.logout().await.unwrap();
    *keychain.0.lock().unwrap() = Some(Tokens {
        access: "expired".into(),
        refresh: refreshed.refresh.clone(),
    });
    assert!(matches!(
        c.sync(|_| {}).await,
        Err(CoreError::Unauthorized(_))
    ));
    assert!(
        !c.sync_status().unwrap().signed_in,
        "a revoked session reads as signed out"
    );
    assert!(
        !c.roster(&RosterFilter::default()).unwrap().is_empty(),
        "rows stay for the next sign-in"
    );
    c.login("coordinator@a.test", mentorsync_tests::PASSWORD)
        .await
        .unwrap();
    c.pause_mentor(&h.a.mentor, "exams", None).unwrap();
    c.sync(|_| {}).await.unwrap();
    let journal = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(journal(&db), 1, "the acknowledged pause is journaled");

    c.logout().await.unwrap();
    assert_eq!(
        journal(&db),
        0,
        "the journal is this person's and this device id's: it goes with them"
    );
    assert!(keychain.0.lock().unwrap().is_none());
    assert!(
        c.roster(&RosterFilter::default()).unwrap().is_empty(),
        "rows cleared"
    );
    assert!(!c.sync_status().unwrap().signed_in);
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM server_rows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

/// A device whose clock is `skew` ms off the server's, signed in as `email`.
async fn skewed_client(h: &Harness, email: &str, skew: i64) -> mentorsync_core::Client {
    let clock = h.clock.clone();
    let path = h
        .dir
        .path()
        .join(format!("skewed-{}.db", uuid::Uuid::new_v4().simple()));
    let c = mentorsync_core::Client::open_with_clock(
        &path,
        &h.proxy.url(),
        Box::new(move || mentorsync_server::clock::Clock::now_ms(&*clock) + skew),
    )
    .unwrap();
    c.login(email, mentorsync_tests::PASSWORD).await.unwrap();
    c
}

async fn offline_times_mean_what_the_person_meant(h: &Harness) {
    use mentorsync_server::clock::Clock;
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    // A phone three hours ahead pauses a mentor "for two hours" on the bus; it syncs half
    // an hour later (offline is the clock moving between the tap and the sync; a proxy
    // outage would add nothing but a cut connection). The pause ends two hours after the
    // tap, on the server's clock: not five hours (the phone's clock taken as the
    // server's), not refused.
    let ahead = skewed_client(h, "coordinator@a.test", 3 * HOUR).await;
    ahead.sync(|_| {}).await.unwrap();
    let tapped = h.clock.now_ms();
    ahead
        .pause_mentor(&h.a.mentor, "two hours", Some(tapped + 3 * HOUR + 2 * HOUR))
        .unwrap();
    h.clock.advance(30 * MIN);
    let report = ahead.sync(|_| {}).await.unwrap();
    assert_eq!((report.progress.pushed, report.rejected), (1, 0));
    let ends_at: i64 = scalar(
        h,
        "SELECT ends_at FROM pauses WHERE mentor_id = $1 AND status = 'active'",
        &h.a.mentor,
    )
    .await;
    assert_eq!(ends_at, tapped + 2 * HOUR, "two hours from the tap");

    // Resumed; now a phone an hour behind pauses them "for one hour" and stays offline for
    // two: the hour is over when the command arrives. It is refused with a reason that
    // says so, and the mentor stays active.
    let r = ahead.resume_mentor(&h.a.mentor);
    assert!(r.is_ok(), "{r:?}");
    ahead.sync(|_| {}).await.unwrap();
    let behind = skewed_client(h, "coordinator@a.test", -HOUR).await;
    behind.sync(|_| {}).await.unwrap();
    let device_now = h.clock.now_ms() - HOUR;
    behind
        .pause_mentor(&h.a.mentor, "one hour", Some(device_now + HOUR))
        .unwrap();
    h.clock.advance(2 * HOUR);
    let report = behind.sync(|_| {}).await.unwrap();
    assert_eq!(report.rejected, 1);
    let rejected = behind.rejected_commands().unwrap();
    let last = rejected.last().unwrap();
    assert_eq!(last.code, "window_passed", "{last:?}");
    assert!(last.reason.contains("waited to be sent"), "{}", last.reason);
    let status: String = scalar(
        h,
        "SELECT status FROM mentor_profiles WHERE user_id = $1",
        &h.a.mentor,
    )
    .await;
    assert_eq!(status, "active");

    // A session booked offline for "in 30 minutes" that arrives two hours later did not
    // happen: refused the same way, never scheduled in the past.
    let mentor = skewed_client(h, "mentor@a.test", 0).await;
    mentor.sync(|_| {}).await.unwrap();
    mentor
        .execute(mentorsync_protocol::Command::ScheduleSession(
            mentorsync_protocol::command::ScheduleSession {
                mentee_id: h.a.mentee.clone(),
                mentor_id: None,
                scheduled_at: h.clock.now_ms() + 30 * MIN,
                duration_minutes: 45,
                meeting_link: None,
                session_id: None,
            },
        ))
        .unwrap();
    h.clock.advance(2 * HOUR);
    let report = mentor.sync(|_| {}).await.unwrap();
    assert_eq!(report.rejected, 1);
    assert_eq!(
        mentor.rejected_commands().unwrap().last().unwrap().code,
        "window_passed"
    );
}

async fn scalar<T: mentorsync_server::db::FromDb>(h: &Harness, sql: &'static str, id: &str) -> T {
    let mut tx = h.db.read().await.unwrap();
    tx.fetch_one(mentorsync_server::db::q(sql).bind(id))
        .await
        .unwrap()
}
