//! The orders service as resolvers see it: reads from the store, checkout, the saga's
//! mutations, and the in-process feed of changed orders for subscriptions.

use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{checkout::Checkout, events::saga::Saga, store::OrdersStore};

/// Everything the GraphQL layer works with.
pub struct Orders {
    /// Reads.
    pub store: OrdersStore,
    /// Placing orders.
    pub checkout: Checkout,
    /// Moving orders (cancel, ship, deliver) and handling saga replies.
    pub saga: Arc<Saga>,
    /// Ids of orders that changed, fed by this replica's tracking consumer.
    pub tracking: broadcast::Sender<Uuid>,
}
