//! Where notifications go besides the inbox, as the operator configures `serve`: the
//! recording channel always, then a webhook, e-mail and push to phones when configured (and,
//! with push, the sync-now wake-ups of backgrounded apps).

use super::push::{self, Apns, Fcm, PushChannel};
use super::webhook::WebhookChannel;
use super::{Channel, EmailChannel, RecordingChannel};
use crate::state::AppState;
use anyhow::Context;
use std::sync::Arc;

/// The delivery options of `mentorsync-server serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Delivery {
    /// Also deliver notifications by POSTing them to this URL.
    #[arg(long, env = "MENTORSYNC_WEBHOOK_URL", requires = "webhook_secret")]
    pub webhook_url: Option<String>,
    /// Shared secret that signs webhook bodies (HMAC-SHA256).
    #[arg(long, env = "MENTORSYNC_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Also e-mail notifications to the people whose preferences want it, through this
    /// SMTP server: `smtps://user:password@host`, `smtp://user:password@host:587?tls=required`
    /// or `smtp://host:port` (plain, for a relay on this machine).
    #[arg(
        long,
        env = "MENTORSYNC_SMTP_URL",
        requires = "smtp_from",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// The sender of those e-mails, e.g. `mentorsync <noreply@example.org>`.
    #[arg(long, env = "MENTORSYNC_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Push to Android phones: the Firebase service-account key file (JSON).
    #[arg(long, env = "MENTORSYNC_FCM_SERVICE_ACCOUNT")]
    pub fcm_service_account: Option<std::path::PathBuf>,
    /// FCM's address (a test or relay may stand in).
    #[arg(
        long,
        env = "MENTORSYNC_FCM_URL",
        default_value = "https://fcm.googleapis.com"
    )]
    pub fcm_url: String,
    /// Push to iPhones: the APNs key file (`AuthKey_XXXXXXXXXX.p8`).
    #[arg(long, env = "MENTORSYNC_APNS_KEY", requires_all = ["apns_key_id", "apns_team_id", "apns_topic"])]
    pub apns_key: Option<std::path::PathBuf>,
    /// The APNs key's id.
    #[arg(long, env = "MENTORSYNC_APNS_KEY_ID")]
    pub apns_key_id: Option<String>,
    /// The Apple developer team id.
    #[arg(long, env = "MENTORSYNC_APNS_TEAM_ID")]
    pub apns_team_id: Option<String>,
    /// The app's bundle id.
    #[arg(long, env = "MENTORSYNC_APNS_TOPIC")]
    pub apns_topic: Option<String>,
    /// APNs' address: production, or `https://api.sandbox.push.apple.com` for
    /// development builds.
    #[arg(
        long,
        env = "MENTORSYNC_APNS_URL",
        default_value = "https://api.push.apple.com"
    )]
    pub apns_url: String,
    /// With push on: a phone with no open event stream gets at most one data-only
    /// "sync now" push per this many seconds when its person's data changes.
    #[arg(long, env = "MENTORSYNC_WAKE_INTERVAL_SECONDS", default_value_t = 60)]
    pub wake_interval_seconds: u64,
}

impl Delivery {
    /// The channels configured, in delivery order; starts the wake-ups when push is on.
    pub fn channels(&self, state: &AppState) -> anyhow::Result<Vec<Arc<dyn Channel>>> {
        let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(RecordingChannel::default())];
        if let (Some(url), Some(secret)) = (&self.webhook_url, &self.webhook_secret) {
            channels.push(Arc::new(WebhookChannel::new(url.clone(), secret.clone())?));
        }
        if let (Some(url), Some(from)) = (&self.smtp_url, &self.smtp_from) {
            channels.push(Arc::new(EmailChannel::new(url, from)?));
        }
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        };
        let fcm = match &self.fcm_service_account {
            Some(path) => Some(Fcm::new(&read(path)?, &self.fcm_url)?),
            None => None,
        };
        let apns = match (
            &self.apns_key,
            &self.apns_key_id,
            &self.apns_team_id,
            &self.apns_topic,
        ) {
            (Some(path), Some(key_id), Some(team_id), Some(topic)) => {
                Some(Apns::new(push::apns::ApnsConfig {
                    key_pem: read(path)?,
                    key_id: key_id.clone(),
                    team_id: team_id.clone(),
                    topic: topic.clone(),
                    base: self.apns_url.clone(),
                })?)
            }
            _ => None,
        };
        if fcm.is_some() || apns.is_some() {
            let push = Arc::new(PushChannel::new(state.db.clone(), fcm, apns));
            push::wake::spawn(
                state,
                push.clone(),
                std::time::Duration::from_secs(self.wake_interval_seconds),
            );
            channels.push(push);
        }
        Ok(channels)
    }
}
