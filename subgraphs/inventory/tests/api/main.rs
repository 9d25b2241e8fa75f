//! Inventory tests against real PostgreSQL and its embedded twin, SQLite, in one binary:
//!
//! - `store`: reservations are all-or-nothing, idempotent and never oversell, and the
//!   database itself guards the stock invariants;
//! - `events`: each saga command answered once, in the same transaction as its effect;
//! - `graphql`: entity resolution and admin adjustments, through the schema without a socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod events;
mod graphql;
mod store;

use shop_inventory::store::InventoryStore;
use shop_testkit::{Backend, TempDir};

/// A fresh, migrated store on `backend` (PostgreSQL or SQLite), and the guard of its SQLite
/// file if any.
pub async fn fresh_store(backend: Backend) -> (InventoryStore, Option<TempDir>) {
    let (url, guard) = shop_testkit::fresh_sql_database(backend).await;
    let pool = if backend == Backend::Postgres { 60 } else { 8 };
    (InventoryStore::connect(&url, pool).await.expect("open the store"), guard)
}
