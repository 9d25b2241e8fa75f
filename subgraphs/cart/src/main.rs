//! Runs the cart subgraph on its own.

use shop_cart::{CartConfig, SERVICE};
use shop_kernel::server;

// Request handling allocates many small, short-lived values; mimalloc handles that far
// better than the system allocator under concurrency (measured with bench/products.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_kernel::telemetry::init();
    let config: CartConfig = shop_kernel::config::load(SERVICE)?;
    let service = shop_cart::build(&config).await?;
    let listener = server::bind(&config.listen).await?;
    server::serve(listener, service.app(), server::shutdown_on_signal()).await?;
    Ok(())
}
