//! The in-app inbox: every notification lands, once, in the inbox of each person it was
//! dispatched to, as a synced row only they receive (scope `user:<recipient>`), so their
//! phones show it offline and read or dismiss it there.
//!
//! Written when the recipients are resolved, before any channel is called: an inbox needs
//! no network, and a push that wakes a phone then finds the item on its next pull.

use crate::db::{ChangeRow, Db, Scope, q};
use mentorsync_protocol::command::Entity;

use super::channel::Message;

/// Puts the message in its recipient's inbox unless it is there already (a retried
/// dispatch): one row per notification and recipient, and one change-log entry for it.
pub async fn deliver(db: &Db, now: i64, m: &Message) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = tx
        .execute(
            q("INSERT INTO inbox_items (id, chapter_id, recipient_id, notification_id, kind, entity, entity_id, \
               mentor_id, message, created_at, version, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11) ON CONFLICT DO NOTHING")
            .bind(id.as_str())
            .bind(m.chapter_id.as_str())
            .bind(m.recipient_id.as_str())
            .bind(m.notification_id.as_str())
            .bind(m.kind.as_str())
            .bind(m.entity.as_str())
            .bind(m.entity_id.as_str())
            .bind(m.mentor_id.clone())
            .bind(m.message.as_str())
            .bind(m.created_at)
            .bind(now),
        )
        .await?;
    if inserted == 1 {
        tx.record_change(ChangeRow {
            chapter_id: m.chapter_id.clone(),
            entity: Entity::InboxItem.as_str(),
            entity_id: id,
            remove: false,
            version: 1,
            scope: Scope {
                recipient_id: Some(m.recipient_id.clone()),
                ..Scope::default()
            },
            at: now,
        });
    }
    tx.commit().await
}
