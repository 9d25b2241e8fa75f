#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Integration tests of the users subgraph, in one binary:
//!
//! - `store`: one contract, run against the SQLite (sea-orm) and MongoDB adapters.
//!
//! Every test gets its own SQLite file or MongoDB database, so they run in parallel without
//! seeing each other's data.

mod store;
