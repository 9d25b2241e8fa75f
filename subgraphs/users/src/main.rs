//! Runs the users subgraph on its own.

use shop_kernel::server;
use shop_users::{SERVICE, UsersConfig};

// Request handling allocates many small, short-lived values; mimalloc handles that far
// better than the system allocator under concurrency (measured with bench/products.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_kernel::telemetry::init();
    let config: UsersConfig = shop_kernel::config::load(SERVICE)?;
    let service = shop_users::build(&config).await?;
    let listener = server::bind(&config.listen).await?;
    let shutdown = server::shutdown_on_signal();
    let workers = service.start(shutdown.clone());
    server::serve(listener, service.app(), shutdown).await?;
    for worker in workers {
        worker.await?;
    }
    Ok(())
}
