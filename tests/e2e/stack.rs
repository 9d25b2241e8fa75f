//! Starts a whole supergraph for one test.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shop_catalog::CatalogConfig;
use shop_inventory::InventoryConfig;
use shop_testkit as testkit;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// What a test may change about the stack.
pub struct StackOptions {
    /// Router rate limit: sustained requests per second and burst.
    pub rate_limit: (u32, u32),
}

impl Default for StackOptions {
    fn default() -> Self {
        Self { rate_limit: (10_000, 10_000) }
    }
}

/// A running supergraph; everything stops when it is dropped.
pub struct Stack {
    pub router_url: String,
    pub http: reqwest::Client,
    _router: Child,
    shutdown: CancellationToken,
    _dir: testkit::TempDir,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The router binary, built by the same `cargo build`/`nextest` run as this test.
fn router_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/e2e-… → target/debug/shop-router
    exe.parent().and_then(Path::parent).expect("target dir").join("shop-router")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn seed() -> (shop_catalog::seed::SeedCatalog, shop_inventory::seed::SeedStock) {
    let text = std::fs::read_to_string(workspace_root().join("seed/catalog.json")).unwrap();
    (serde_json::from_str(&text).unwrap(), serde_json::from_str(&text).unwrap())
}

/// `router/router.yaml` as shipped, pointed at this test's subgraphs and port.
fn router_config(dir: &Path, port: u16, catalog: u16, inventory: u16, options: &StackOptions) -> PathBuf {
    let shipped = std::fs::read_to_string(workspace_root().join("router/router.yaml")).unwrap();
    let mut config: serde_yaml::Value = serde_yaml::from_str(&shipped).unwrap();
    let supergraph = workspace_root().join("schema/supergraph.graphql");
    let overrides: serde_yaml::Value = serde_yaml::to_value(json!({
        "supergraph": { "source": "file", "path": supergraph.display().to_string() },
        "http": { "host": "127.0.0.1", "port": port },
        "override_subgraph_urls": { "subgraphs": {
            "catalog": { "url": format!("http://127.0.0.1:{catalog}/graphql") },
            "inventory": { "url": format!("http://127.0.0.1:{inventory}/graphql") },
        } },
        "plugins": { "rate_limit": { "enabled": true, "config": {
            "requests_per_second": options.rate_limit.0, "burst": options.rate_limit.1,
        } } },
    }))
    .unwrap();
    if let (serde_yaml::Value::Mapping(base), serde_yaml::Value::Mapping(changes)) = (&mut config, overrides) {
        for (key, value) in changes {
            base.insert(key, value);
        }
    }
    let path = dir.join("router.yaml");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}

async fn serve(app: axum::Router, shutdown: CancellationToken) -> u16 {
    let listener = shop_kernel::server::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(shop_kernel::server::serve(listener, app, shutdown));
    port
}

/// Starts catalog (MongoDB protocol + Redis cache) and inventory (PostgreSQL), seeds the
/// demo catalog, and starts the router binary in front of them.
pub async fn spawn_stack(options: StackOptions) -> Stack {
    let shutdown = CancellationToken::new();
    let catalog_config = CatalogConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        redis_url: Some(testkit::redis_url()),
        cache_prefix: format!("{}:", testkit::unique_name("shoptest")),
        ..CatalogConfig::default()
    };
    let inventory_config = InventoryConfig {
        database_url: testkit::fresh_postgres_database().await,
        max_connections: 8,
        ..InventoryConfig::default()
    };
    let catalog = shop_catalog::build(&catalog_config).await.expect("catalog");
    let inventory = shop_inventory::build(&inventory_config).await.expect("inventory");
    let (catalog_seed, stock_seed) = seed();
    shop_catalog::seed::apply(&catalog.catalog, &catalog_seed).await.expect("seed catalog");
    shop_inventory::seed::apply(&inventory.store, &stock_seed).await.expect("seed stock");
    let catalog_port = serve(catalog.app(), shutdown.clone()).await;
    let inventory_port = serve(inventory.app(), shutdown.clone()).await;

    let dir_path = std::env::temp_dir().join(testkit::unique_name("shoptest-router"));
    std::fs::create_dir_all(&dir_path).unwrap();
    let port = free_port();
    let config = router_config(&dir_path, port, catalog_port, inventory_port, &options);
    let log = std::fs::File::create(dir_path.join("router.log")).unwrap();
    let router = Command::new(router_binary())
        .env("ROUTER_CONFIG_FILE_PATH", &config)
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it with `cargo build --bins`)", router_binary().display()));

    let router_url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = http.get(format!("{router_url}/readiness")).send().await.is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "router did not become ready; its log:\n{}",
            std::fs::read_to_string(dir_path.join("router.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Stack { router_url, http, _router: router, shutdown, _dir: testkit::TempDir::new(dir_path) }
}

impl Stack {
    /// POSTs an operation to the router; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/graphql", self.router_url))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
