//! A server restored from a backup, on both backends: its devices find it behind them,
//! take a fresh snapshot, and submit again the acknowledged commands it forgot, so that
//! it ends with every one of them, each applied once (docs/sync-protocol.md, "A restored
//! server").
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_protocol::Command;
use mentorsync_protocol::command::RaiseFlag;
use mentorsync_protocol::{FlagSeverity, MentorStatus};
use mentorsync_server::db::q;
use mentorsync_tests::{Harness, both_backends};

both_backends!(
    a_restored_server_gets_back_every_acknowledged_command,
    a_restore_without_a_new_epoch_is_caught_while_the_device_is_ahead
);

async fn count(h: &Harness, sql: &'static str, id: &str) -> i64 {
    let mut tx = h.db.read().await.unwrap();
    tx.fetch_one(q(sql).bind(id)).await.unwrap()
}

fn flag(mentee: &str, reason: &str) -> (Command, String) {
    let id = uuid::Uuid::new_v4().to_string();
    (
        Command::RaiseFlag(RaiseFlag {
            mentee_id: mentee.to_owned(),
            severity: FlagSeverity::Medium,
            reason: reason.to_owned(),
            flag_id: Some(id.clone()),
        }),
        id,
    )
}

async fn a_restored_server_gets_back_every_acknowledged_command(h: &mut Harness) {
    let a = h.a.clone();
    let one = h.client("coordinator@a.test").await;
    let two = h.client("coordinator2@a.test").await;
    let admin = h.client("admin@a.test").await;
    for c in [&one, &two, &admin] {
        c.sync(|_| {}).await.unwrap();
    }
    // Work before the backup.
    let (cmd, before) = flag(&a.mentee, "before the backup");
    one.execute(cmd).unwrap();
    one.sync(|_| {}).await.unwrap();

    let backup = h.backup().await;

    // Work the backup will not hold, acknowledged to both devices.
    one.pause_mentor(&a.mentor, "exams", None).unwrap();
    let (cmd, after) = flag(&a.mentee, "after the backup");
    one.execute(cmd).unwrap();
    two.pause_mentor(&a.other_mentor, "leave", None).unwrap();
    for c in [&one, &two] {
        let report = c.sync(|_| {}).await.unwrap();
        assert_eq!(report.rejected, 0);
        assert_eq!(c.sync_status().unwrap().pending, 0, "acknowledged");
    }
    // One more, queued on the first device but not yet sent.
    let (cmd, queued) = flag(&a.mentee, "queued offline");
    one.execute(cmd).unwrap();

    h.restore(&backup, true).await;
    assert_eq!(
        count(h, "SELECT COUNT(*) FROM flags WHERE id = $1", &after).await,
        0,
        "the restored server lost what came after the backup"
    );
    // The restored server moves on before the devices come back: its new changes take
    // change-log positions the devices had already been given.
    admin.sync(|_| {}).await.unwrap();
    let (cmd, admins) = flag(&a.mentee, "the admin, after the restore");
    admin.execute(cmd).unwrap();
    admin.sync(|_| {}).await.unwrap();

    // The devices come back: each finds the server behind it and heals.
    for c in [&one, &two] {
        let report = c.sync(|_| {}).await.unwrap();
        assert_eq!(report.rejected, 0, "{:?}", c.rejected_commands().unwrap());
        assert_eq!(c.sync_status().unwrap().pending, 0);
    }
    for id in [&before, &after, &queued, &admins] {
        assert_eq!(
            count(h, "SELECT COUNT(*) FROM flags WHERE id = $1", id).await,
            1,
            "flag {id} is on the server once"
        );
    }
    for (mentor, who) in [
        (&a.mentor, &a.coordinator),
        (&a.other_mentor, &a.other_coordinator),
    ] {
        let status = h.server_row(&a.id, "mentor", mentor).await.unwrap()["status"].clone();
        assert_eq!(
            status,
            MentorStatus::Paused.as_str(),
            "{who}'s pause is back"
        );
        assert_eq!(
            count(
                h,
                "SELECT COUNT(*) FROM audit_log WHERE entity_id = $1 AND action = 'pause'",
                mentor
            )
            .await,
            1,
            "applied once"
        );
    }
    // Every device holds exactly the server's rows, as a new device would.
    h.assert_mirrors_server(&one, &a.id, "coordinator@a.test")
        .await;
    h.assert_mirrors_server(&two, &a.id, "coordinator2@a.test")
        .await;
    admin.sync(|_| {}).await.unwrap();
    h.assert_mirrors_server(&admin, &a.id, "admin@a.test").await;
}

/// The operator forgot `mentorsync-server restored`: the epoch is the old one, but the
/// device's cursor is beyond the newest change the restored database holds, and that
/// alone starts a fresh snapshot (docs/operations.md).
async fn a_restore_without_a_new_epoch_is_caught_while_the_device_is_ahead(h: &mut Harness) {
    let a = h.a.clone();
    let one = h.client("coordinator@a.test").await;
    one.sync(|_| {}).await.unwrap();
    let backup = h.backup().await;
    one.pause_mentor(&a.mentor, "exams", None).unwrap();
    one.sync(|_| {}).await.unwrap();
    // A flag the device received after the backup from someone who will not resubmit it
    // (the admin's phone is not seen again): the restored server does not have it, so the
    // device must drop it.
    let admin = h.client("admin@a.test").await;
    admin.sync(|_| {}).await.unwrap();
    let (cmd, lost) = flag(&a.mentee, "after the backup, never resubmitted");
    admin.execute(cmd).unwrap();
    admin.sync(|_| {}).await.unwrap();
    one.sync(|_| {}).await.unwrap();

    h.restore(&backup, false).await;
    let report = one.sync(|_| {}).await.unwrap();
    assert_eq!(report.rejected, 0);
    let status = h.server_row(&a.id, "mentor", &a.mentor).await.unwrap()["status"].clone();
    assert_eq!(status, MentorStatus::Paused.as_str(), "the pause is back");
    assert_eq!(
        count(h, "SELECT COUNT(*) FROM flags WHERE id = $1", &lost).await,
        0
    );
    h.assert_mirrors_server(&one, &a.id, "coordinator@a.test")
        .await;
}
