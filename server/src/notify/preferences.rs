//! Whom a personal channel (e-mail, push) may reach, decided at dispatch from the
//! recipient's preferences: whether they want this kind beyond their inbox, whether by
//! e-mail, and whether their quiet hours (in their own time zone) hold it back for now. The inbox ignores all of this: it always
//! has everything.

use crate::db::{DbRow, FromDb, Tx, q};
use mentorsync_protocol::local_time;
use mentorsync_protocol::model::Preferences;
use mentorsync_protocol::{EmailChoice, NotificationKind};

/// A device that synced within this long means the person uses the app (`auto` e-mail
/// then stays quiet).
pub const APP_IN_USE_MS: i64 = 30 * 86_400_000;

/// What the personal channels may do for one recipient and one notification now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// Whether they want this kind beyond their inbox at all (e-mail and push).
    pub wants_kind: bool,
    /// The address to e-mail, when e-mail is wanted for this notification.
    pub email: Option<String>,
    /// Quiet hours: nothing personal is sent before this moment (epoch ms).
    pub held_until: Option<i64>,
}

/// A recipient as the decision needs them.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Their sign-in address.
    pub address: String,
    /// Their time zone (or their chapter's).
    pub time_zone: Option<String>,
    /// What they chose (defaults without a row).
    pub preferences: Preferences,
    /// When a device of theirs last synced, if ever.
    pub last_synced_at: Option<i64>,
}

impl FromDb for Recipient {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let email: Option<String> = r.get("choice")?;
        let kinds: Option<String> = r.get("kinds")?;
        Ok(Recipient {
            address: r.get("email")?,
            time_zone: r.get("tz")?,
            preferences: Preferences {
                email: email
                    .and_then(|e| e.parse().ok())
                    .unwrap_or(EmailChoice::Auto),
                kinds: kinds.and_then(|k| serde_json::from_str(&k).ok()),
                quiet_from: r.get("quiet_from")?,
                quiet_until: r.get("quiet_until")?,
            },
            last_synced_at: r.get("last_synced_at")?,
        })
    }
}

/// Loads the recipient's address, zone, preferences and last sync.
pub async fn recipient(tx: &mut Tx, user_id: &str) -> Result<Option<Recipient>, sqlx::Error> {
    tx.fetch_optional(
        q("SELECT u.email, COALESCE(u.time_zone, c.time_zone) AS tz, p.email AS choice, p.kinds, \
           p.quiet_from, p.quiet_until, \
           (SELECT MAX(s.last_seen_at) FROM sync_clients s WHERE s.user_id = u.id) AS last_synced_at \
           FROM users u JOIN chapters c ON c.id = u.chapter_id \
           LEFT JOIN notification_preferences p ON p.user_id = u.id WHERE u.id = $1")
        .bind(user_id),
    )
    .await
}

/// The decision, without I/O: e-mail when chosen (`always`, or `auto` while no device
/// synced in 30 days) and the kind is wanted; held while quiet hours last.
pub fn decide(r: &Recipient, kind: &str, now: i64) -> Reach {
    let p = &r.preferences;
    let wants_kind = match (&p.kinds, kind.parse::<NotificationKind>()) {
        (None, _) => true,
        (Some(kinds), Ok(k)) => kinds.contains(&k),
        (Some(_), Err(_)) => false,
    };
    let uses_app = r.last_synced_at.is_some_and(|t| now - t < APP_IN_USE_MS);
    let chosen = match p.email {
        EmailChoice::Always => true,
        EmailChoice::Auto => !uses_app,
        EmailChoice::Never => false,
    };
    let held_until = p.quiet_minutes().ok().flatten().and_then(|(from, until)| {
        local_time::quiet_until(now, r.time_zone.as_deref(), from, until)
    });
    Reach {
        wants_kind,
        email: (chosen && wants_kind).then(|| r.address.clone()),
        held_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone(email: EmailChoice, last_synced_at: Option<i64>) -> Recipient {
        Recipient {
            address: "p@example.org".into(),
            time_zone: Some("Europe/Dublin".into()),
            preferences: Preferences {
                email,
                ..Preferences::default()
            },
            last_synced_at,
        }
    }

    const NOW: i64 = 1_796_752_800_000; // Tue 8 Dec 2026, 18:00 in Dublin

    #[test]
    fn auto_reaches_only_people_without_the_app() {
        let mail = |r: &Recipient| decide(r, "pause_requested", NOW).email;
        assert_eq!(
            mail(&someone(EmailChoice::Auto, None)).as_deref(),
            Some("p@example.org")
        );
        assert_eq!(
            mail(&someone(EmailChoice::Auto, Some(NOW - 86_400_000))),
            None
        );
        assert!(mail(&someone(EmailChoice::Auto, Some(NOW - 31 * 86_400_000))).is_some());
        assert!(mail(&someone(EmailChoice::Always, Some(NOW))).is_some());
        assert_eq!(mail(&someone(EmailChoice::Never, None)), None);
    }

    #[test]
    fn kinds_filter_and_quiet_hours_hold() {
        let mut r = someone(EmailChoice::Always, None);
        r.preferences.kinds = Some(vec![NotificationKind::FlagRaised]);
        assert!(decide(&r, "flag_raised", NOW).email.is_some());
        assert_eq!(decide(&r, "pause_requested", NOW).email, None);
        r.preferences.quiet_from = Some("17:30".into());
        r.preferences.quiet_until = Some("08:00".into());
        // 18:00 is inside 17:30–08:00: held until 08:00 the next morning (UTC+0 in winter).
        assert_eq!(
            decide(&r, "flag_raised", NOW).held_until,
            Some(NOW + 14 * 3_600_000)
        );
    }
}
