//! E-mail, for people without the app (or who want it): SMTP through lettre. The
//! dispatcher gives this channel only the recipients whose preferences want e-mail for the
//! notification's kind, outside their quiet hours (`super::preferences`).

use super::channel::{Channel, ChannelError, Message, Personal};
use futures::future::BoxFuture;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Sends each message as a plain-text e-mail.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailChannel")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Why the channel could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum EmailConfigError {
    /// The SMTP URL.
    #[error("--smtp-url: {0}")]
    Url(String),
    /// The sender.
    #[error("--smtp-from must be an address such as `mentorsync <noreply@example.org>`: {0}")]
    From(String),
}

impl EmailChannel {
    /// The channel's name.
    pub const NAME: &'static str = "email";

    /// `url`: `smtps://user:password@host` (TLS), `smtp://user:password@host:587?tls=required`
    /// (STARTTLS) or `smtp://host:port` (plain: only for a relay on this machine);
    /// `from`: the sender.
    pub fn new(url: &str, from: &str) -> Result<Self, EmailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailConfigError::Url(e.to_string()))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| EmailConfigError::From(e.to_string()))?;
        Ok(EmailChannel { transport, from })
    }
}

/// "pause_requested" → "Pause requested".
fn subject(kind: &str) -> String {
    let words = kind.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => format!("mentorsync: {}{}", c.to_uppercase(), chars.as_str()),
        None => "mentorsync".to_owned(),
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn personal(&self) -> Option<Personal> {
        Some(Personal::Email)
    }

    fn deliver<'a>(&'a self, m: &'a Message) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let to: Mailbox = m
                .email
                .as_deref()
                .ok_or_else(|| ChannelError("no address to e-mail".into()))?
                .parse()
                .map_err(|e: lettre::address::AddressError| ChannelError(e.to_string()))?;
            let body = format!(
                "{}\n\n--\nOpen mentorsync to act on it. You receive this by e-mail because of \
                 your notification preferences; change them in the app or with \
                 PUT /api/v1/me/preferences.\n",
                m.message
            );
            let email = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(subject(&m.kind))
                .header(ContentType::TEXT_PLAIN)
                .header(lettre::message::header::MessageId::from(format!(
                    "<{}@mentorsync>",
                    m.notification_id
                )))
                .body(body)
                .map_err(|e| ChannelError(e.to_string()))?;
            self.transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| ChannelError(format!("smtp: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inside a runtime: the pooled transport starts its reaper task when it is built
    /// (the server builds it in `serve`, on its runtime).
    #[tokio::test]
    async fn subjects_read_as_words_and_bad_settings_are_named() {
        assert_eq!(subject("pause_requested"), "mentorsync: Pause requested");
        assert!(matches!(
            EmailChannel::new("ftp://x", "a@b.c"),
            Err(EmailConfigError::Url(_))
        ));
        assert!(matches!(
            EmailChannel::new("smtp://127.0.0.1:2525", "not an address"),
            Err(EmailConfigError::From(_))
        ));
    }
}
