//! The dispatcher: claims due notifications, resolves each one's recipients now, and
//! delivers on every channel at most once.
//!
//! At most once per channel and recipient: the delivery row is claimed ('sending') and
//! committed before the channel is called. A channel error marks it 'failed', and the
//! notification is retried later with exponential backoff; a crash between the claim and
//! the outcome leaves 'sending', which is never sent again. Several dispatchers (server
//! instances) may run at once: each notification is leased by a compare-and-set on
//! `locked_until`, and each delivery row is claimed by a compare-and-set on its status.

use super::channel::{Channel, Message, Personal};
use super::preferences::{self, Reach};
use super::recipients::{self, Resolved};
use crate::db::{Db, DbRow, FromDb, q};
use std::sync::Arc;

/// What one dispatch pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Notifications delivered on every channel to every recipient.
    pub delivered: u64,
    /// Notifications with a failed delivery, scheduled to be tried again.
    pub retrying: u64,
    /// Notifications that reached nobody (no coordinator, no admin, no director).
    pub undeliverable: u64,
    /// Notifications given up after the last attempt.
    pub failed: u64,
    /// Notifications some recipient's quiet hours hold back from a personal channel (the
    /// rest went out); they are tried again when those hours end.
    pub held: u64,
}

/// Delivers the outbox through a fixed set of channels.
#[derive(Clone)]
pub struct Dispatcher {
    channels: Vec<Arc<dyn Channel>>,
    /// Attempts before a notification is marked failed.
    pub max_attempts: i64,
    /// The first retry waits this long; each further one twice as long.
    pub base_backoff_ms: i64,
    /// The longest wait between attempts.
    pub max_backoff_ms: i64,
    /// How long a claimed notification is reserved for this dispatcher.
    pub lease_ms: i64,
    /// Notifications claimed per pass.
    pub batch: i64,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.channels.iter().map(|c| c.name()).collect();
        f.debug_struct("Dispatcher")
            .field("channels", &names)
            .finish_non_exhaustive()
    }
}

struct Pending {
    id: String,
    chapter_id: String,
    kind: String,
    audience: String,
    mentor_id: Option<String>,
    mentee_id: Option<String>,
    cohort_id: Option<String>,
    entity: String,
    entity_id: String,
    message: String,
    created_at: i64,
    attempts: i64,
}

impl FromDb for Pending {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(Pending {
            id: r.get("id")?,
            chapter_id: r.get("chapter_id")?,
            kind: r.get("kind")?,
            audience: r.get("audience")?,
            mentor_id: r.get("mentor_id")?,
            mentee_id: r.get("mentee_id")?,
            cohort_id: r.get("cohort_id")?,
            entity: r.get("entity")?,
            entity_id: r.get("entity_id")?,
            message: r.get("message")?,
            created_at: r.get("created_at")?,
            attempts: r.get("attempts")?,
        })
    }
}

enum Outcome {
    Delivered,
    Failed(String),
}

impl Dispatcher {
    /// A dispatcher over `channels` with production retry settings.
    pub fn new(channels: Vec<Arc<dyn Channel>>) -> Self {
        Dispatcher {
            channels,
            max_attempts: 8,
            base_backoff_ms: 30_000,
            max_backoff_ms: 3_600_000,
            lease_ms: 300_000,
            batch: 100,
        }
    }

