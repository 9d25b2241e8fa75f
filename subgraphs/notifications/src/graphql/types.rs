//! The GraphQL view of notifications and preferences.

use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::{self, ChannelKind, NotificationCategory, NotificationKind, NotificationStatus};

/// A message sent (or to be sent) to a customer.
pub struct Notification(pub domain::Notification);

/// A message sent (or to be sent) to a customer: what it is about, through which channel,
/// and how its delivery went.
#[Object]
impl Notification {
    /// The notification's id (also the email's Message-ID, `<id@shop>`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// How it reaches the customer.
    async fn channel(&self) -> ChannelKind {
        self.0.channel
    }

    /// What it is about.
    async fn kind(&self) -> NotificationKind {
        self.0.kind
    }

    /// Transactional (always sent) or marketing (only with consent).
    async fn category(&self) -> NotificationCategory {
        self.0.category
    }

    /// Where it is in its life.
    async fn status(&self) -> NotificationStatus {
        self.0.status
    }

    /// Its subject line.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The address it was sent to; null until it is sent.
    async fn recipient(&self) -> Option<&str> {
        self.0.recipient.as_deref()
    }

    /// Delivery attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// Why it failed or was skipped (or why the last attempt failed while it is still
    /// queued); null once sent.
    async fn failure_reason(&self) -> Option<&str> {
        match self.0.status {
            NotificationStatus::Sent => None,
            _ => self.0.last_error.as_deref(),
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was sent; null until then.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}

/// What a customer agreed to receive. Transactional notifications (about their account and
/// orders) are always sent.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct NotificationPreferences {
    /// Whether marketing notifications (e.g. review requests) are sent. True until the
    /// customer turns them off.
    pub marketing: bool,
    /// When the preferences were last changed; null while they are the defaults.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<domain::Preferences> for NotificationPreferences {
    fn from(preferences: domain::Preferences) -> Self {
        Self { marketing: preferences.marketing, updated_at: preferences.updated_at }
    }
}
