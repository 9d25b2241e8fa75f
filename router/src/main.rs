//! The router binary.

// ntex's middleware types nest deeply.
#![recursion_limit = "256"]

use hive_router::{RouterGlobalAllocator, configure_global_allocator, error::RouterInitError, ntex};

configure_global_allocator!();

#[hive_router::main]
async fn main() -> Result<(), RouterInitError> {
    shop_router::run().await
}
