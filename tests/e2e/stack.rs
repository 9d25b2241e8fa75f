//! Starts a whole supergraph for one test.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shop_cart::CartConfig;
use shop_catalog::CatalogConfig;
use shop_inventory::InventoryConfig;
use shop_kernel::auth::AuthConfig;
use shop_users::UsersConfig;
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
    /// The PKCS#8 PEM of the key the users subgraph signs access tokens with, so tests can
    /// mint tokens the real issuer would never issue (expired, tampered).
    pub signing_key_pem: String,
    /// Each subgraph's own GraphQL URL, for checks that bypass the router.
    pub subgraph_urls: std::collections::HashMap<&'static str, String>,
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

/// The ports the subgraphs of one stack listen on.
struct Ports {
    users: u16,
    catalog: u16,
    inventory: u16,
    cart: u16,
}

/// `router/router.yaml` as shipped, pointed at this test's subgraphs and port.
fn router_config(dir: &Path, port: u16, ports: &Ports, options: &StackOptions) -> PathBuf {
    let shipped = std::fs::read_to_string(workspace_root().join("router/router.yaml")).unwrap();
    let mut config: serde_yaml::Value = serde_yaml::from_str(&shipped).unwrap();
    let supergraph = workspace_root().join("schema/supergraph.graphql");
    let overrides: serde_yaml::Value = serde_yaml::to_value(json!({
        "supergraph": { "source": "file", "path": supergraph.display().to_string() },
        "http": { "host": "127.0.0.1", "port": port },
        "override_subgraph_urls": { "subgraphs": {
            "users": { "url": format!("http://127.0.0.1:{}/graphql", ports.users) },
            "catalog": { "url": format!("http://127.0.0.1:{}/graphql", ports.catalog) },
            "inventory": { "url": format!("http://127.0.0.1:{}/graphql", ports.inventory) },
            "cart": { "url": format!("http://127.0.0.1:{}/graphql", ports.cart) },
        } },
    }))
    .unwrap();
    if let (serde_yaml::Value::Mapping(base), serde_yaml::Value::Mapping(changes)) = (&mut config, overrides) {
        for (key, value) in changes {
            base.insert(key, value);
        }
    }
    // The shipped plugins (strict JWT included), with this test's rate limit.
    config["plugins"]["rate_limit"] = serde_yaml::to_value(json!({ "enabled": true, "config": {
        "requests_per_second": options.rate_limit.0, "burst": options.rate_limit.1,
    } }))
    .unwrap();
    // Same JWT settings as shipped, with the key set of this test's users subgraph.
    config["jwt"]["jwks_providers"][0]["url"] =
        serde_yaml::Value::String(format!("http://127.0.0.1:{}/.well-known/jwks.json", ports.users));
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

/// Starts users (MongoDB protocol + Redis counters), catalog (MongoDB protocol + Redis cache),
/// inventory (PostgreSQL) and cart (Redis), seeds the demo catalog and accounts, and starts the
/// router binary in front of them.
pub async fn spawn_stack(options: StackOptions) -> Stack {
    let shutdown = CancellationToken::new();
    let dir_path = std::env::temp_dir().join(testkit::unique_name("shoptest-router"));
    std::fs::create_dir_all(&dir_path).unwrap();
    let prefix = |service: &str| format!("{}:{service}:", testkit::unique_name("shoptest"));

    let key_file = dir_path.join("signing-key.pem");
    let users_config = UsersConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        redis_url: Some(testkit::redis_url()),
        key_prefix: prefix("users"),
        signing_key_file: key_file.display().to_string(),
        ..UsersConfig::default()
    };
    let users = shop_users::build(&users_config).await.expect("users");
    shop_users::seed::apply(&users.identity).await.expect("seed accounts");
    let users_port = serve(users.app(), shutdown.clone()).await;
    let auth = AuthConfig { jwks_url: format!("http://127.0.0.1:{users_port}/.well-known/jwks.json"), ..AuthConfig::default() };

    let catalog_config = CatalogConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        redis_url: Some(testkit::redis_url()),
        cache_prefix: prefix("catalog"),
        auth: auth.clone(),
        ..CatalogConfig::default()
    };
    let inventory_config = InventoryConfig {
        database_url: testkit::fresh_postgres_database().await,
        max_connections: 8,
        auth: auth.clone(),
        ..InventoryConfig::default()
    };
    let cart_config = CartConfig { redis_url: Some(testkit::redis_url()), key_prefix: prefix("cart"), auth, ..CartConfig::default() };
    let catalog = shop_catalog::build(&catalog_config).await.expect("catalog");
    let inventory = shop_inventory::build(&inventory_config).await.expect("inventory");
    let cart = shop_cart::build(&cart_config).await.expect("cart");
    let (catalog_seed, stock_seed) = seed();
    shop_catalog::seed::apply(&catalog.catalog, &catalog_seed).await.expect("seed catalog");
    shop_inventory::seed::apply(&inventory.store, &stock_seed).await.expect("seed stock");
    let ports = Ports {
        users: users_port,
        catalog: serve(catalog.app(), shutdown.clone()).await,
        inventory: serve(inventory.app(), shutdown.clone()).await,
        cart: serve(cart.app(), shutdown.clone()).await,
    };

    let port = free_port();
    let config = router_config(&dir_path, port, &ports, &options);
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
    let signing_key_pem = std::fs::read_to_string(&key_file).unwrap();
    let subgraph_urls = [("users", ports.users), ("catalog", ports.catalog), ("inventory", ports.inventory), ("cart", ports.cart)]
        .into_iter()
        .map(|(name, port)| (name, format!("http://127.0.0.1:{port}/graphql")))
        .collect();
    Stack { router_url, http, signing_key_pem, subgraph_urls, _router: router, shutdown, _dir: testkit::TempDir::new(dir_path) }
}

impl Stack {
    /// POSTs an operation to the router; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        self.graphql_with(None, query, variables).await
    }

    /// POSTs an operation with `Authorization: Bearer <token>`.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        self.graphql_with(Some(token), query, variables).await
    }

    async fn graphql_with(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        self.post(&format!("{}/graphql", self.router_url), token, query, variables).await
    }

    async fn post(&self, url: &str, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self.http.post(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.json(&json!({ "query": query, "variables": variables })).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs an operation straight to one subgraph, bypassing the router.
    pub async fn subgraph(&self, name: &str, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        self.post(&self.subgraph_urls[name], token, query, variables).await
    }

    /// Signs in through the router; returns the whole `login` payload.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .graphql(
                "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id email roles } userErrors { code message } } }",
                json!({ "input": { "email": email, "password": password } }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["login"].clone()
    }

    /// Registers a new customer through the router; returns the `register` payload.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .graphql(
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id email roles } userErrors { field code message } } }",
                json!({ "input": { "email": email, "password": password, "name": "Test Customer" } }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["register"].clone()
    }

    /// An access token of the seeded admin.
    pub async fn admin_token(&self) -> String {
        let login = self.login(shop_users::seed::ADMIN_EMAIL, shop_users::seed::ADMIN_PASSWORD).await;
        login["accessToken"].as_str().expect("admin login").to_owned()
    }
}
