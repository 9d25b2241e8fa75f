//! What reviews consumes from the bus, on `reviews.purchases`: `order.confirmed` and
//! `order.delivered`, which make a buyer's reviews verified purchases, and `order.cancelled`,
//! which takes that back once no other standing order of the buyer contains the product (a
//! badge must not survive the purchase it stands for). It publishes nothing.

use std::sync::Arc;

use shop_messaging::{
    ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{self, OrderCancelled, OrderConfirmed, OrderDelivered, OrderSummary},
};
use uuid::Uuid;

use crate::service::Reviews;

/// The consumer of `reviews.purchases`: durable, with the bus's default prefetch, concurrency
/// and retries.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::durable(contracts::reviews_purchases_queue())
}

/// Records purchases and their cancellations from order announcements.
///
/// Idempotent and order-insensitive by construction, so it needs no inbox: the store keeps
/// each (user, product, order) with a state, standing or cancelled, where cancelled is final
/// (a confirmation never overwrites it, a cancellation always does), and a pair is purchased
/// while one of its orders stands. Handling any of an order's messages twice, or its
/// cancellation before its confirmation (the bus may redeliver and reorder), leaves the same
/// state as handling each once in order; the reviews' flag is recomputed from that state.
pub struct PurchaseRecorder {
    reviews: Arc<Reviews>,
}

/// What an announcement says happened to the order.
#[derive(Clone, Copy)]
enum Outcome {
    /// Confirmed or delivered.
    Bought,
    /// Cancelled.
    Cancelled,
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
        outcome: Outcome,
    ) -> Result<(), HandlerError> {
        let Some(summary) = summary else {
            // Announcements from before orders carried their lines: nothing to learn from them.
            tracing::warn!(message_id = %message.id, order_id, kind = %message.kind, "order announcement without a summary: nothing recorded");
            return Ok(());
        };
        let user_id = Uuid::parse_str(user_id)
            .map_err(|_| HandlerError::Permanent(format!("order {order_id} has a malformed user id `{user_id}`")))?;
        let products: Vec<String> = summary.lines.iter().map(|line| line.product_id.clone()).collect();
        let recorded = match outcome {
            Outcome::Bought => self.reviews.record_purchases(user_id, order_id, &products).await,
            Outcome::Cancelled => self.reviews.record_cancellation(user_id, order_id, &products).await,
        };
        match (recorded, outcome) {
            (Ok(verified), Outcome::Bought) => {
                tracing::info!(order_id, products = products.len(), verified, "purchases recorded");
                Ok(())
            }
            (Ok(unverified), Outcome::Cancelled) => {
                tracing::info!(order_id, products = products.len(), unverified, "purchase cancellation recorded");
                Ok(())
            }
            // The bus retries with backoff and dead-letters (replayably) after its attempts.
            (Err(error), _) => {
                tracing::warn!(%error, order_id, kind = %message.kind, "recording the order failed; the message will be retried");
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
            self.record(message, &event.order_id, &event.user_id, event.summary.as_ref(), Outcome::Bought).await
        } else if message.is::<OrderDelivered>() {
            let event = message.decode::<OrderDelivered>().map_err(undecodable)?;
            self.record(message, &event.order_id, &event.user_id, event.summary.as_ref(), Outcome::Bought).await
        } else if message.is::<OrderCancelled>() {
            let event = message.decode::<OrderCancelled>().map_err(undecodable)?;
            self.record(message, &event.order_id, &event.user_id, event.summary.as_ref(), Outcome::Cancelled).await
        } else {
            Err(HandlerError::Permanent(format!("reviews does not handle `{}`", message.kind)))
        }
    }
}
