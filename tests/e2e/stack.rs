//! Starts a whole supergraph for one test.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shop_cart::CartConfig;
use shop_catalog::CatalogConfig;
use shop_inventory::InventoryConfig;
use shop_kernel::auth::AuthConfig;
use shop_notifications::{
    NotificationsConfig,
    config::{DeliveryConfig, EmailConfig, TransportKind},
};
use shop_orders::OrdersConfig;
use shop_payments::PaymentsConfig;
use shop_reviews::ReviewsConfig;
use shop_testkit as testkit;
use shop_users::UsersConfig;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// What a test may change about the stack.
pub struct StackOptions {
    /// Router rate limit: sustained requests per second and burst.
    pub rate_limit: (u32, u32),
    /// How long orders waits for a payment answer before cancelling, in seconds.
    pub payment_timeout_secs: u64,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self { rate_limit: (10_000, 10_000), payment_timeout_secs: 120 }
    }
}

/// One subgraph of the stack that a test may stop and start again (same database, same
/// port), as a deployment restarts a process.
pub struct Restartable<C> {
    config: C,
    port: u16,
    shutdown: CancellationToken,
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
    /// The inventory database, for checking stock invariants after a test.
    pub inventory_db: String,
    /// The payments database.
    pub payments_db: String,
    /// The notifications database.
    pub notifications_db: String,
    orders_config: OrdersConfig,
    payments: tokio::sync::Mutex<Restartable<PaymentsConfig>>,
    notifications: tokio::sync::Mutex<Restartable<NotificationsConfig>>,
    /// Where notifications writes its emails (file transport, one `<id>.eml` each).
    mail_dir: PathBuf,
    /// HTTP requests the reviews subgraph has received.
    reviews_requests: Arc<AtomicUsize>,
    inventory: tokio::sync::Mutex<Restartable<InventoryConfig>>,
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
    orders: u16,
    payments: u16,
    notifications: u16,
    reviews: u16,
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
            "orders": { "url": format!("http://127.0.0.1:{}/graphql", ports.orders) },
            "payments": { "url": format!("http://127.0.0.1:{}/graphql", ports.payments) },
            "notifications": { "url": format!("http://127.0.0.1:{}/graphql", ports.notifications) },
            "reviews": { "url": format!("http://127.0.0.1:{}/graphql", ports.reviews) },
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
    serve_on(0, app, shutdown).await
}

async fn serve_on(port: u16, app: axum::Router, shutdown: CancellationToken) -> u16 {
    let listener = shop_kernel::server::bind(&format!("127.0.0.1:{port}")).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(shop_kernel::server::serve(listener, app, shutdown));
    port
}

/// The broker settings of one stack: the local RabbitMQ with names no other test uses.
fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Starts inventory (its HTTP app and its saga workers) on `port` (0 = any); returns the port.
async fn start_inventory(config: &InventoryConfig, port: u16, shutdown: CancellationToken) -> u16 {
    let inventory = shop_inventory::build(config).await.expect("inventory");
    let bus = shop_inventory::connect_bus(config).await.expect("inventory bus");
    inventory.start(bus, &shutdown).await.expect("inventory workers");
    serve_on(port, inventory.app(), shutdown).await
}

/// Starts payments (its HTTP app and its saga workers) on `port` (0 = any); returns the port.
async fn start_payments(config: &PaymentsConfig, port: u16, shutdown: CancellationToken) -> u16 {
    let payments = shop_payments::build(config).await.expect("payments");
    payments.start(shutdown.clone()).await.expect("payments workers");
    serve_on(port, payments.app(), shutdown).await
}

/// Starts notifications (its HTTP app, event consumer and delivery worker) on `port` (0 = any);
/// returns the port.
async fn start_notifications(config: &NotificationsConfig, port: u16, shutdown: CancellationToken) -> u16 {
    let notifications = shop_notifications::build(config).await.expect("notifications");
    notifications.start(shutdown.clone()).await.expect("notifications workers");
    serve_on(port, notifications.app(), shutdown).await
}

