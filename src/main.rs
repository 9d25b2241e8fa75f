//! The all-in-one launcher.
//!
//! - `shop` (what `cargo run` runs): every subgraph on its port and the router on :4000 in
//!   one process, on embedded stores (SQLite files under `data/`, in-process cache) unless
//!   the environment points the services at real servers; seeds the demo catalog first.
//! - `shop seed`: seeds the configured stores and exits (for real servers).
//! - `shop export-schema DIR`: writes each subgraph's SDL to `DIR/<name>.graphql`.
//! - `shop dead-letters list|replay QUEUE [LIMIT]`: shows, or moves back to their queue, the
//!   messages a saga consumer gave up on (RabbitMQ named by `ORDERS__AMQP_URL`).

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use shop_cart::CartConfig;
use shop_catalog::CatalogConfig;
use shop_inventory::InventoryConfig;
use shop_kernel::server;
use shop_messaging::{Bus, contracts};
use shop_notifications::NotificationsConfig;
use shop_orders::OrdersConfig;
use shop_payments::PaymentsConfig;
use shop_reviews::ReviewsConfig;
use shop_users::UsersConfig;

// Request handling allocates many small, short-lived values; mimalloc handles that far
// better than the system allocator under concurrency (measured with bench/products.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: shop [run | seed | export-schema DIR | dead-letters list|replay QUEUE [LIMIT]]";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("run", String::as_str);
    if command == "run" {
        default_router_config();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match (command, args.get(1)) {
        ("run", None) => runtime.block_on(run()),
        ("seed", None) => {
            shop_kernel::telemetry::init();
            runtime.block_on(async {
                let configs = Configs::load()?;
                let users = shop_users::build(&configs.users).await?;
                seed(
                    &shop_catalog::build(&configs.catalog).await?,
                    &shop_inventory::build(&configs.inventory).await?,
                    &users,
                )
                .await
            })
        }
        ("export-schema", Some(dir)) => runtime.block_on(export_schema(PathBuf::from(dir))),
        ("dead-letters", Some(action)) => {
            let queue = args.get(2).context(USAGE)?;
            let limit = args.get(3).map_or(Ok(100), |n| n.parse::<usize>()).context("LIMIT must be a number")?;
            runtime.block_on(dead_letters(action, queue, limit))
        }
        _ => anyhow::bail!(USAGE),
    }
}

/// Points the router at `router/router.yaml` unless told otherwise.
#[allow(unsafe_code)]
fn default_router_config() {
    if std::env::var_os("ROUTER_CONFIG_FILE_PATH").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists, so no
        // thread can be reading the environment concurrently.
        unsafe { std::env::set_var("ROUTER_CONFIG_FILE_PATH", "router/router.yaml") };
    }
}

/// The configuration of every service.
struct Configs {
    users: UsersConfig,
    catalog: CatalogConfig,
    inventory: InventoryConfig,
    cart: CartConfig,
    orders: OrdersConfig,
    payments: PaymentsConfig,
    notifications: NotificationsConfig,
    reviews: ReviewsConfig,
}

impl Configs {
    fn load() -> anyhow::Result<Self> {
        use shop_kernel::config::load;
        Ok(Self {
            users: load(shop_users::SERVICE)?,
            catalog: load(shop_catalog::SERVICE)?,
            inventory: load(shop_inventory::SERVICE)?,
            cart: load(shop_cart::SERVICE)?,
            orders: load(shop_orders::SERVICE)?,
            payments: load(shop_payments::SERVICE)?,
            notifications: load(shop_notifications::SERVICE)?,
            reviews: load(shop_reviews::SERVICE)?,
        })
    }
}

fn seed_file() -> PathBuf {
    std::env::var_os("SHOP_SEED_FILE").map_or_else(|| PathBuf::from("seed/catalog.json"), PathBuf::from)
}

