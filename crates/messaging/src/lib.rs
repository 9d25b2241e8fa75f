//! Messaging: event envelope, transactional outbox and relay, inbox, RabbitMQ topology, in-process bus.
//!
//! Every service publishes through the outbox (the message commits with the state change) and
//! consumes through a [`Bus`] with an inbox (redelivery is harmless). RabbitMQ carries the
//! messages in production; [`memory::InMemoryBus`] does the same in the embedded `cargo run`.
//! Services on PostgreSQL or SQLite use [`outbox`]; services on MongoDB use [`mongo_outbox`].

#![warn(missing_docs)]

pub mod bus;
pub mod connect;
pub mod contracts;
pub mod envelope;
pub mod inbox;
pub mod memory;
pub mod migration;
pub mod mongo_outbox;
pub mod outbox;
pub mod rabbit;
pub mod trace;

pub mod topic;

pub use bus::{Bus, BusError, ConsumerHandle, ConsumerSpec, DeadLetter, Handler, HandlerError, QueueSpec, RetryPolicy};
pub use envelope::{Envelope, Event};