/// Starts users (MongoDB protocol + Redis counters), catalog (MongoDB protocol + Redis cache),
/// inventory (PostgreSQL) and cart (Redis), seeds the demo catalog and accounts, and starts the
/// router binary in front of them.
pub async fn spawn_stack(options: StackOptions) -> Stack {
    let shutdown = CancellationToken::new();
    let dir_path = std::env::temp_dir().join(testkit::unique_name("shoptest-router"));
    std::fs::create_dir_all(&dir_path).unwrap();
    let prefix = |service: &str| format!("{}:{service}:", testkit::unique_name("shoptest"));

    let queue_prefix = format!("{}.", testkit::unique_name("shoptest"));
    let key_file = dir_path.join("signing-key.pem");
    let users_config = UsersConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        redis_url: Some(testkit::redis_url()),
        key_prefix: prefix("users"),
        signing_key_file: key_file.display().to_string(),
        amqp_url: Some(amqp_url()),
        queue_prefix: queue_prefix.clone(),
        ..UsersConfig::default()
    };
    let users = shop_users::build(&users_config).await.expect("users");
    users.start(shutdown.clone());
    shop_users::seed::apply(&users.identity).await.expect("seed accounts");
    let users_port = serve(users.app(), shutdown.clone()).await;
    let auth = AuthConfig {
        jwks_url: format!("http://127.0.0.1:{users_port}/.well-known/jwks.json"),
        ..AuthConfig::default()
    };

    let catalog_config = CatalogConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        redis_url: Some(testkit::redis_url()),
        cache_prefix: prefix("catalog"),
        auth: auth.clone(),
        ..CatalogConfig::default()
    };
    let inventory_db = testkit::fresh_postgres_database().await;
    let inventory_config = InventoryConfig {
        database_url: inventory_db.clone(),
        max_connections: 8,
        amqp_url: Some(amqp_url()),
        queue_prefix: queue_prefix.clone(),
        auth: auth.clone(),
        ..InventoryConfig::default()
    };
    let cart_config = CartConfig {
        redis_url: Some(testkit::redis_url()),
        key_prefix: prefix("cart"),
        auth: auth.clone(),
        ..CartConfig::default()
    };
    let catalog = shop_catalog::build(&catalog_config).await.expect("catalog");
    let cart = shop_cart::build(&cart_config).await.expect("cart");
    let (catalog_seed, stock_seed) = seed();
    shop_catalog::seed::apply(&catalog.catalog, &catalog_seed).await.expect("seed catalog");
    let inventory_store =
        shop_inventory::store::InventoryStore::connect(&inventory_config.database_url, 2).await.expect("inventory db");
    shop_inventory::seed::apply(&inventory_store, &stock_seed).await.expect("seed stock");
    let inventory_shutdown = shutdown.child_token();
    let inventory_port = start_inventory(&inventory_config, 0, inventory_shutdown.clone()).await;
    let catalog_port = serve(catalog.app(), shutdown.clone()).await;
    let cart_port = serve(cart.app(), shutdown.clone()).await;

    let payments_db = testkit::fresh_postgres_database().await;
    let payments_config = PaymentsConfig {
        database_url: payments_db.clone(),
        max_connections: 8,
        amqp_url: Some(amqp_url()),
        queue_prefix: queue_prefix.clone(),
        auth: auth.clone(),
        ..PaymentsConfig::default()
    };
    let payments_shutdown = shutdown.child_token();
    let payments_port = start_payments(&payments_config, 0, payments_shutdown.clone()).await;

    let notifications_db = testkit::fresh_postgres_database().await;
    let mail_dir = dir_path.join("mail");
    let notifications_config = NotificationsConfig {
        database_url: notifications_db.clone(),
        max_connections: 4,
        amqp_url: Some(amqp_url()),
        queue_prefix: queue_prefix.clone(),
        auth: auth.clone(),
        email: EmailConfig {
            transport: TransportKind::File,
            file_dir: mail_dir.display().to_string(),
            ..EmailConfig::default()
        },
        delivery: DeliveryConfig { poll_interval_ms: 100, initial_backoff_ms: 200, ..DeliveryConfig::default() },
        ..NotificationsConfig::default()
    };
    let notifications_shutdown = shutdown.child_token();
    let notifications_port = start_notifications(&notifications_config, 0, notifications_shutdown.clone()).await;

    let reviews_config = ReviewsConfig {
        database_url: testkit::mongo_url(),
        mongo_database: testkit::unique_name("shoptest"),
        amqp_url: Some(amqp_url()),
        queue_prefix: queue_prefix.clone(),
        auth: auth.clone(),
        ..ReviewsConfig::default()
    };
    let reviews = shop_reviews::build(&reviews_config).await.expect("reviews");
    reviews.start(shutdown.clone()).await.expect("reviews workers");
    let reviews_requests = Arc::new(AtomicUsize::new(0));
    let counter = reviews_requests.clone();
    let counted = reviews.app().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            if request.uri().path() == "/graphql" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            next.run(request)
        },
    ));
    let reviews_port = serve(counted, shutdown.clone()).await;

    let subgraph = |port: u16| format!("http://127.0.0.1:{port}/graphql");
    let orders_config = OrdersConfig {
        database_url: testkit::fresh_postgres_database().await,
        max_connections: 8,
        amqp_url: Some(amqp_url()),
        queue_prefix,
        catalog_url: subgraph(catalog_port),
        inventory_url: subgraph(inventory_port),
        users_url: subgraph(users_port),
        cart_url: subgraph(cart_port),
        payment_timeout_secs: options.payment_timeout_secs,
        sweep_interval_secs: 1,
        auth,
        ..OrdersConfig::default()
    };
    let orders = shop_orders::build(&orders_config).await.expect("orders");
    orders.start(shutdown.clone()).await.expect("orders workers");

    let ports = Ports {
        users: users_port,
        catalog: catalog_port,
        inventory: inventory_port,
        cart: cart_port,
        orders: serve(orders.app(), shutdown.clone()).await,
        payments: payments_port,
        notifications: notifications_port,
        reviews: reviews_port,
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
        .unwrap_or_else(|e| {
            panic!("cannot start {}: {e} (build it with `cargo build --bins`)", router_binary().display())
        });

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
    let subgraph_urls = [
        ("users", ports.users),
        ("catalog", ports.catalog),
        ("inventory", ports.inventory),
        ("cart", ports.cart),
        ("orders", ports.orders),
        ("payments", ports.payments),
        ("notifications", ports.notifications),
        ("reviews", ports.reviews),
    ]
    .into_iter()
    .map(|(name, port)| (name, format!("http://127.0.0.1:{port}/graphql")))
    .collect();
    Stack {
        router_url,
        http,
        signing_key_pem,
        subgraph_urls,
        inventory_db,
        payments_db,
        notifications_db,
        orders_config,
        payments: tokio::sync::Mutex::new(Restartable {
            config: payments_config,
            port: payments_port,
            shutdown: payments_shutdown,
        }),
        notifications: tokio::sync::Mutex::new(Restartable {
            config: notifications_config,
            port: notifications_port,
            shutdown: notifications_shutdown,
        }),
        mail_dir,
        reviews_requests,
        inventory: tokio::sync::Mutex::new(Restartable {
            config: inventory_config,
            port: inventory_port,
            shutdown: inventory_shutdown,
        }),
        _router: router,
        shutdown,
        _dir: testkit::TempDir::new(dir_path),
    }
}

