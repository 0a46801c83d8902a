//! Nightly reconciliation: status vs. pauses vs. audit log. Every discrepancy becomes a
//! finding shown on coordinator and admin dashboards; nothing is changed, because a
//! mismatch means something bypassed the commands and a person must decide which side is
//! right.

use super::findings::{self, Found, Recorded};
use crate::db::{Db, q};
use serde_json::json;

/// A mentor marked paused without an active pause.
pub const PAUSED_WITHOUT_PAUSE: &str = "paused_without_active_pause";
/// An active pause whose mentor is not paused.
pub const PAUSE_NOT_APPLIED: &str = "active_pause_but_not_paused";
/// A row whose status is not the one its last audit row moved it to.
pub const STATUS_DIFFERS: &str = "status_differs_from_audit";
/// A row with no audit row at all.
pub const NO_AUDIT: &str = "missing_audit_trail";
/// Every kind this check records.
pub const KINDS: [&str; 4] = [
    PAUSED_WITHOUT_PAUSE,
    PAUSE_NOT_APPLIED,
    STATUS_DIFFERS,
    NO_AUDIT,
];

/// Audited entities: (audit name, table, key column, mentor expression).
const AUDITED: [(&str, &str, &str, &str); 8] = [
    ("mentor", "mentor_profiles", "user_id", "t.user_id"),
    ("pause", "pauses", "id", "t.mentor_id"),
    (
        "coordinator_assignment",
        "coordinator_assignments",
        "id",
        "t.mentor_id",
    ),
    (
        "mentee_assignment",
        "mentee_assignments",
        "id",
        "t.mentor_id",
    ),
    ("session", "sessions", "id", "t.mentor_id"),
    ("submission", "mission_submissions", "id", "t.mentor_id"),
    ("work_item", "work_items", "id", "t.mentor_id"),
    (
        "flag",
        "flags",
        "id",
        "(SELECT a.mentor_id FROM mentee_assignments a WHERE a.mentee_id = t.mentee_id AND a.status = 'active')",
    ),
];

/// Checks a chapter and records what it finds.
pub async fn run(db: &Db, chapter_id: &str, now: i64) -> Result<Recorded, sqlx::Error> {
    let mut found = Vec::new();
    let mut tx = db.read().await?;
    let paused: Vec<String> = tx
        .fetch_all(
            q("SELECT m.user_id FROM mentor_profiles m WHERE m.chapter_id = $1 AND m.status = 'paused' \
               AND NOT EXISTS (SELECT 1 FROM pauses p WHERE p.mentor_id = m.user_id AND p.status = 'active') \
               ORDER BY m.user_id")
            .bind(chapter_id),
        )
        .await?;
    found.extend(paused.into_iter().map(|m| Found {
        kind: PAUSED_WITHOUT_PAUSE,
        entity: "mentor",
        entity_id: m.clone(),
        mentor_id: Some(m),
        details: json!({"mentor_status": "paused", "active_pause": null}),
    }));
    let unapplied: Vec<(String, String, String)> = tx
        .fetch_all(
            q("SELECT p.id, p.mentor_id, m.status FROM pauses p JOIN mentor_profiles m ON m.user_id = p.mentor_id \
               WHERE p.chapter_id = $1 AND p.status = 'active' AND m.status <> 'paused' ORDER BY p.id")
            .bind(chapter_id),
        )
        .await?;
    found.extend(unapplied.into_iter().map(|(p, m, status)| Found {
        kind: PAUSE_NOT_APPLIED,
        entity: "pause",
        entity_id: p,
        mentor_id: Some(m),
        details: json!({"pause_status": "active", "mentor_status": status}),
    }));
    for (entity, table, key, mentor) in AUDITED {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = tx
            .fetch_all(
                q(format!(
                    "SELECT t.{key}, t.status, (SELECT a.to_status FROM audit_log a WHERE a.entity = $2 \
                     AND a.entity_id = t.{key} ORDER BY a.id DESC LIMIT 1), {mentor} FROM {table} t \
                     WHERE t.chapter_id = $1 ORDER BY t.{key}"
                ))
                .bind(chapter_id)
                .bind(entity),
            )
            .await?;
        for (id, status, audited, mentor_id) in rows {
            let (kind, details) = match audited {
                None => (NO_AUDIT, json!({"status": status, "audited_status": null})),
                Some(a) if a != status => (
                    STATUS_DIFFERS,
                    json!({"status": status, "audited_status": a}),
                ),
                Some(_) => continue,
            };
            found.push(Found {
                kind,
                entity,
                entity_id: id,
                mentor_id,
                details,
            });
        }
    }
    tx.rollback().await?;
    if !found.is_empty() {
        tracing::warn!(
            chapter = chapter_id,
            discrepancies = found.len(),
            "reconciliation found discrepancies"
        );
    }
    findings::record(db, chapter_id, &KINDS, now, &found).await
}