async fn seed(
    catalog: &shop_catalog::CatalogService,
    inventory: &shop_inventory::InventoryService,
    users: &shop_users::UsersService,
) -> anyhow::Result<()> {
    let path = seed_file();
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let catalog_seed: shop_catalog::seed::SeedCatalog =
        serde_json::from_str(&text).context("parsing the catalog seed")?;
    let stock_seed: shop_inventory::seed::SeedStock = serde_json::from_str(&text).context("parsing the stock seed")?;
    let products = shop_catalog::seed::apply(&catalog.catalog, &catalog_seed).await?;
    let skus = shop_inventory::seed::apply(&inventory.store, &stock_seed).await?;
    let accounts = shop_users::seed::apply(&users.identity).await?;
    println!(
        "seeded {products} products and the stock of {skus} SKUs from {}, {accounts} demo accounts",
        path.display()
    );
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let configs = Configs::load()?;
    // Bind every port before the router starts: its first JWKS fetch then waits in the users
    // listener's backlog instead of failing and leaving tokens unverifiable until the next poll.
    let users_listener = server::bind(&configs.users.listen).await.context("binding users")?;
    let catalog_listener = server::bind(&configs.catalog.listen).await.context("binding catalog")?;
    let inventory_listener = server::bind(&configs.inventory.listen).await.context("binding inventory")?;
    let cart_listener = server::bind(&configs.cart.listen).await.context("binding cart")?;
    let orders_listener = server::bind(&configs.orders.listen).await.context("binding orders")?;
    let payments_listener = server::bind(&configs.payments.listen).await.context("binding payments")?;
    let notifications_listener = server::bind(&configs.notifications.listen).await.context("binding notifications")?;
    let reviews_listener = server::bind(&configs.reviews.listen).await.context("binding reviews")?;
    // The router owns the process-wide log subscriber; start it before the services log.
    let router = shop_router::run_in_thread()?;
    let bus = saga_bus(&configs).await?;
    let users = shop_users::build_with_bus(&configs.users, bus.clone()).await.context("starting users")?;
    let catalog = shop_catalog::build(&configs.catalog).await.context("starting catalog")?;
    let inventory = shop_inventory::build(&configs.inventory).await.context("starting inventory")?;
    let cart = shop_cart::build(&configs.cart).await.context("starting cart")?;
    let orders = shop_orders::from_parts(&configs.orders.database_url, bus.clone(), &configs.orders)
        .await
        .context("starting orders")?;
    let payments = shop_payments::from_parts(&configs.payments.database_url, bus.clone(), &configs.payments)
        .await
        .context("starting payments")?;
    let notifications =
        shop_notifications::from_parts(&configs.notifications.database_url, bus.clone(), &configs.notifications)
            .await
            .context("starting notifications")?;
    let reviews = shop_reviews::from_parts(&configs.reviews.database_url, bus.clone(), &configs.reviews)
        .await
        .context("starting reviews")?;

    let shutdown = server::shutdown_on_signal();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(server::serve(users_listener, users.app(), shutdown.clone()));
    tasks.spawn(server::serve(catalog_listener, catalog.app(), shutdown.clone()));
    tasks.spawn(server::serve(inventory_listener, inventory.app(), shutdown.clone()));
    tasks.spawn(server::serve(cart_listener, cart.app(), shutdown.clone()));
    tasks.spawn(server::serve(orders_listener, orders.app(), shutdown.clone()));
    tasks.spawn(server::serve(payments_listener, payments.app(), shutdown.clone()));
    tasks.spawn(server::serve(notifications_listener, notifications.app(), shutdown.clone()));
    tasks.spawn(server::serve(reviews_listener, reviews.app(), shutdown.clone()));
    if std::env::var("SHOP_SEED").map_or(true, |v| v != "false") {
        seed(&catalog, &inventory, &users).await?;
    }
    // The event workers: outbox relays, consumers, sweepers.
    let mut workers = users.start(shutdown.clone());
    workers.extend(inventory.start(bus.clone(), &shutdown).await.context("starting inventory workers")?);
    workers.extend(orders.start(shutdown.clone()).await.context("starting orders workers")?);
    workers.extend(payments.start(shutdown.clone()).await.context("starting payments workers")?);
    workers.extend(notifications.start(shutdown.clone()).await.context("starting notifications workers")?);
    workers.extend(reviews.start(shutdown.clone()).await.context("starting reviews workers")?);
    for worker in workers {
        tasks.spawn(async move { worker.await.map_err(std::io::Error::other) });
    }

    println!(
        "\n  GraphiQL:  http://localhost:4000/graphql\n  users:     http://localhost:4001/graphql\n  catalog:   http://localhost:4002/graphql\n  inventory: http://localhost:4003/graphql\n  cart:      http://localhost:4004/graphql\n  orders:    http://localhost:4005/graphql\n  payments:  http://localhost:4006/graphql\n  notifications: http://localhost:4007/graphql\n  reviews:   http://localhost:4008/graphql\n  event bus: {}\n  emails:    {}\n  demo admin: {} / {}\n  demo customer: {} / {}\n  Ctrl-C stops everything.\n",
        if configs.orders.amqp_url.is_some() { "RabbitMQ" } else { "in-process" },
        mail_destination(&configs.notifications),
        shop_users::seed::ADMIN_EMAIL,
        shop_users::seed::ADMIN_PASSWORD,
        shop_users::seed::CUSTOMER_EMAIL,
        shop_users::seed::CUSTOMER_PASSWORD,
    );
    shutdown.cancelled().await;
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    // The router stops on the same signal; give it a moment to drain.
    let joined = tokio::task::spawn_blocking(move || router.join());
    match tokio::time::timeout(Duration::from_secs(10), joined).await {
        Ok(Ok(Ok(Ok(())))) => Ok(()),
        Ok(Ok(Ok(Err(error)))) => anyhow::bail!("router: {error}"),
        Ok(Ok(Err(_))) => anyhow::bail!("router thread panicked"),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => anyhow::bail!("router did not stop within 10s"),
    }
}

