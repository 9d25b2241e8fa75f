//! What reviews consumes from the bus: `order.confirmed` and `order.delivered` on
//! `reviews.purchases`, which make a buyer's reviews verified purchases. It publishes nothing.

use std::sync::Arc;

use shop_messaging::{
    ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{self, OrderConfirmed, OrderDelivered, OrderSummary},
};
use uuid::Uuid;

use crate::service::Reviews;

/// The consumer of `reviews.purchases`: durable, with the bus's default prefetch, concurrency
/// and retries.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::durable(contracts::reviews_purchases_queue())
}

/// Records purchases from order announcements.
///
/// Idempotent by construction, so it needs no inbox: a purchase is a set membership (the
/// (user, product) pair is marked purchased, an upsert) and marking reviews verified only ever
/// sets a flag to true. Handling a message twice, or `order.confirmed` and then
/// `order.delivered` of the same order, leaves the same state as handling it once.
pub struct PurchaseRecorder {
    reviews: Arc<Reviews>,
}

impl PurchaseRecorder {
    /// A handler over the service.
    pub fn new(reviews: Arc<Reviews>) -> Self {
        Self { reviews }
    }

    async fn record(
        &self,
        message: &Envelope,
        order_id: &str,
        user_id: &str,
        summary: Option<&OrderSummary>,
    ) -> Result<(), HandlerError> {
        let Some(summary) = summary else {
            // Announcements from before orders carried their lines: nothing to learn from them.
            tracing::warn!(message_id = %message.id, order_id, kind = %message.kind, "order announcement without a summary: no purchase recorded");
            return Ok(());
        };
        let user_id = Uuid::parse_str(user_id)
            .map_err(|_| HandlerError::Permanent(format!("order {order_id} has a malformed user id `{user_id}`")))?;
        let products: Vec<String> = summary.lines.iter().map(|line| line.product_id.clone()).collect();
        match self.reviews.record_purchases(user_id, &products).await {
            Ok(verified) => {
                tracing::info!(order_id, products = products.len(), verified, "purchases recorded");
                Ok(())
            }
            // The bus retries with backoff and dead-letters (replayably) after its attempts.
            Err(error) => {
                tracing::warn!(%error, order_id, "recording purchases failed; the message will be retried");
                Err(HandlerError::Transient(error.to_string()))
            }
        }
    }
}

fn undecodable(error: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(format!("undecodable payload: {error}"))
}

#[async_trait::async_trait]
impl Handler for PurchaseRecorder {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        if message.is::<OrderConfirmed>() {
            let event = message.decode::<OrderConfirmed>().map_err(undecodable)?;
            self.record(message, &event.order_id, &event.user_id, event.summary.as_ref()).await
        } else if message.is::<OrderDelivered>() {
            let event = message.decode::<OrderDelivered>().map_err(undecodable)?;
            self.record(message, &event.order_id, &event.user_id, event.summary.as_ref()).await
        } else {
            Err(HandlerError::Permanent(format!("reviews does not handle `{}`", message.kind)))
        }
    }
}
