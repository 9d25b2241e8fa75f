//! Integration tests of shop-messaging against the real local servers: PostgreSQL on
//! 127.0.0.1:5432, RabbitMQ at `TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`)
//! and the MongoDB-protocol server at `TEST_MONGODB_URL` (the `mongo_*` tests).
//! Every test uses its own database and queue prefix, so they run in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod consume;
mod envelope;
mod helpers;
mod inbox;
mod mongo_outbox;
mod outbox;
mod rabbit;
