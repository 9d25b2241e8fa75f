//! Inventory tests against real PostgreSQL and its embedded twin, SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod events;
mod graphql;
mod store;

use shop_inventory::store::InventoryStore;
use shop_testkit as testkit;

/// The backends every contract test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A fresh, migrated store (and the guard of its SQLite file, if any).
pub async fn fresh_store(backend: Backend) -> (InventoryStore, Option<testkit::TempDir>) {
    match backend {
        Backend::Postgres => {
            let url = testkit::fresh_postgres_database().await;
            (InventoryStore::connect(&url, 60).await.expect("postgres store"), None)
        }
        Backend::Sqlite => {
            let (url, guard) = testkit::fresh_sqlite_database();
            (InventoryStore::connect(&url, 8).await.expect("sqlite store"), Some(guard))
        }
    }
}
