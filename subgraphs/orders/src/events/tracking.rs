//! Live tracking fan-out: every replica consumes every `order.updated` through its own
//! (exclusive, auto-deleted) queue and rebroadcasts the order id to its subscriptions in
//! process, which re-read the order from the database. So a client connected to any replica
//! sees every change, whichever replica made it. The queue dies with its connection, and
//! with it whatever was published while the replica was cut off from the broker: when the
//! consumer is back, every subscription re-reads its order.

use shop_messaging::{ConsumerSpec, Envelope, Handler, HandlerError, contracts::OrderUpdated};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::service::TrackingSignal;

/// Name prefix of each replica's tracking queue.
pub const QUEUE_PREFIX: &str = "orders.tracking";

/// How many changes a slow subscriber may fall behind before it skips to the latest state.
pub const CHANNEL_CAPACITY: usize = 1_024;

/// The consumer of this replica's tracking queue.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::fan_out(QUEUE_PREFIX, vec!["order.updated.*".into()])
}

/// Rebroadcasts the id of every updated order to this process's subscriptions.
pub struct TrackingHandler(pub broadcast::Sender<TrackingSignal>);

#[async_trait::async_trait]
impl Handler for TrackingHandler {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let event: OrderUpdated = message.decode().map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let order_id = Uuid::parse_str(&event.order_id).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        // No subscriber in this process is not an error.
        let _ = self.0.send(TrackingSignal::Changed(order_id));
        Ok(())
    }

    async fn resumed(&self) {
        tracing::info!("tracking consumer reconnected: subscribers re-read their orders");
        let _ = self.0.send(TrackingSignal::Resync);
    }
}
