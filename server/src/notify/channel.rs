//! Delivery channels. The dispatcher records every delivery in `notification_deliveries`
//! whatever the channel; a channel only has to carry the message.

use futures::future::BoxFuture;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// One notification addressed to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The notification id (receivers use it to drop duplicates).
    pub notification_id: String,
    /// Its chapter.
    pub chapter_id: String,
    /// What happened (`pause_requested`, …).
    pub kind: String,
    /// The user it is delivered to, resolved at dispatch.
    pub recipient_id: String,
    /// The mentor it originates from.
    pub mentor_id: Option<String>,
    /// The row it is about.
    pub entity: String,
    /// That row's id.
    pub entity_id: String,
    /// One line for a person.
    pub message: String,
    /// When the cause happened (epoch ms).
    pub created_at: i64,
    /// The recipient's address, for an e-mail channel ([`Personal::Email`]) and only when
    /// their preferences want e-mail now; never sent to other channels (a webhook).
    #[serde(skip)]
    pub email: Option<String>,
}

/// How a personal channel reaches someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personal {
    /// At their address ([`Message::email`] is filled in).
    Email,
    /// On the phones they registered.
    Push,
}

/// A channel could not deliver; the dispatcher retries later with backoff.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ChannelError(pub String);

/// A way to deliver a message (push, e-mail, webhook, …).
pub trait Channel: Send + Sync + 'static {
    /// The channel's stable name, stored with each delivery (at most once per name).
    fn name(&self) -> &str;
    /// Whether the channel reaches the person themself (e-mail, their phones): it then
    /// receives only the recipients whose preferences want it, outside their quiet hours.
    fn personal(&self) -> Option<Personal> {
        None
    }
    /// Delivers one message.
    fn deliver<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>>;
}

/// The built-in channel: keeps what it delivered, for tests and for the in-app inbox (which
/// reads the delivery rows the dispatcher writes for it).
#[derive(Debug, Clone, Default)]
pub struct RecordingChannel {
    delivered: Arc<Mutex<Vec<Message>>>,
}

impl RecordingChannel {
    /// The channel's name.
    pub const NAME: &'static str = "record";

    /// Everything delivered through this instance, in order.
    pub fn delivered(&self) -> Vec<Message> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl Channel for RecordingChannel {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn deliver<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            self.delivered
                .lock()
                .map_err(|_| ChannelError("recording channel poisoned".into()))?
                .push(message.clone());
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recipient's address is for the e-mail channel only: a webhook posts the message
    /// as JSON to a third party, which must not learn it.
    #[test]
    fn the_address_never_leaves_in_a_serialized_message() {
        let m = Message {
            notification_id: "n".into(),
            chapter_id: "c".into(),
            kind: "flag_raised".into(),
            recipient_id: "u".into(),
            mentor_id: None,
            entity: "flag".into(),
            entity_id: "f".into(),
            message: "m".into(),
            created_at: 1,
            email: Some("person@example.org".into()),
        };
        let json = serde_json::to_string(&m).unwrap_or_default();
        assert!(json.contains("\"recipient_id\":\"u\""), "{json}");
        assert!(!json.contains("person@example.org"), "{json}");
    }
}
