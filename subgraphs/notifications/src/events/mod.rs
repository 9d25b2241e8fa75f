//! What notifications consumes: the customer-facing facts on `notifications.events`
//! (`user.registered`, `order.confirmed/cancelled/shipped/delivered`, `payment.refunded`).
//! Each message becomes one [`Notifications::record_event`], one transaction (inbox claim +
//! recipient + notifications); the delivery worker, woken after the commit, does the sending.
//! Nothing is published, and nobody waits on this service: a failure here never holds up an
//! order.

use std::sync::Arc;

use chrono::Utc;
use shop_messaging::{
    ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{self, OrderCancelled, OrderConfirmed, OrderDelivered, OrderShipped, PaymentRefunded, UserRegistered},
    envelope::EnvelopeError,
};

use crate::{
    domain::{Facts, NewNotification, NotificationKind, Recipient, Refund},
    service::{Notifications, RecordError},
};

/// The consumer name notifications records in the inbox.
pub const CONSUMER: &str = "notifications";

/// The consumer of `notifications.events`: durable, with the bus's default prefetch,
/// concurrency and retries.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::durable(contracts::notifications_queue())
}

/// Turns customer-facing events into queued notifications.
pub struct NotificationEvents {
    notifications: Arc<Notifications>,
    review_request_delay: chrono::Duration,
}

/// What one message asks for.
struct Effect {
    recipient: Option<Recipient>,
    notifications: Vec<NewNotification>,
}

fn undecodable(error: EnvelopeError) -> HandlerError {
    HandlerError::Permanent(format!("undecodable payload: {error}"))
}

fn order_facts(order_id: &str, summary: Option<contracts::OrderSummary>) -> Facts {
    Facts { order_id: Some(order_id.to_owned()), summary, ..Facts::default() }
}

impl NotificationEvents {
    /// A handler recording through `notifications`; review requests are due
    /// `review_request_delay` after delivery.
    pub fn new(notifications: Arc<Notifications>, review_request_delay: std::time::Duration) -> Self {
        let review_request_delay =
            chrono::Duration::from_std(review_request_delay).unwrap_or(chrono::Duration::days(3));
        Self { notifications, review_request_delay }
    }

    fn effect(&self, message: &Envelope) -> Result<Option<Effect>, HandlerError> {
        let now = Utc::now();
        let one = |user_id: String, kind, facts| NewNotification { user_id, kind, facts, due_at: now };
        let effect = if message.is::<UserRegistered>() {
            let event: UserRegistered = message.decode().map_err(undecodable)?;
            let recipient = Recipient { user_id: event.user_id.clone(), email: event.email, name: event.name };
            Effect {
                recipient: Some(recipient),
                notifications: vec![one(event.user_id, NotificationKind::Welcome, Facts::default())],
            }
        } else if message.is::<OrderConfirmed>() {
            let event: OrderConfirmed = message.decode().map_err(undecodable)?;
            let facts = Facts {
                total_minor: Some(event.total_minor),
                currency: Some(event.currency),
                ..order_facts(&event.order_id, event.summary)
            };
            Effect { recipient: None, notifications: vec![one(event.user_id, NotificationKind::OrderConfirmed, facts)] }
        } else if message.is::<OrderCancelled>() {
            let event: OrderCancelled = message.decode().map_err(undecodable)?;
            let facts = Facts { reason: Some(event.reason), ..order_facts(&event.order_id, event.summary) };
            Effect { recipient: None, notifications: vec![one(event.user_id, NotificationKind::OrderCancelled, facts)] }
        } else if message.is::<OrderShipped>() {
            let event: OrderShipped = message.decode().map_err(undecodable)?;
            let facts =
                Facts { tracking_number: Some(event.tracking_number), ..order_facts(&event.order_id, event.summary) };
            Effect { recipient: None, notifications: vec![one(event.user_id, NotificationKind::OrderShipped, facts)] }
        } else if message.is::<OrderDelivered>() {
            let event: OrderDelivered = message.decode().map_err(undecodable)?;
            let facts = order_facts(&event.order_id, event.summary);
            let review = NewNotification {
                user_id: event.user_id.clone(),
                kind: NotificationKind::ReviewRequest,
                facts: facts.clone(),
                due_at: now + self.review_request_delay,
            };
            Effect {
                recipient: None,
                notifications: vec![one(event.user_id, NotificationKind::OrderDelivered, facts), review],
            }
        } else if message.is::<PaymentRefunded>() {
            let event: PaymentRefunded = message.decode().map_err(undecodable)?;
            let Some(user_id) = event.user_id else {
                // Messages from before payments named the payer: there is nobody to tell.
                tracing::warn!(order_id = %event.order_id, "payment.refunded without a user id; no notification");
                return Ok(None);
            };
            let refund = Refund {
                amount_minor: event.amount_minor,
                refunded_total_minor: event.refunded_total_minor,
                currency: event.currency,
            };
            let facts = Facts { order_id: Some(event.order_id), refund: Some(refund), ..Facts::default() };
            Effect { recipient: None, notifications: vec![one(user_id, NotificationKind::PaymentRefunded, facts)] }
        } else {
            return Err(HandlerError::Permanent(format!("notifications does not handle `{}`", message.kind)));
        };
        Ok(Some(effect))
    }
}

#[async_trait::async_trait]
impl Handler for NotificationEvents {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let Some(effect) = self.effect(message)? else { return Ok(()) };
        self.notifications
            .record_event(CONSUMER, message.id, effect.recipient.as_ref(), effect.notifications)
            .await
            .map_err(|error| match error {
                RecordError::Render(error) => {
                    tracing::error!(%error, "cannot render a subject");
                    HandlerError::Permanent(format!("cannot render: {error}"))
                }
                RecordError::Store(error) => {
                    tracing::warn!(%error, "cannot record notifications; the message will be retried");
                    HandlerError::Transient(error.to_string())
                }
            })?;
        Ok(())
    }
}
