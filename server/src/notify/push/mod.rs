//! Push to phones: every device a recipient registered (`PUT /api/v1/devices/{id}/push`)
//! gets the notification as an alert, through Firebase Cloud Messaging (Android) or Apple's
//! APNs (iOS), per the recipient's preferences and quiet hours (the dispatcher decides who;
//! `super::preferences`). A token the platform says is gone is forgotten. Devices are also
//! woken, data only, when their person's data changes ([`wake`]).

pub mod apns;
pub mod fcm;
pub mod wake;

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

/// What one push carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push<'a> {
    /// A notification the person sees.
    Alert(&'a Alert),
    /// Data only, shown to nobody: "your data changed, sync now" for a backgrounded app.
    SyncNow,
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
                q("SELECT p.client_id, p.platform, p.token FROM push_devices p JOIN users u ON u.id = p.user_id \
                   WHERE p.user_id = $1 AND u.status = 'active' ORDER BY p.client_id")
                    .bind(user_id),
            )
            .await?;
        tx.commit().await?;
        Ok(devices)
    }

    /// Sends one push to one device; forgets the device when its token is gone. The inner
    /// error is the platform's (retry later).
    async fn send(
        &self,
        d: &Device,
        push: Push<'_>,
    ) -> Result<Result<(), ChannelError>, sqlx::Error> {
        let sent = match (d.platform, &self.fcm, &self.apns) {
            (PushPlatform::Fcm, Some(fcm), _) => fcm.send(&d.token, push).await,
            (PushPlatform::Apns, _, Some(apns)) => apns.send(&d.token, push).await,
            // That platform is not configured on this server: nothing to do.
            _ => return Ok(Ok(())),
        };
        Ok(match sent {
            Ok(Sent::Accepted) => Ok(()),
            Ok(Sent::Gone) => {
                self.forget(&d.client_id).await?;
                Ok(())
            }
            Err(e) => Err(e),
        })
    }

    /// Wakes every device of `users` that was not woken within `interval`: one data-only
    /// push each, claimed by compare-and-set so that instances hearing the same commit send
    /// it once. Returns how many were sent.
    pub async fn wake(
        &self,
        users: &[String],
        now: i64,
        interval_ms: i64,
    ) -> Result<usize, sqlx::Error> {
        let mut sent = 0;
        for user in users {
            for d in self.devices(user).await? {
                let mut tx = self.db.write().await?;
                let claimed = tx
                    .execute(
                        q(
                            "UPDATE push_devices SET woken_at = $1 WHERE client_id = $2 \
                           AND (woken_at IS NULL OR woken_at <= $3)",
                        )
                        .bind(now)
                        .bind(d.client_id.as_str())
                        .bind(now - interval_ms),
                    )
                    .await?;
                tx.commit().await?;
                if claimed == 1 {
                    match self.send(&d, Push::SyncNow).await? {
                        Ok(()) => sent += 1,
                        Err(e) => {
                            tracing::debug!(device = %d.client_id, error = %e.0, "sync-now push failed")
                        }
                    }
                }
            }
        }
        Ok(sent)
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
                if let Err(e) = self.send(&d, Push::Alert(&alert)).await.map_err(db)? {
                    failed.push(e.0);
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
