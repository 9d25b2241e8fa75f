//! What a notification is, with no I/O: its kind and category, its life cycle, who receives
//! it, and the facts it is rendered from.

mod facts;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use self::facts::{Facts, Refund};

/// Declares a string-backed enum with its stored form.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The stored (and GraphQL) form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// Parses the stored form.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }
    };
}

stored_enum! {
    /// What a notification is about; each kind has its own templates.
    #[graphql(name = "NotificationKind")]
    NotificationKind {
        /// The account was created.
        Welcome = "WELCOME",
        /// An order was paid and confirmed.
        OrderConfirmed = "ORDER_CONFIRMED",
        /// An order was cancelled.
        OrderCancelled = "ORDER_CANCELLED",
        /// An order left the warehouse.
        OrderShipped = "ORDER_SHIPPED",
        /// An order reached the customer.
        OrderDelivered = "ORDER_DELIVERED",
        /// A payment was (partly) refunded.
        PaymentRefunded = "PAYMENT_REFUNDED",
        /// An invitation to review what was delivered (marketing).
        ReviewRequest = "REVIEW_REQUEST",
    }
}

stored_enum! {
    /// Whether a customer may opt out of a notification.
    #[graphql(name = "NotificationCategory")]
    NotificationCategory {
        /// About the customer's own account or orders: always sent.
        Transactional = "TRANSACTIONAL",
        /// Promotional: not sent to customers who opted out of marketing.
        Marketing = "MARKETING",
    }
}

stored_enum! {
    /// How a notification reaches the customer.
    #[graphql(name = "NotificationChannel")]
    ChannelKind {
        /// An email to the customer's address.
        Email = "EMAIL",
    }
}

stored_enum! {
    /// Where a notification is in its life.
    #[graphql(name = "NotificationStatus")]
    NotificationStatus {
        /// Waiting to be sent (or to be retried).
        Queued = "QUEUED",
        /// Handed to the channel (e.g. accepted by the mail server).
        Sent = "SENT",
        /// Given up on; `failureReason` says why.
        Failed = "FAILED",
        /// Not sent on purpose (the customer opted out of marketing).
        Skipped = "SKIPPED",
    }
}

impl NotificationKind {
    /// The category of every notification of this kind.
    pub const fn category(self) -> NotificationCategory {
        match self {
            Self::ReviewRequest => NotificationCategory::Marketing,
            _ => NotificationCategory::Transactional,
        }
    }

    /// The stem of this kind's template names, e.g. `order_confirmed`.
    pub const fn template(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::OrderConfirmed => "order_confirmed",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
            Self::PaymentRefunded => "payment_refunded",
            Self::ReviewRequest => "review_request",
        }
    }
}

/// One message to one customer about one event, over one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Also the email's Message-ID (`<id@shop>`) and the file name of the file transport.
    pub id: Uuid,
    /// Who it is for.
    pub user_id: String,
    /// The message that caused it.
    pub source_event_id: Uuid,
    /// What it is about.
    pub kind: NotificationKind,
    /// Whether the customer may opt out of it.
    pub category: NotificationCategory,
    /// How it reaches the customer.
    pub channel: ChannelKind,
    /// Where it is in its life.
    pub status: NotificationStatus,
    /// Rendered when the notification was queued (subjects use event facts only).
    pub subject: String,
    /// What the body is rendered from.
    pub facts: Facts,
    /// The address it went to, once sent.
    pub recipient: Option<String>,
    /// Delivery attempts made so far.
    pub attempts: i32,
    /// When it is due (again).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed or why it was skipped, in words fit for the customer.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the channel accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A customer as notifications knows them (from `user.registered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The user's id.
    pub user_id: String,
    /// Where email goes.
    pub email: String,
    /// How to address them.
    pub name: String,
}

/// What a customer agreed to receive. Transactional notifications always go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preferences {
    /// Whether marketing notifications (e.g. review requests) are sent. Default true.
    pub marketing: bool,
    /// When they were last changed; `None` while they are the defaults.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { marketing: true, updated_at: None }
    }
}

/// A notification to create for an event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// Who it is for.
    pub user_id: String,
    /// What it is about.
    pub kind: NotificationKind,
    /// What it is rendered from.
    pub facts: Facts,
    /// When to send it (now, or later for a review request).
    pub due_at: DateTime<Utc>,
}

/// The reason kept when a marketing notification is not sent.
pub const OPTED_OUT: &str = "the customer opted out of marketing messages";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(*kind));
        }
        for status in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(NotificationKind::parse("nope"), None);
    }

    #[test]
    fn only_review_requests_are_marketing() {
        let marketing: Vec<_> =
            NotificationKind::ALL.iter().filter(|k| k.category() == NotificationCategory::Marketing).collect();
        assert_eq!(marketing, vec![&NotificationKind::ReviewRequest]);
    }
}