/// One email the notifications service sent, as read back from its `.eml` file.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The notification's kind (`ORDER_CONFIRMED`, …), from the notifications database.
    pub kind: String,
    /// The `To` address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
}

impl Stack {
    /// Every email sent to `address` so far (parsed from the file transport's `.eml` files,
    /// each named by its notification id, whose kind comes from the notifications database).
    pub async fn mails_to(&self, address: &str) -> Vec<Mail> {
        use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else { return Vec::new() };
        let mut parsed = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let raw = std::fs::read(&path).unwrap();
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let to = message.to().and_then(|to| to.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
            if !to.eq_ignore_ascii_case(address) {
                continue;
            }
            let id = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mail = Mail {
                kind: String::new(),
                to,
                subject: message.subject().unwrap_or_default().to_owned(),
                text: message.body_text(0).unwrap_or_default().into_owned(),
                html: message.body_html(0).unwrap_or_default().into_owned(),
            };
            parsed.push((id, mail));
        }
        if parsed.is_empty() {
            return Vec::new();
        }
        // One query for the kinds of every mail found.
        let db = Database::connect(self.notifications_db.as_str()).await.unwrap();
        let ids: Vec<sea_orm::Value> = parsed.iter().map(|(id, _)| id.clone().into()).collect();
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT id, kind FROM notifications WHERE id IN ({})", placeholders.join(", ")),
                ids,
            ))
            .await
            .unwrap();
        db.close().await.ok();
        let kinds: std::collections::HashMap<String, String> =
            rows.iter().map(|row| (row.try_get("", "id").unwrap(), row.try_get("", "kind").unwrap())).collect();
        parsed
            .into_iter()
            .map(|(id, mail)| Mail {
                kind: kinds
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| panic!("an email for notification {id}, which does not exist")),
                ..mail
            })
            .collect()
    }

    /// What the notifications database and mail folder hold, for failure messages.
    pub async fn notifications_state(&self) -> String {
        use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
        let db = Database::connect(self.notifications_db.as_str()).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT kind || ' ' || status || ' ' || COALESCE(recipient, '-') || ' ' || COALESCE(last_error, '-') AS line FROM notifications",
            ))
            .await
            .unwrap();
        db.close().await.ok();
        let lines: Vec<String> = rows.iter().map(|row| row.try_get::<String>("", "line").unwrap()).collect();
        let files: Vec<String> = std::fs::read_dir(&self.mail_dir)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        format!("notifications: {lines:?}; files in {}: {files:?}", self.mail_dir.display())
    }

    /// Stops the notifications service (HTTP, consumer and delivery) as a crashed process would.
    pub async fn stop_notifications(&self) {
        self.notifications.lock().await.shutdown.cancel();
        // Let the listener and the consumer wind down before the test goes on.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Starts notifications again on the same database and port.
    pub async fn start_notifications(&self) {
        let mut notifications = self.notifications.lock().await;
        notifications.shutdown = self.shutdown.child_token();
        start_notifications(&notifications.config, notifications.port, notifications.shutdown.clone()).await;
    }

    /// How many HTTP requests the reviews subgraph has received so far.
    pub fn reviews_requests(&self) -> usize {
        self.reviews_requests.load(Ordering::SeqCst)
    }

    /// How many `operation`s (AUTHORIZE, CAPTURE, …) payments recorded for an order.
    pub async fn payment_operations(&self, order_id: &str, operation: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
        let db = Database::connect(self.payments_db.as_str()).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM payment_operations WHERE order_id = $1 AND operation = $2",
                [order_id.into(), operation.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        db.close().await.ok();
        row.try_get("", "n").unwrap()
    }

    /// Stops the payments service (HTTP and saga workers) as a crashed process would stop.
    pub async fn stop_payments(&self) {
        self.payments.lock().await.shutdown.cancel();
        // Let the server drain and release its port and broker channels.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// Starts payments again on the same database and port.
    pub async fn start_payments(&self) {
        let mut payments = self.payments.lock().await;
        payments.shutdown = self.shutdown.child_token();
        start_payments(&payments.config, payments.port, payments.shutdown.clone()).await;
    }

    /// Starts a second orders replica (same database, same broker) on its own port, as a
    /// scaled-out deployment would; returns its GraphQL URL. It stops with the stack.
    pub async fn spawn_orders_replica(&self) -> String {
        let replica = shop_orders::build(&self.orders_config).await.expect("orders replica");
        replica.start(self.shutdown.clone()).await.expect("orders replica workers");
        let port = serve(replica.app(), self.shutdown.clone()).await;
        format!("http://127.0.0.1:{port}/graphql")
    }

    /// Stops the inventory service (HTTP and saga workers).
    pub async fn stop_inventory(&self) {
        self.inventory.lock().await.shutdown.cancel();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// Starts inventory again on the same database and port.
    pub async fn start_inventory(&self) {
        let mut inventory = self.inventory.lock().await;
        inventory.shutdown = self.shutdown.child_token();
        start_inventory(&inventory.config, inventory.port, inventory.shutdown.clone()).await;
    }

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