    /// How long to wait after the `attempts`-th failed attempt.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let shift = (attempts - 1).clamp(0, 20) as u32;
        self.base_backoff_ms
            .saturating_mul(1_i64 << shift)
            .min(self.max_backoff_ms)
    }

    /// Delivers every notification due at `now`, batch by batch, until none is left.
    pub async fn run_once(&self, db: &Db, now: i64) -> Result<DispatchReport, sqlx::Error> {
        let mut report = DispatchReport::default();
        loop {
            let claimed = self.claim(db, now).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for n in claimed {
                self.dispatch(db, now, n, &mut report).await?;
            }
        }
    }

    /// Leases up to one batch of due notifications.
    async fn claim(&self, db: &Db, now: i64) -> Result<Vec<Pending>, sqlx::Error> {
        let mut tx = db.write().await?;
        let due: Vec<Pending> = tx
            .fetch_all(
                q("SELECT id, chapter_id, kind, audience, mentor_id, mentee_id, cohort_id, entity, entity_id, message, \
                   created_at, attempts FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1 \
                   AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT $2")
                .bind(now)
                .bind(self.batch),
            )
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for n in due {
            let won = tx
                .execute(
                    q("UPDATE notifications SET locked_until = $1 WHERE id = $2 AND status = 'pending' \
                       AND (locked_until IS NULL OR locked_until < $3)")
                    .bind(now + self.lease_ms)
                    .bind(n.id.as_str())
                    .bind(now),
                )
                .await?;
            if won == 1 {
                claimed.push(n);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn dispatch(
        &self,
        db: &Db,
        now: i64,
        n: Pending,
        report: &mut DispatchReport,
    ) -> Result<(), sqlx::Error> {
        let resolved = {
            let mut tx = db.read().await?;
            let r = match n.audience.as_str() {
                "cohort_directors" => {
                    recipients::cohort_directors(&mut tx, &n.chapter_id, n.cohort_id.as_deref())
                        .await?
                }
                "mentee" => {
                    recipients::mentee(&mut tx, &n.chapter_id, n.mentee_id.as_deref()).await?
                }
                _ => {
                    recipients::coordinator_or_admin(&mut tx, &n.chapter_id, n.mentor_id.as_deref())
                        .await?
                }
            };
            tx.commit().await?;
            r
        };
        let users = match resolved {
            Resolved::Nobody(why) => {
                report.undeliverable += 1;
                tracing::warn!(notification = %n.id, mentor = ?n.mentor_id, %why, "notification undeliverable");
                return settle(db, &n.id, "undeliverable", now, Some(&why), n.attempts).await;
            }
            Resolved::To(users) => users,
        };
        let mut error = None;
        let mut held: Option<i64> = None;
        let personal = self.channels.iter().any(|c| c.personal().is_some());
        for user in &users {
            let reach = if personal {
                let mut tx = db.read().await?;
                let r = preferences::recipient(&mut tx, user).await?;
                tx.commit().await?;
                r.map(|r| preferences::decide(&r, &n.kind, now))
                    .unwrap_or_default()
            } else {
                Reach::default()
            };
            let mut message = Message {
                notification_id: n.id.clone(),
                chapter_id: n.chapter_id.clone(),
                kind: n.kind.clone(),
                recipient_id: user.clone(),
                mentor_id: n.mentor_id.clone(),
                entity: n.entity.clone(),
                entity_id: n.entity_id.clone(),
                message: n.message.clone(),
                created_at: n.created_at,
                email: None,
            };
            super::inbox::deliver(db, now, &message).await?;
            for channel in &self.channels {
                if let Some(way) = channel.personal() {
                    if !reach.wants_kind {
                        continue;
                    }
                    if let Some(until) = reach.held_until {
                        held = Some(held.map_or(until, |h| h.min(until)));
                        continue;
                    }
                    if way == Personal::Email {
                        let Some(address) = &reach.email else {
                            continue;
                        };
                        message.email = Some(address.clone());
                    }
                }
                if let Outcome::Failed(e) =
                    deliver_once(db, now, channel.as_ref(), &message).await?
                {
                    error = Some(format!("{}: {e}", channel.name()));
                }
            }
        }
        let attempts = n.attempts + 1;
        match (error, held) {
            // Delivered where it could be; the rest waits for quiet hours to end, which
            // costs no attempt.
            (None, Some(until)) => {
                report.held += 1;
                let mut tx = db.write().await?;
                tx.execute(
                    q("UPDATE notifications SET next_attempt_at = $1, locked_until = NULL WHERE id = $2")
                        .bind(until)
                        .bind(n.id.as_str()),
                )
                .await?;
                tx.commit().await
            }
            (None, None) => {
                report.delivered += 1;
                settle(db, &n.id, "delivered", now, None, attempts).await
            }
            (Some(e), _) if attempts >= self.max_attempts => {
                report.failed += 1;
                tracing::warn!(notification = %n.id, error = %e, "notification given up");
                settle(db, &n.id, "failed", now, Some(&e), attempts).await
            }
            (Some(e), _) => {
                report.retrying += 1;
                let mut tx = db.write().await?;
                tx.execute(
                    q("UPDATE notifications SET attempts = $1, next_attempt_at = $2, locked_until = NULL, \
                       last_error = $3 WHERE id = $4")
                    .bind(attempts)
                    .bind(now + self.backoff_ms(attempts))
                    .bind(e)
                    .bind(n.id.as_str()),
                )
                .await?;
                tx.commit().await
            }
        }
    }
}

/// Claims the delivery row, calls the channel, records the outcome. A row already
/// 'delivered' or 'sending' is not sent again.
async fn deliver_once(
    db: &Db,
    now: i64,
    channel: &dyn Channel,
    m: &Message,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = db.write().await?;
    let inserted = tx
        .execute(
            q("INSERT INTO notification_deliveries (notification_id, channel, recipient_id, status, attempts, at) \
               VALUES ($1, $2, $3, 'sending', 1, $4) ON CONFLICT DO NOTHING")
            .bind(m.notification_id.as_str())
            .bind(channel.name())
            .bind(m.recipient_id.as_str())
            .bind(now),
        )
        .await?;
    let claimed = inserted == 1
        || tx
            .execute(
                q("UPDATE notification_deliveries SET status = 'sending', attempts = attempts + 1, at = $1 \
                   WHERE notification_id = $2 AND channel = $3 AND recipient_id = $4 AND status = 'failed'")
                .bind(now)
                .bind(m.notification_id.as_str())
                .bind(channel.name())
                .bind(m.recipient_id.as_str()),
            )
            .await?
            == 1;
    tx.commit().await?;
    if !claimed {
        return Ok(Outcome::Delivered);
    }
    let result = channel.deliver(m).await;
    let (status, error) = match &result {
        Ok(()) => ("delivered", None),
        Err(e) => ("failed", Some(e.0.clone())),
    };
    let mut tx = db.write().await?;
    tx.execute(
        q(
            "UPDATE notification_deliveries SET status = $1, error = $2 \
           WHERE notification_id = $3 AND channel = $4 AND recipient_id = $5",
        )
        .bind(status)
        .bind(error.clone())
        .bind(m.notification_id.as_str())
        .bind(channel.name())
        .bind(m.recipient_id.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(match error {
        None => Outcome::Delivered,
        Some(e) => Outcome::Failed(e),
    })
}

async fn settle(
    db: &Db,
    id: &str,
    status: &str,
    now: i64,
    error: Option<&str>,
    attempts: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    tx.execute(
        q("UPDATE notifications SET status = $1, settled_at = $2, last_error = $3, attempts = $4, \
           locked_until = NULL WHERE id = $5")
        .bind(status)
        .bind(now)
        .bind(error)
        .bind(attempts)
        .bind(id),
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let d = Dispatcher::new(Vec::new());
        assert_eq!(d.backoff_ms(1), 30_000);
        assert_eq!(d.backoff_ms(2), 60_000);
        assert_eq!(d.backoff_ms(3), 120_000);
        assert_eq!(d.backoff_ms(20), 3_600_000);
    }
}
