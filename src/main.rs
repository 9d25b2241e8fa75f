//! The all-in-one launcher.
//!
//! - `shop` (what `cargo run` runs): every subgraph on its port and the router on :4000 in
//!   one process, on embedded stores (SQLite files under `data/`, or `SHOP_DATA_DIR`;
//!   in-process cache and bus) unless the environment points the services at real servers;
//!   seeds the demo data first. Works from any working directory.
//! - `shop seed`: loads the demo data into the configured stores of the subgraphs that have
//!   some (users, catalog, inventory) and exits (for real servers).
//! - `shop export-schema DIR`: writes each subgraph's SDL to `DIR/<name>.graphql`.
//! - `shop dead-letters list|replay QUEUE [LIMIT]`: shows, or moves back to their queue, the
//!   messages a saga consumer gave up on (on the RabbitMQ the subgraphs' settings name).

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use shop_kernel::{
    Shared, SubgraphKind,
    config::{BusConfig, Environment},
    server,
    subgraph::{AnySettings, AnySubgraph},
};
use shop_messaging::{Bus, contracts};

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
            runtime.block_on(seed_only())
        }
        ("export-schema", Some(dir)) => export_schema(&PathBuf::from(dir)),
        ("dead-letters", Some(action)) => {
            let queue = args.get(2).context(USAGE)?;
            let limit = args.get(3).map_or(Ok(100), |n| n.parse::<usize>()).context("LIMIT must be a number")?;
            runtime.block_on(dead_letters(action, queue, limit))
        }
        _ => anyhow::bail!(USAGE),
    }
}

/// Points the router at the shipped `router/router.yaml` (by absolute path, so the file's
/// relative paths resolve from any working directory) unless told otherwise.
#[allow(unsafe_code)]
fn default_router_config() {
    if std::env::var_os("ROUTER_CONFIG_FILE_PATH").is_none() {
        let path = shop::shipped_file("router/router.yaml");
        // SAFETY: called first thing in `main`, before any other thread exists, so no
        // thread can be reading the environment concurrently.
        unsafe { std::env::set_var("ROUTER_CONFIG_FILE_PATH", path) };
    }
}

/// The settings of every subgraph `which` picks, from its defaults, file and environment.
fn load_settings(which: impl Fn(&SubgraphKind) -> bool) -> anyhow::Result<Vec<Box<dyn AnySettings>>> {
    shop::subgraphs()
        .iter()
        .filter(|kind| which(kind))
        .map(|kind| kind.load_settings().map_err(anyhow::Error::from))
        .collect()
}

/// What the process provides to every subgraph: one bus for all of them (the one broker
/// their settings name, or an in-process bus when none does).
async fn shared(settings: &mut [Box<dyn AnySettings>]) -> anyhow::Result<(Shared, &'static str)> {
    let environment = Environment::from_env_or(Environment::Development)?;
    let (bus, kind): (Arc<dyn Bus>, _) = match broker(settings)? {
        Some((url, config)) => {
            (shop_messaging::connect::connect(&url, &config).await.context("connecting to RabbitMQ")?, "RabbitMQ")
        }
        None => (shop_messaging::memory::InMemoryBus::new(contracts::topology()), "in-process"),
    };
    Ok((Shared::new(environment).with(bus), kind))
}

/// The broker the subgraphs' settings name, if any; they must agree, as they share it here.
fn broker(settings: &mut [Box<dyn AnySettings>]) -> anyhow::Result<Option<(String, BusConfig)>> {
    let mut found: Option<(String, BusConfig)> = None;
    for settings in settings.iter_mut() {
        let name = settings.name();
        let Some(bus) = settings.common().bus.filter(|bus| bus.amqp_url.is_some()).cloned() else { continue };
        let url = bus.amqp_url.as_ref().map(|url| url.expose().to_owned()).unwrap_or_default();
        match &found {
            None => found = Some((url, bus)),
            Some((first, config)) => anyhow::ensure!(
                *first == url && config.exchange == bus.exchange && config.queue_prefix == bus.queue_prefix,
                "{name} names another broker, exchange or queue prefix than the subgraphs before it: \
                 in one process they share one bus"
            ),
        }
    }
    Ok(found)
}

