//! What orders consumes and publishes: the saga orchestrator (replies of inventory and
//! payments, on the durable `orders.saga` queue) and the live-tracking fan-out (every
//! `order.updated`, on a per-replica queue). Outgoing messages are written to the outbox by
//! the step that causes them (see [`saga`] and [`crate::checkout`]).

pub mod saga;
pub mod tracking;
