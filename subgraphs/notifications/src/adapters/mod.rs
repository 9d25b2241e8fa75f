//! What notifications calls out to: the channels that carry rendered messages to customers.
//! Only email exists today; SMS or push are more implementations of [`Channel`] with a
//! [`ChannelKind`] of their own (and a migration that allows the new value in
//! `notifications.channel`).

mod email;

pub use self::email::{EmailChannel, EmailTransport, FileOutbox, MemoryMailbox, SentMail, TransportError, message_id};
pub use crate::domain::ChannelKind;
use crate::{domain::Recipient, render::RenderedMessage};

/// What the channel did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Where it went, e.g. the email address.
    pub address: String,
}

/// Why a message was not delivered. The reason is meant for the customer and support (it
/// shows as `failureReason`): channels log the technical detail and put no server answers,
/// hosts or credentials in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Might work later (server unreachable, temporary refusal): retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// Will never work (invalid address, permanent refusal): failed at once.
    #[error("{0}")]
    Permanent(String),
}

impl DeliveryError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    /// The reason, for people.
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient(reason) | Self::Permanent(reason) => reason,
        }
    }
}

/// A way of reaching a customer.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + 'static {
    /// Which channel this is (notifications name the channel they go through).
    fn kind(&self) -> ChannelKind;

    /// Delivers `message` to `recipient`. Called at most once per attempt; the caller bounds
    /// how long it may take.
    async fn send(&self, recipient: &Recipient, message: &RenderedMessage) -> Result<Receipt, DeliveryError>;
}