/// The demo data: `SHOP_SEED_FILE` if set, else the copy built into the binary.
fn demo_data() -> anyhow::Result<String> {
    match std::env::var_os("SHOP_SEED_FILE") {
        Some(path) => {
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", PathBuf::from(path).display()))
        }
        None => Ok(shop::DEMO_DATA.to_owned()),
    }
}

/// Seeds every subgraph that has demo data; returns what each loaded.
async fn seed(subgraphs: &[Box<dyn AnySubgraph>]) -> anyhow::Result<Vec<String>> {
    let demo = demo_data()?;
    let mut loaded = Vec::new();
    for subgraph in subgraphs {
        if let Some(summary) = subgraph.seed_demo(&demo).await? {
            loaded.push(format!("{}: {summary}", subgraph.name()));
        }
    }
    Ok(loaded)
}

async fn build(settings: &[Box<dyn AnySettings>], shared: &Shared) -> anyhow::Result<Vec<Box<dyn AnySubgraph>>> {
    let mut subgraphs = Vec::with_capacity(settings.len());
    for settings in settings {
        subgraphs.push(settings.build(shared).await?);
    }
    Ok(subgraphs)
}

async fn seed_only() -> anyhow::Result<()> {
    let mut settings = load_settings(SubgraphKind::seeds_demo_data)?;
    let (shared, _) = shared(&mut settings).await?;
    for line in seed(&build(&settings, &shared).await?).await? {
        println!("seeded {line}");
    }
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let mut settings = load_settings(|_| true)?;
    shop::check_together(&mut settings).map_err(anyhow::Error::msg)?;
    // Bind every port before the router starts: its first JWKS fetch then waits in the users
    // listener's backlog instead of failing and leaving tokens unverifiable until the next poll.
    let mut listeners = Vec::with_capacity(settings.len());
    for settings in &mut settings {
        let name = settings.name();
        let listen = settings.common().service.listen.clone();
        listeners.push(server::bind(&listen).await.with_context(|| format!("binding {name} on {listen}"))?);
    }
    // The router owns the process-wide log subscriber; start it before the services log.
    let router = shop_router::run_in_thread()?;
    let (shared, bus_kind) = shared(&mut settings).await?;
    let subgraphs = build(&settings, &shared).await?;
    // Seeded before any subgraph serves, so the first request through the router (a demo
    // login, say) waits in a listener's backlog rather than finding no account.
    let seeded =
        if std::env::var("SHOP_SEED").map_or(true, |v| v != "false") { seed(&subgraphs).await? } else { Vec::new() };

    let shutdown = server::shutdown_on_signal();
    let mut tasks = tokio::task::JoinSet::new();
    let mut lines = vec!["  GraphiQL:      http://localhost:4000/graphql".to_owned()];
    for (subgraph, listener) in subgraphs.iter().zip(listeners) {
        let port = listener.local_addr()?.port();
        lines.push(format!("  {:<14} http://localhost:{port}/graphql", format!("{}:", subgraph.name())));
        tasks.spawn(server::serve(listener, subgraph.app(), shutdown.clone()));
    }
    // The event workers: outbox relays, consumers, sweepers.
    for subgraph in &subgraphs {
        for worker in subgraph.start(&shutdown).await? {
            tasks.spawn(async move { worker.await.map_err(std::io::Error::other) });
        }
    }
    lines.push(format!("  event bus:     {bus_kind}"));
    lines.extend(seeded.iter().map(|line| format!("  seeded {line}")));
    lines.extend(subgraphs.iter().filter_map(|subgraph| subgraph.banner()).map(|line| format!("  {line}")));
    println!("\n{}\n  Ctrl-C stops everything.\n", lines.join("\n"));

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

/// Lists or replays the dead letters of one consumer queue (e.g. `inventory.commands`).
async fn dead_letters(action: &str, queue: &str, limit: usize) -> anyhow::Result<()> {
    let mut settings = load_settings(|_| true)?;
    let (url, config) = broker(&mut settings)?
        .context("set <SERVICE>__AMQP_URL to the broker (the embedded bus keeps nothing to inspect)")?;
    let bus = shop_messaging::connect::connect(&url, &config).await?;
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

/// Writes every subgraph's SDL; needs no store, broker or key.
fn export_schema(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for kind in shop::subgraphs() {
        let path = dir.join(format!("{}.graphql", kind.name()));
        std::fs::write(&path, kind.sdl()).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
