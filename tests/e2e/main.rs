//! End-to-end tests: the real router binary in front of the real subgraphs, on free ports,
//! with MongoDB-protocol, PostgreSQL and Redis servers behind them. Each test gets its own
//! databases, cache prefix and router, and talks to the router as a client would.
//!
//! One module per promised behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod addresses;
mod authorization;
mod cancellation;
mod cart;
mod checkout;
mod errors;
mod federated_join;
mod filters;
mod identity;
mod notifications;
mod pagination;
mod rate_limit;
mod reviews;
mod stack;
