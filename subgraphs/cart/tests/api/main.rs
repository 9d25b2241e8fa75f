//! Integration tests of the cart subgraph, in one binary:
//!
//! - `store`: one contract, run against Redis and its in-memory twin;
//! - `graphql`: the schema driven directly, without a socket.
//!
//! Every Redis test gets its own key prefix, so tests run in parallel without seeing each
//! other's carts (and what they leave behind expires).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod events;
mod graphql;
mod store;

use std::{sync::Arc, time::Duration};

use shop_cart::store::{CartStore, MemoryCartStore, RedisCartStore};
use shop_testkit::Backend;

/// How long test carts live unless a test says otherwise.
pub const TEST_TTL: Duration = Duration::from_secs(120);

/// A fresh, empty store on `backend` (Redis or memory) whose carts expire `ttl` after their
/// last write.
pub async fn fresh_store(backend: Backend, ttl: Duration) -> Arc<dyn CartStore> {
    match backend {
        Backend::Redis => {
            let prefix = format!("{}:", shop_testkit::unique_name("shoptest:cart"));
            Arc::new(RedisCartStore::connect(&shop_testkit::redis_url(), &prefix, ttl).await.expect("connect to Redis"))
        }
        Backend::Memory => Arc::new(MemoryCartStore::new(ttl)),
        other => panic!("a cart store does not run on {other:?}"),
    }
}
