//! What orders consumes and publishes: the saga's consumer (replies of inventory and
//! payments, on the durable `orders.saga` queue) and the live-tracking fan-out (every
//! `order.updated`, on a per-replica queue). Outgoing messages are written to the outbox by
//! the use case that causes them (see [`crate::service::lifecycle`] and
//! [`crate::service::checkout`]), in the transaction of its change.

pub mod saga;
pub mod tracking;
