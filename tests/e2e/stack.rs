//! Starts a supergraph for one test: the real router binary in front of the subgraphs the test
//! asks for, each on a free port with its own databases (PostgreSQL, the MongoDB-protocol
//! server), Redis key prefix and RabbitMQ names, seeded with the demo data.
//!
//! ```ignore
//! let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
//! let stack = Stack::everything().await;
//! ```
//!
//! Which servers a subgraph gets follows from the shared sections of its settings
//! (`shop_kernel::config::Common`), so nothing here names a subgraph but the test that asks.

use std::{
    any::Any,
    collections::HashMap,
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
use shop_kernel::{
    Shared, Subgraph, SubgraphKind,
    config::{Common, Environment},
    subgraph::AnySettings,
};
use shop_testkit as testkit;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// A port nothing listens on: where the router sends subgraphs a test did not start.
const CLOSED_PORT: u16 = 9;

type Change = Box<dyn FnOnce(&mut dyn Any) + Send>;

/// What a test starts: which subgraphs, changed how, behind which router limits.
pub struct StackBuilder {
    kinds: Vec<SubgraphKind>,
    changes: Vec<(&'static str, Change)>,
    rate_limit: (u32, u32),
}

impl StackBuilder {
    /// Adds subgraph `S`.
    pub fn with<S: Subgraph>(mut self) -> Self {
        self.kinds.push(SubgraphKind::of::<S>());
        self
    }

    /// Adds every subgraph of the shop.
    pub fn all(mut self) -> Self {
        self.kinds.extend(shop::subgraphs());
        self
    }

    /// Changes `S`'s settings after they are pointed at the test's servers.
    pub fn configure<S: Subgraph>(mut self, change: impl FnOnce(&mut S::Config) + Send + 'static) -> Self {
        let change: Change = Box::new(move |settings: &mut dyn Any| {
            if let Some(config) = settings.downcast_mut::<S::Config>() {
                change(config);
            }
        });
        self.changes.push((S::NAME, change));
        self
    }

    /// The router's rate limit: sustained requests per second and burst.
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limit = (per_second, burst);
        self
    }

    /// Starts the subgraphs (seeded, workers running) and the router, and waits until the
    /// router is ready.
    pub async fn start(self) -> Stack {
        let shutdown = CancellationToken::new();
        let dir = std::env::temp_dir().join(testkit::unique_name("shoptest-stack"));
        std::fs::create_dir_all(&dir).unwrap();
        // The subgraph that issues access tokens, whose key set every other one verifies with.
        let issuer = self.kinds.iter().find_map(|kind| {
            let mut settings = kind.default_settings();
            let path = settings.common().token_keys.map(|keys| keys.key_set_path);
            path.map(|path| (kind.name(), path))
        });
        let servers = TestServers {
            issuer,
            names: testkit::unique_name("shoptest"),
            queue_prefix: format!("{}.", testkit::unique_name("shoptest")),
            dir: dir.clone(),
            listeners: self
                .kinds
                .iter()
                .map(|kind| (kind.name(), std::net::TcpListener::bind("127.0.0.1:0").unwrap()))
                .collect(),
        };
        let mut changes = self.changes;
        let mut members = HashMap::new();
        let mut started = Vec::new();
        for kind in &self.kinds {
            let mut settings = kind.default_settings();
            servers.point(settings.as_mut()).await;
            for (_, change) in changes.extract_if(.., |(name, _)| *name == kind.name()) {
                change(settings.as_any_mut());
            }
            let member = Member {
                port: servers.port(kind.name()),
                settings,
                requests: Arc::new(AtomicUsize::new(0)),
                shutdown: shutdown.child_token(),
            };
            started.push(member.run(Some(servers.listener(kind.name()))).await);
            members.insert(kind.name(), tokio::sync::Mutex::new(member));
        }
        for subgraph in &started {
            subgraph.seed_demo(shop::DEMO_DATA).await.unwrap();
        }

        let router_port = free_port();
        let config = router_config(&dir, router_port, &servers, self.rate_limit);
        let log = std::fs::File::create(dir.join("router.log")).unwrap();
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
        let router_url = format!("http://127.0.0.1:{router_port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http.get(format!("{router_url}/readiness")).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(
                Instant::now() < deadline,
                "router did not become ready; its log:\n{}",
                std::fs::read_to_string(dir.join("router.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut signing_key_pem = String::new();
        for member in members.values() {
            if let Some(keys) = member.lock().await.settings.common().token_keys {
                signing_key_pem = std::fs::read_to_string(keys.signing_key_file.as_str()).unwrap();
            }
        }
        Stack {
            router_url,
            http,
            signing_key_pem,
            members,
            shutdown,
            _router: router,
            _dir: testkit::TempDir::new(dir),
        }
    }
}

/// The servers and names of one stack, and how a subgraph's settings are pointed at them.
struct TestServers {
    /// The subgraph that issues access tokens, and where it publishes its key set.
    issuer: Option<(&'static str, &'static str)>,
    /// Prefix of databases, key prefixes and MongoDB databases no other test uses.
    names: String,
    /// Prefix of this stack's exchange and queues.
    queue_prefix: String,
    /// Where the subgraphs write files (one folder each).
    dir: PathBuf,
    /// Each subgraph's listener, bound before any subgraph is configured so neighbours know
    /// each other's URLs.
    listeners: HashMap<&'static str, std::net::TcpListener>,
}

impl TestServers {
    fn port(&self, name: &str) -> u16 {
        self.listeners.get(name).map_or(CLOSED_PORT, |listener| listener.local_addr().unwrap().port())
    }

    /// The key set every verifier fetches (on a closed port if no subgraph of the stack issues
    /// tokens).
    fn key_set_url(&self) -> String {
        let (issuer, path) = self.issuer.unwrap_or(("", "/"));
        format!("http://127.0.0.1:{}{path}", self.port(issuer))
    }

    fn listener(&self, name: &str) -> std::net::TcpListener {
        self.listeners[name].try_clone().unwrap()
    }

    /// Points every shared section at this stack's servers: a fresh PostgreSQL database (or
    /// a MongoDB database, for a subgraph that can run on MongoDB), Redis under a prefix of its
    /// own, the broker under this stack's names, the token issuer's key set, its neighbours'
    /// ports, and a folder of its own for files.
    async fn point(&self, settings: &mut dyn AnySettings) {
        let name = settings.name();
        let Common { service, database, mongo_database, cache, bus, auth, neighbours, files, token_keys } =
            settings.common();
        service.listen = format!("127.0.0.1:{}", self.port(name));
        if let Some(database) = database {
            match mongo_database {
                Some(mongo_database) => {
                    database.database_url = testkit::mongo_url().into();
                    *mongo_database = testkit::unique_name("shoptest");
                }
                None => database.database_url = testkit::fresh_postgres_database().await.into(),
            }
            database.max_connections = 8;
        }
        if let Some(cache) = cache {
            cache.redis_url = Some(testkit::redis_url().into());
            cache.key_prefix = format!("{}:{name}:", self.names);
        }
        if let Some(bus) = bus {
            bus.amqp_url = Some(amqp_url().into());
            bus.queue_prefix.clone_from(&self.queue_prefix);
        }
        if let Some(auth) = auth {
            auth.jwks_url = self.key_set_url();
        }
        for (neighbour, url) in neighbours {
            *url = format!("http://127.0.0.1:{}/graphql", self.port(neighbour));
        }
        for file in files.into_iter().chain(token_keys.map(|keys| keys.signing_key_file)) {
            let file_name = Path::new(file.as_str()).file_name().map(ToOwned::to_owned).unwrap_or_default();
            *file = self.dir.join(name).join(file_name).display().to_string();
        }
    }
}

/// One subgraph of the stack, which a test may stop and start again (same settings, same
/// port), as a deployment restarts a process.
struct Member {
    settings: Box<dyn AnySettings>,
    port: u16,
    /// HTTP requests to its `/graphql`, over every run.
    requests: Arc<AtomicUsize>,
    shutdown: CancellationToken,
}

impl Member {
    /// Builds the subgraph, starts its workers and serves it on `listener` (or its port).
    async fn run(&self, listener: Option<std::net::TcpListener>) -> Box<dyn shop_kernel::subgraph::AnySubgraph> {
        let subgraph = self.settings.build(&Shared::new(Environment::Production)).await.unwrap();
        subgraph.start(&self.shutdown).await.unwrap();
        let listener = match listener {
            Some(listener) => {
                listener.set_nonblocking(true).unwrap();
                tokio::net::TcpListener::from_std(listener).unwrap()
            }
            None => shop_kernel::server::bind(&format!("127.0.0.1:{}", self.port)).await.unwrap(),
        };
        let requests = self.requests.clone();
        let app = subgraph.app().layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                if request.uri().path() == "/graphql" {
                    requests.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            },
        ));
        tokio::spawn(shop_kernel::server::serve(listener, app, self.shutdown.clone()));
        subgraph
    }
}

/// A running supergraph; everything stops when it is dropped.
pub struct Stack {
    pub router_url: String,
    pub http: reqwest::Client,
    /// The PKCS#8 PEM of the key the token issuer (users) signs access tokens with, so tests can
    /// mint tokens the real issuer would never issue (expired, tampered).
    pub signing_key_pem: String,
    members: HashMap<&'static str, tokio::sync::Mutex<Member>>,
    shutdown: CancellationToken,
    _router: Child,
    _dir: testkit::TempDir,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Stack {
    /// A stack with nothing in it yet.
    pub fn builder() -> StackBuilder {
        StackBuilder { kinds: Vec::new(), changes: Vec::new(), rate_limit: (10_000, 10_000) }
    }

    /// Every subgraph, with test settings.
    pub async fn everything() -> Self {
        Self::builder().all().start().await
    }

    fn member(&self, name: &str) -> &tokio::sync::Mutex<Member> {
        self.members.get(name).unwrap_or_else(|| panic!("the stack has no {name} subgraph"))
    }

    /// The settings `S` runs with.
    pub async fn settings<S: Subgraph>(&self) -> S::Config {
        let mut member = self.member(S::NAME).lock().await;
        member.settings.as_any_mut().downcast_mut::<S::Config>().cloned().unwrap()
    }

    /// The database URL of subgraph `name`, for checks behind its back.
    pub async fn database_url(&self, name: &str) -> String {
        let mut member = self.member(name).lock().await;
        member.settings.common().database.map(|database| database.url().to_owned()).unwrap()
    }

    /// Subgraph `name`'s own GraphQL URL, for checks that bypass the router.
    pub async fn subgraph_url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/graphql", self.member(name).lock().await.port)
    }

    /// How many HTTP requests subgraph `name` has received so far.
    pub async fn requests_to(&self, name: &str) -> usize {
        self.member(name).lock().await.requests.load(Ordering::SeqCst)
    }

    /// Stops subgraph `name` gracefully (HTTP, consumers, workers drain and close their
    /// connections); a crash is a different test.
    pub async fn stop(&self, name: &str) {
        self.member(name).lock().await.shutdown.cancel();
        // Let the server drain and release its port and broker channels.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// Starts subgraph `name` again with the same settings, on the same port.
    pub async fn start(&self, name: &str) {
        let mut member = self.member(name).lock().await;
        member.shutdown = self.shutdown.child_token();
        member.run(None).await;
    }

    /// Starts another replica of subgraph `name` (same settings, so the same database and
    /// broker) on a port of its own, as a scaled-out deployment would; returns its GraphQL URL.
    /// It stops with the stack.
    pub async fn spawn_replica(&self, name: &str) -> String {
        let member = self.member(name).lock().await;
        let mut settings = member.settings.clone_box();
        let port = free_port();
        settings.common().service.listen = format!("127.0.0.1:{port}");
        let replica =
            Member { settings, port, requests: member.requests.clone(), shutdown: self.shutdown.child_token() };
        replica.run(None).await;
        format!("http://127.0.0.1:{port}/graphql")
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
        self.post(&self.subgraph_url(name).await, token, query, variables).await
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

/// The broker of every stack: the local RabbitMQ (or `TEST_AMQP_URL`'s virtual host), with
/// names no other test uses.
fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// `router/router.yaml` as shipped (its plugins, strict JWT included), pointed at this stack's
/// subgraphs and port, with the test's rate limit.
fn router_config(dir: &Path, port: u16, servers: &TestServers, rate_limit: (u32, u32)) -> PathBuf {
    let shipped = std::fs::read_to_string(workspace_root().join("router/router.yaml")).unwrap();
    let mut config: serde_yaml::Value = serde_yaml::from_str(&shipped).unwrap();
    let supergraph = workspace_root().join("schema/supergraph.graphql");
    let subgraphs: serde_json::Map<String, Value> = shop::subgraphs()
        .iter()
        .map(|kind| {
            let url = format!("http://127.0.0.1:{}/graphql", servers.port(kind.name()));
            (kind.name().to_owned(), json!({ "url": url }))
        })
        .collect();
    let overrides: serde_yaml::Value = serde_yaml::to_value(json!({
        "supergraph": { "source": "file", "path": supergraph.display().to_string() },
        "http": { "host": "127.0.0.1", "port": port },
        "override_subgraph_urls": { "subgraphs": subgraphs },
    }))
    .unwrap();
    if let (serde_yaml::Value::Mapping(base), serde_yaml::Value::Mapping(changes)) = (&mut config, overrides) {
        for (key, value) in changes {
            base.insert(key, value);
        }
    }
    config["plugins"]["rate_limit"] = serde_yaml::to_value(json!({ "enabled": true, "config": {
        "requests_per_second": rate_limit.0, "burst": rate_limit.1,
    } }))
    .unwrap();
    config["jwt"]["jwks_providers"][0]["url"] = serde_yaml::Value::String(servers.key_set_url());
    let path = dir.join("router.yaml");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}
