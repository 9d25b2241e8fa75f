//! The use cases, which both `graphql/` and `events/` call: placing an order ([`checkout`]),
//! moving it through its life ([`lifecycle`]), reads from the store, and the in-process feed
//! of changed orders for subscriptions.

pub mod checkout;
pub mod lifecycle;

use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use self::{checkout::Checkout, lifecycle::Saga};
use crate::store::OrdersStore;

/// Everything the GraphQL layer works with.
pub struct Orders {
    /// Reads.
    pub store: OrdersStore,
    /// Placing orders.
    pub checkout: Checkout,
    /// Moving orders (cancel, ship, deliver) and handling saga replies.
    pub saga: Arc<Saga>,
    /// Orders that changed, fed by this replica's tracking consumer.
    pub tracking: broadcast::Sender<TrackingSignal>,
}

/// What this process's subscriptions are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingSignal {
    /// This order changed.
    Changed(Uuid),
    /// Changes may have been missed (the broker connection was lost): any order may have changed.
    Resync,
}
