//! Push to phones: every device a recipient registered (`PUT /api/v1/devices/{id}/push`)
//! gets the notification as an alert, through Firebase Cloud Messaging (Android) or Apple's
//! APNs (iOS), per the recipient's preferences and quiet hours (the dispatcher decides who;
//! `super::preferences`). A token the platform says is gone is forgotten.

pub mod apns;
pub mod fcm;

use super::channel::{Channel, ChannelError, Message, Personal};
use crate::db::{Db, DbRow, FromDb, q};
use futures::future::BoxFuture;
use mentorsync_protocol::PushPlatform;

pub use apns::Apns;
pub use fcm::Fcm;

/// What one push says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The title line ("Pause requested").
    pub title: String,
    /// The message.
    pub body: String,
    /// The notification's kind, row and id, for the app to open the right screen.
    pub kind: String,
    /// The kind of row it is about.
    pub entity: String,
    /// That row's id.
    pub entity_id: String,
    /// The notification id (receivers drop repeats by it).
    pub notification_id: String,
}

impl Alert {
    fn of(m: &Message) -> Alert {
        let words = m.kind.replace('_', " ");
        let mut chars = words.chars();
        let title = chars
            .next()
            .map(|c| format!("{}{}", c.to_uppercase(), chars.as_str()))
            .unwrap_or_default();
        Alert {
            title,
            body: m.message.clone(),
            kind: m.kind.clone(),
            entity: m.entity.clone(),
            entity_id: m.entity_id.clone(),
            notification_id: m.notification_id.clone(),
        }
    }
}

/// What a platform said about one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Accepted for delivery.
    Accepted,
    /// The token no longer reaches a device (app removed, token rotated): forget it.
    Gone,
}

struct Device {
    client_id: String,
    platform: PushPlatform,
    token: String,
}

impl FromDb for Device {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Device {
            client_id: r.get("client_id")?,
            platform: r.parse("platform")?,
            token: r.get("token")?,
        })
    }
}

/// The push channel over the platforms configured.
pub struct PushChannel {
    db: Db,
    fcm: Option<Fcm>,
    apns: Option<Apns>,
}

impl std::fmt::Debug for PushChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushChannel")
            .field("fcm", &self.fcm.is_some())
            .field("apns", &self.apns.is_some())
            .finish_non_exhaustive()
    }
}

impl PushChannel {
    /// The channel's name.
    pub const NAME: &'static str = "push";

    /// A channel that reaches the devices of the platforms given.
    pub fn new(db: Db, fcm: Option<Fcm>, apns: Option<Apns>) -> Self {
        PushChannel { db, fcm, apns }
    }

    async fn devices(&self, user_id: &str) -> Result<Vec<Device>, sqlx::Error> {
        let mut tx = self.db.read().await?;
        let devices = tx
            .fetch_all(
                q("SELECT client_id, platform, token FROM push_devices WHERE user_id = $1 ORDER BY client_id")
                    .bind(user_id),
            )
            .await?;
        tx.commit().await?;
        Ok(devices)
    }

    async fn forget(&self, client_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.write().await?;
        tx.execute(q("DELETE FROM push_devices WHERE client_id = $1").bind(client_id))
            .await?;
        tx.commit().await
    }
}

impl Channel for PushChannel {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn personal(&self) -> Option<Personal> {
        Some(Personal::Push)
    }

    fn deliver<'a>(&'a self, m: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let db = |e: sqlx::Error| ChannelError(format!("database: {e}"));
            let alert = Alert::of(m);
            let mut failed = Vec::new();
            for d in self.devices(&m.recipient_id).await.map_err(db)? {
                let sent = match (d.platform, &self.fcm, &self.apns) {
                    (PushPlatform::Fcm, Some(fcm), _) => fcm.send(&d.token, &alert).await,
                    (PushPlatform::Apns, _, Some(apns)) => apns.send(&d.token, &alert).await,
                    // That platform is not configured on this server: nothing to do.
                    _ => continue,
                };
                match sent {
                    Ok(Sent::Accepted) => {}
                    Ok(Sent::Gone) => self.forget(&d.client_id).await.map_err(db)?,
                    Err(e) => failed.push(e.0),
                }
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(ChannelError(failed.join("; ")))
            }
        })
    }
}
