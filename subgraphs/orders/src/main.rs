//! Runs the orders subgraph on its own.

// Request handling allocates many small, short-lived values; mimalloc handles that far
// better than the system allocator under concurrency (measured with bench/products.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    shop_kernel::run::<shop_orders::OrdersService>()
}
