//! The cart's consumer: an order placed from a cart takes its lines out of it
//! (`cart.checked_out`, written by orders in the checkout's own transaction, so a checkout
//! that commits always empties what it bought, even if orders dies right after).

use std::sync::Arc;

use shop_messaging::{ConsumerSpec, Envelope, Handler, HandlerError, contracts, contracts::CartCheckedOut};
use uuid::Uuid;

use crate::service::Carts;

/// The consumer of the cart's queue.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::durable(contracts::cart_orders_queue())
}

/// Removes the ordered lines from the cart they were ordered from.
pub struct CheckedOutHandler(pub Arc<Carts>);

#[async_trait::async_trait]
impl Handler for CheckedOutHandler {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let event: CartCheckedOut = message.decode().map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let cart_id = Uuid::parse_str(&event.cart_id).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let taken: Vec<(String, i64)> = event.lines.into_iter().map(|line| (line.sku, line.quantity)).collect();
        self.0.remove_ordered(cart_id, &event.order_id, &taken).await.map_err(|error| {
            if error.is_transient() {
                HandlerError::Transient(error.to_string())
            } else {
                HandlerError::Permanent(error.to_string())
            }
        })
    }
}
