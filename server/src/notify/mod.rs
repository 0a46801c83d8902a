//! Notifications: written to an outbox in the transaction of their cause
//! ([`outbox::enqueue`]), delivered afterwards by the [`dispatch::Dispatcher`], which looks
//! the recipient up at that moment through [`recipients`] and hands the message to every
//! configured [`channel::Channel`], after putting it in the recipient's [`inbox`].

pub mod channel;
pub mod channels;
pub mod dispatch;
pub mod email;
pub mod inbox;
pub mod outbox;
pub mod preferences;
pub mod push;
pub mod recipients;
pub mod webhook;

pub use channel::{Channel, ChannelError, Message, Personal, RecordingChannel};
pub use dispatch::{DispatchReport, Dispatcher};
pub use email::EmailChannel;
pub use outbox::{Audience, NewNotification};