/// Where the embedded notifications service puts the emails it sends, for the banner.
fn mail_destination(config: &NotificationsConfig) -> String {
    use shop_notifications::config::TransportKind;
    match config.email.transport {
        TransportKind::File => format!("one .eml file per email in {}/", config.email.file_dir),
        TransportKind::Smtp => format!("SMTP {}", config.email.smtp_url.as_deref().unwrap_or("(unset)")),
        TransportKind::Memory => "kept in memory".to_owned(),
    }
}

/// The bus the saga runs on: RabbitMQ when `ORDERS__AMQP_URL` names one (every service of
/// this process then shares that broker), else one in-process bus for all of them.
async fn saga_bus(configs: &Configs) -> anyhow::Result<Arc<dyn Bus>> {
    let orders = &configs.orders;
    match &orders.amqp_url {
        Some(url) => shop_messaging::connect::connect("shop", Some(url), &orders.exchange, &orders.queue_prefix)
            .await
            .context("connecting to RabbitMQ"),
        None => Ok(shop_messaging::memory::InMemoryBus::new(contracts::topology())),
    }
}

/// Lists or replays the dead letters of one consumer queue (e.g. `inventory.commands`).
async fn dead_letters(action: &str, queue: &str, limit: usize) -> anyhow::Result<()> {
    let configs = Configs::load()?;
    anyhow::ensure!(
        configs.orders.amqp_url.is_some(),
        "set ORDERS__AMQP_URL to the broker (the embedded bus keeps nothing to inspect)"
    );
    let bus = saga_bus(&configs).await?;
    match action {
        "list" => {
            for letter in bus.dead_letters(queue, limit).await? {
                let (kind, id) = letter
                    .envelope
                    .as_ref()
                    .map_or(("undecodable", String::new()), |e| (e.kind.as_str(), e.id.to_string()));
                println!("{kind} {id} after {} attempts: {}\n  {}", letter.attempts, letter.reason, letter.body);
            }
        }
        "replay" => println!("replayed {} messages to {queue}", bus.replay_dead_letters(queue, limit).await?),
        _ => anyhow::bail!(USAGE),
    }
    Ok(())
}

async fn export_schema(dir: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&dir)?;
    let in_memory = "sqlite::memory:".to_owned();
    // The SDL needs no stored data and no persistent key: an unprepared in-memory store and a
    // throwaway key will do.
    let bus: Arc<dyn Bus> = shop_messaging::memory::InMemoryBus::new(contracts::topology());
    let users = shop_users::from_parts(
        Arc::new(shop_users::store::sql::SqlUserStore::connect(&in_memory).await?),
        Arc::new(shop_kernel::cache::MemoryCache::new(1)),
        shop_users::keys::SigningKeys::from_pems(&shop_users::keys::generate_pem()?, &[])?,
        bus.clone(),
        &UsersConfig::default(),
    );
    let catalog =
        shop_catalog::build(&CatalogConfig { database_url: in_memory.clone(), ..CatalogConfig::default() }).await?;
    let inventory = shop_inventory::build(&InventoryConfig {
        database_url: in_memory.clone(),
        max_connections: 1,
        ..InventoryConfig::default()
    })
    .await?;
    let cart = shop_cart::build(&CartConfig::default()).await?;
    let orders = shop_orders::from_parts(&in_memory, bus.clone(), &OrdersConfig::default()).await?;
    let payments = shop_payments::from_parts(&in_memory, bus.clone(), &PaymentsConfig::default()).await?;
    let mut notifications_config = NotificationsConfig::default();
    notifications_config.email.transport = shop_notifications::config::TransportKind::Memory;
    let notifications = shop_notifications::from_parts(&in_memory, bus.clone(), &notifications_config).await?;
    let reviews = shop_reviews::from_parts(&in_memory, bus, &ReviewsConfig::default()).await?;
    for (name, sdl) in [
        ("users", users.sdl()),
        ("catalog", catalog.sdl()),
        ("inventory", inventory.sdl()),
        ("cart", cart.sdl()),
        ("orders", orders.sdl()),
        ("payments", payments.sdl()),
        ("notifications", notifications.sdl()),
        ("reviews", reviews.sdl()),
    ] {
        let path = dir.join(format!("{name}.graphql"));
        std::fs::write(&path, sdl).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
