//! Driver of the chaos suite (`scripts/chaos.sh`, which prepares the databases, its own
//! RabbitMQ node and the environment): it runs the real binaries as child processes, drives a
//! stream of checkouts through the router while it injects faults, and once the faults have
//! healed checks that nothing was lost or charged twice.
//!
//! Faults, spread over the run: `SIGKILL` of orders, inventory and payments (each
//! `CHAOS_KILLS` times, restarted after a moment), restarts of the suite's RabbitMQ node
//! (`rabbitmqctl stop_app`/`start_app`), cuts of every PostgreSQL connection (a TCP proxy in
//! front of PostgreSQL drops them and refuses new ones for a few seconds), and an outage of
//! the payment provider longer than the breaker's first open period (a proxy in front of it
//! refuses connections).
//!
//! Invariants checked after the run (each printed, then `N passed, N failed`; exit status 1
//! when any fails): every order is terminal; a confirmed order's payment is captured in full
//! and a cancelled order's money is back; at most one authorization per order at the
//! provider, no hold left open, and captured − refunded equals the totals of the orders that
//! stand; stock is conserved per SKU, `reserved` equals what active reservations hold, and no
//! reservation is active; every dead-letter queue is empty; no process exited on its own (the
//! driver restarts one that does, as an orchestrator would, and reports it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use shop_testkit::proxy::TcpProxy;
use tokio::process::{Child, Command};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn number(name: &str, default: u64) -> u64 {
    env(name, &default.to_string()).parse().unwrap_or_else(|_| panic!("{name} must be a number"))
}

/// The processes of the stack, restartable by name.
struct Processes {
    bin: PathBuf,
    logs: PathBuf,
    children: Mutex<HashMap<&'static str, Child>>,
    /// Processes that ended without being killed.
    exits: Mutex<Vec<String>>,
}

const SERVICES: [&str; 7] = ["users", "catalog", "inventory", "cart", "orders", "payments", "shop-router"];

impl Processes {
    fn spawn(&self, name: &'static str) {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.logs.join(format!("{name}.log"))).unwrap();
        let child = Command::new(self.bin.join(name))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.children.lock().unwrap().insert(name, child);
    }

    /// `kill -9`: no shutdown hooks, no flushing, whatever was in flight is cut.
    async fn kill(&self, name: &'static str) {
        let child = self.children.lock().unwrap().remove(name);
        if let Some(mut child) = child {
            // It may have exited on its own just now, before the watcher saw it.
            match child.try_wait() {
                Ok(Some(status)) => {
                    println!("process {name} exited on its own ({status}) before it was to be killed");
                    self.exits.lock().unwrap().push(format!("{name} exited ({status})"));
                }
                _ => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
            }
        }
    }

    /// Restarts any process that ended without being killed (as an orchestrator's restart
    /// policy would) and reports it: a service must ride out a fault, not exit over it.
    fn restart_exited(&self) {
        let mut exited = Vec::new();
        let mut children = self.children.lock().unwrap();
        for (name, child) in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                exited.push((*name, status));
            }
        }
        drop(children);
        for (name, status) in exited {
            println!("process {name} exited on its own ({status}); restarted");
            self.spawn(name);
            self.exits.lock().unwrap().push(format!("{name} exited ({status})"));
        }
    }

    fn kill_all(&self) {
        for (_, mut child) in self.children.lock().unwrap().drain() {
            let _ = child.start_kill();
        }
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value, String> {
        let mut request = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        response.json().await.map_err(|e| e.to_string())
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let query = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
        let body = self.call(None, query, json!({ "i": { "email": email, "password": password } })).await.unwrap();
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }

    async fn status(&self, token: &str, order: &str) -> Option<String> {
        let body =
            self.call(Some(token), "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order })).await;
        body.ok()?["data"]["order"]["status"].as_str().map(str::to_owned)
    }
}

async fn wait_ready(url: &str, name: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{name} did not become ready at {url}");
}

const CHECKOUT: &str =
    "mutation($i: CheckoutInput!) { checkout(input: $i) { order { id } userErrors { code message } } }";
const CANCEL: &str = "mutation($id: ID!) { orderCancel(id: $id, reason: \"chaos\") { userErrors { code } } }";

/// The cards of the run and their weights: authorizes, declined, no funds, slow (answers
/// within the call timeout), late (answers after it: the caller learns of the hold only when it
/// asks again with the same key).
const CARDS: [(&str, u32); 5] =
    [("tok_visa", 60), ("tok_declined", 10), ("tok_insufficient_funds", 5), ("tok_slow", 10), ("tok_late", 15)];

#[derive(Default)]
struct Tally {
    placed: AtomicUsize,
    refused: AtomicUsize,
    refusal_codes: Mutex<BTreeMap<String, usize>>,
    failed_calls: AtomicUsize,
    cancels: AtomicUsize,
}

/// One customer's order: checkout (retried with the same idempotency key while the stack is
/// failing, as a client would), then maybe a cancellation at once or after confirmation.
async fn place(client: &Client, token: &str, skus: &[String], seed: u64, tally: &Tally) {
    let mut rng = StdRng::seed_from_u64(seed);
    let total: u32 = CARDS.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    let card = CARDS
        .iter()
        .find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map_or("tok_visa", |c| c.0);
    let mut lines: Vec<Value> = Vec::new();
    let mut chosen = skus.to_vec();
    chosen.shuffle(&mut rng);
    chosen.truncate(rng.random_range(1..=2));
    for sku in &chosen {
        lines.push(json!({ "sku": sku, "quantity": rng.random_range(1..=2) }));
    }
    let variables = json!({ "i": {
        "lines": lines,
        "shippingAddress": { "name": "Chaos Buyer", "line1": "1 Fault Street", "city": "Springfield", "postalCode": "12345", "country": "US" },
        "paymentToken": card,
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
    } });
    let mut order = None;
    for attempt in 0..30 {
        match client.call(Some(token), CHECKOUT, variables.clone()).await {
            Ok(body) if body["data"]["checkout"]["order"]["id"].is_string() => {
                order = body["data"]["checkout"]["order"]["id"].as_str().map(str::to_owned);
                break;
            }
            Ok(body) if body["data"]["checkout"]["userErrors"].as_array().is_some_and(|e| !e.is_empty()) => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
                let code = body["data"]["checkout"]["userErrors"][0]["code"].as_str().unwrap_or("?").to_owned();
                *tally.refusal_codes.lock().unwrap().entry(code).or_default() += 1;
                return;
            }
            _ => {
                tally.failed_calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500 + 100 * attempt)).await;
            }
        }
    }
    let Some(order) = order else { return };
    tally.placed.fetch_add(1, Ordering::Relaxed);
    let what_next = rng.random_range(0..100);
    if what_next < 8 {
        let _ = client.call(Some(token), CANCEL, json!({ "id": order })).await;
        tally.cancels.fetch_add(1, Ordering::Relaxed);
    } else if what_next < 18 {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match client.status(token, &order).await.as_deref() {
                Some("CONFIRMED") => {
                    let _ = client.call(Some(token), CANCEL, json!({ "id": order })).await;
                    tally.cancels.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Some("CANCELLED") => return,
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Kill(&'static str),
    BrokerRestart,
    DatabaseCut,
    ProviderOutage,
}

struct Faults {
    processes: Arc<Processes>,
    database: TcpProxy,
    provider: TcpProxy,
    rabbit_node: String,
    outage: Duration,
}

fn rabbitmqctl(node: &str, args: &[&str]) {
    let status = std::process::Command::new("rabbitmqctl").arg("-q").arg("-n").arg(node).args(args).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: rabbitmqctl {args:?} failed");
    }
}

impl Faults {
    async fn inject(&self, fault: Fault, rng: &mut StdRng) {
        let started = Instant::now();
        match fault {
            Fault::Kill(name) => {
                self.processes.kill(name).await;
                tokio::time::sleep(Duration::from_millis(rng.random_range(500..3000))).await;
                self.processes.spawn(name);
            }
            Fault::BrokerRestart => {
                let node = self.rabbit_node.clone();
                tokio::task::spawn_blocking(move || {
                    rabbitmqctl(&node, &["stop_app"]);
                    std::thread::sleep(Duration::from_secs(3));
                    rabbitmqctl(&node, &["start_app"]);
                })
                .await
                .unwrap();
            }
            Fault::DatabaseCut => {
                self.database.cut();
                tokio::time::sleep(Duration::from_secs(rng.random_range(2..6))).await;
                self.database.restore();
            }
            Fault::ProviderOutage => {
                self.provider.cut();
                tokio::time::sleep(self.outage).await;
                self.provider.restore();
            }
        }
        println!("fault: {fault:?} ({:.1} s)", started.elapsed().as_secs_f64());
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap()
}

/// `"<key> <n>"` for each row of `sql`, which selects a text `key` and a count `n`.
async fn counted(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    rows(db, sql)
        .await
        .iter()
        .map(|r| format!("{} {}", r.try_get::<String>("", "key").unwrap(), r.try_get::<i64>("", "n").unwrap()))
        .collect()
}

async fn stock(db: &DatabaseConnection) -> BTreeMap<String, (i64, i64)> {
    let mut stock = BTreeMap::new();
    for row in rows(db, "SELECT sku, on_hand, reserved FROM inventory_stock").await {
        stock.insert(
            row.try_get("", "sku").unwrap(),
            (row.try_get("", "on_hand").unwrap(), row.try_get("", "reserved").unwrap()),
        );
    }
    stock
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hold {
    idempotency_key: String,
    amount_minor: i64,
    captured_minor: i64,
    refunded_minor: i64,
    voided: bool,
}

struct Stores {
    orders: DatabaseConnection,
    inventory: DatabaseConnection,
    payments: DatabaseConnection,
    provider: String,
    rabbit_node: String,
    initial_stock: BTreeMap<String, (i64, i64)>,
}

/// Each check's outcome: its name and, when it failed, why.
type Findings = Vec<(&'static str, Option<String>)>;

fn finding(name: &'static str, problems: Vec<String>) -> (&'static str, Option<String>) {
    let shown: Vec<String> = problems.iter().take(5).cloned().collect();
    let detail = (!problems.is_empty()).then(|| format!("{} problem(s): {}", problems.len(), shown.join("; ")));
    (name, detail)
}

impl Stores {
    async fn check(&self) -> Findings {
        let mut findings = Findings::new();
        let orders: Vec<(String, String, i64)> =
            rows(&self.orders, "SELECT id, status, total_minor FROM orders_orders")
                .await
                .into_iter()
                .map(|r| {
                    (
                        r.try_get("", "id").unwrap(),
                        r.try_get("", "status").unwrap(),
                        r.try_get("", "total_minor").unwrap(),
                    )
                })
                .collect();
        let stuck: Vec<String> = orders
            .iter()
            .filter(|(_, status, _)| status != "CONFIRMED" && status != "CANCELLED")
            .map(|(id, status, _)| format!("{id} is {status}"))
            .collect();
        findings.push(finding("every order is terminal", stuck));

        let mut payments: HashMap<String, (String, i64, i64)> = HashMap::new();
        for r in rows(&self.payments, "SELECT order_id, status, captured_minor, refunded_minor FROM payments").await {
            payments.insert(
                r.try_get("", "order_id").unwrap(),
                (
                    r.try_get("", "status").unwrap(),
                    r.try_get("", "captured_minor").unwrap(),
                    r.try_get("", "refunded_minor").unwrap(),
                ),
            );
        }
        let mut money = Vec::new();
        for (id, status, total) in &orders {
            let payment = payments.get(id);
            let kept = payment.map_or(0, |(_, captured, refunded)| captured - refunded);
            match status.as_str() {
                "CONFIRMED" if payment.is_none_or(|(s, c, _)| s != "CAPTURED" || c != total) => {
                    money.push(format!("confirmed {id} (total {total}) has payment {payment:?}"));
                }
                "CANCELLED" if kept != 0 || payment.is_some_and(|(s, _, _)| s == "AUTHORIZED") => {
                    money.push(format!("cancelled {id} keeps {kept} (payment {payment:?})"));
                }
                _ => {}
            }
        }
        findings.push(finding("confirmed orders are captured in full, cancelled ones keep nothing", money));

        let standing: HashMap<&str, i64> =
            orders.iter().filter(|(_, s, _)| s == "CONFIRMED").map(|(id, _, total)| (id.as_str(), *total)).collect();
        let known: HashMap<&str, &str> = orders.iter().map(|(id, s, _)| (id.as_str(), s.as_str())).collect();
        let ledger: Vec<Hold> =
            match async { reqwest::get(format!("{}/v1/ledger", self.provider)).await?.json().await }.await {
                Ok(ledger) => ledger,
                Err(error) => {
                    findings.push(("the provider's books are readable", Some(error.to_string())));
                    Vec::new()
                }
            };
        let mut per_order: HashMap<&str, usize> = HashMap::new();
        let mut provider_problems = Vec::new();
        let mut held = 0_i64;
        for hold in &ledger {
            *per_order.entry(hold.idempotency_key.as_str()).or_default() += 1;
            held += hold.captured_minor - hold.refunded_minor;
            if !known.contains_key(hold.idempotency_key.as_str()) {
                provider_problems
                    .push(format!("a hold of {} for unknown order {}", hold.amount_minor, hold.idempotency_key));
            }
            if !hold.voided && hold.captured_minor == 0 {
                provider_problems
                    .push(format!("order {} left an open hold of {}", hold.idempotency_key, hold.amount_minor));
            }
        }
        for (order, holds) in &per_order {
            if *holds > 1 {
                provider_problems.push(format!("order {order} was authorized {holds} times"));
            }
        }
        let expected: i64 = standing.values().sum();
        if held != expected {
            provider_problems
                .push(format!("captured - refunded at the provider is {held}, the standing orders total {expected}"));
        }
        findings.push(finding("at most one authorization per order, none left open, money adds up", provider_problems));

        let now = stock(&self.inventory).await;
        let mut sold: HashMap<String, i64> = HashMap::new();
        for r in rows(&self.orders, "SELECT l.sku, l.quantity FROM orders_order_lines l JOIN orders_orders o ON o.id = l.order_id WHERE o.status = 'CONFIRMED'").await {
            *sold.entry(r.try_get("", "sku").unwrap()).or_default() += r.try_get::<i64>("", "quantity").unwrap();
        }
        let mut held_units: HashMap<String, i64> = HashMap::new();
        for r in rows(&self.inventory, "SELECT l.sku, l.quantity FROM inventory_reservation_lines l JOIN inventory_reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE'").await {
            *held_units.entry(r.try_get("", "sku").unwrap()).or_default() += r.try_get::<i64>("", "quantity").unwrap();
        }
        let mut stock_problems = Vec::new();
        for (sku, (initial, _)) in &self.initial_stock {
            let (on_hand, reserved) = now.get(sku).copied().unwrap_or_default();
            let units = sold.get(sku).copied().unwrap_or_default();
            if initial - units != on_hand {
                stock_problems.push(format!("{sku}: started with {initial}, sold {units}, has {on_hand}"));
            }
            let active = held_units.get(sku).copied().unwrap_or_default();
            if reserved != active {
                stock_problems.push(format!("{sku}: reserved {reserved}, active reservations hold {active}"));
            }
        }
        findings.push(finding("stock is conserved and reserved matches active reservations", stock_problems));
        let active: Vec<String> =
            rows(&self.inventory, "SELECT order_id FROM inventory_reservations WHERE status = 'ACTIVE'")
                .await
                .into_iter()
                .map(|r| r.try_get::<String>("", "order_id").unwrap())
                .filter(|order| known.get(order.as_str()).is_none_or(|s| *s == "CONFIRMED" || *s == "CANCELLED"))
                .map(|order| format!("reservation of {order} still active"))
                .collect();
        findings.push(finding("no reservation is active for a terminal order", active));

        let output = std::process::Command::new("rabbitmqctl")
            .args(["-q", "-n", &self.rabbit_node, "list_queues", "name", "messages"])
            .output();
        let dead = match output {
            Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| line.split_once('\t'))
                .filter(|(name, count)| name.ends_with(".dead") && count.trim() != "0")
                .map(|(name, count)| format!("{name} holds {}", count.trim()))
                .collect(),
            _ => vec!["rabbitmqctl list_queues failed".to_owned()],
        };
        findings.push(finding("every dead-letter queue is empty", dead));
        findings
    }
}

#[tokio::main]
async fn main() {
    let orders_wanted = number("CHAOS_ORDERS", 200) as usize;
    let concurrency = number("CHAOS_CONCURRENCY", 8) as usize;
    let kills = number("CHAOS_KILLS", 1) as usize;
    let broker_restarts = number("CHAOS_BROKER_RESTARTS", 1) as usize;
    let database_cuts = number("CHAOS_DATABASE_CUTS", 1) as usize;
    let settle_limit = Duration::from_secs(number("CHAOS_SETTLE_SECS", 240));
    let seed = number("CHAOS_SEED", rand::rng().random());
    let rabbit_node = env("CHAOS_RABBIT_NODE", "chaos1@localhost");
    let pg_proxy: SocketAddr = env("CHAOS_PG_PROXY", "127.0.0.1:55432").parse().unwrap();
    let provider_proxy: SocketAddr = env("CHAOS_PROVIDER_PROXY", "127.0.0.1:4091").parse().unwrap();
    let provider_direct = env("CHAOS_PROVIDER", "127.0.0.1:4090");
    println!(
        "chaos: {orders_wanted} orders, {concurrency} clients, {kills} kill(s) per service, {broker_restarts} broker restart(s), {database_cuts} database cut(s), 1 provider outage, seed {seed}"
    );

    let processes = Arc::new(Processes {
        bin: PathBuf::from(env("CHAOS_BIN", "target/debug")),
        logs: PathBuf::from(env("CHAOS_LOGS", ".")),
        children: Mutex::new(HashMap::new()),
        exits: Mutex::new(Vec::new()),
    });
    let database = TcpProxy::listen(pg_proxy, &env("CHAOS_PG_UPSTREAM", "127.0.0.1:5432")).await;
    let provider = TcpProxy::listen(provider_proxy, &provider_direct).await;
    for service in SERVICES {
        processes.spawn(service);
    }
    let watcher = {
        let processes = processes.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                processes.restart_exited();
            }
        })
    };
    wait_ready("http://127.0.0.1:4000/readiness", "router").await;
    for (port, service) in (4001..).zip(&SERVICES[..6]) {
        wait_ready(&format!("http://127.0.0.1:{port}/health/ready"), service).await;
    }

    let client = Arc::new(Client { http: reqwest::Client::new(), url: "http://127.0.0.1:4000/graphql".into() });
    let admin = client.login("admin@shop.local", "admin-password-123").await;
    let products =
        client.call(None, "{ products(first: 20) { edges { node { variants { sku } } } } }", json!({})).await.unwrap();
    let skus: Vec<String> = products["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["node"]["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["sku"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    // Enough stock that most orders can be confirmed, not so much that none runs out.
    let top_up = (orders_wanted / skus.len().max(1) + 2) as i64;
    for sku in &skus {
        let body = client
            .call(
                Some(&admin),
                "mutation($i: StockAdjustInput!) { stockAdjust(input: $i) { userErrors { message } } }",
                json!({ "i": { "sku": sku, "delta": top_up, "reason": "chaos suite" } }),
            )
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "stock top-up failed: {body}");
    }
    let stores = Stores {
        orders: Database::connect(env("CHAOS_ORDERS_DB", "")).await.unwrap(),
        inventory: Database::connect(env("CHAOS_INVENTORY_DB", "")).await.unwrap(),
        payments: Database::connect(env("CHAOS_PAYMENTS_DB", "")).await.unwrap(),
        provider: format!("http://{provider_direct}"),
        rabbit_node: rabbit_node.clone(),
        initial_stock: BTreeMap::new(),
    };
    let stores = Stores { initial_stock: stock(&stores.inventory).await, ..stores };
    let customer = Arc::new(client.login("customer@shop.local", "customer-password-123").await);
    let skus = Arc::new(skus);

    let mut rng = StdRng::seed_from_u64(seed);
    let mut faults: Vec<Fault> = Vec::new();
    for _ in 0..kills {
        faults.extend([Fault::Kill("orders"), Fault::Kill("inventory"), Fault::Kill("payments")]);
    }
    faults.extend(std::iter::repeat_n(Fault::BrokerRestart, broker_restarts));
    faults.extend(std::iter::repeat_n(Fault::DatabaseCut, database_cuts));
    faults.push(Fault::ProviderOutage);
    faults.shuffle(&mut rng);
    let injected = faults.len();

    let started = Instant::now();
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, customer, skus, tally, next) =
            (client.clone(), customer.clone(), skus.clone(), tally.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= orders_wanted {
                    return;
                }
                place(&client, &customer, &skus, seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15), &tally).await;
            }
        }));
    }
    // Faults at evenly spread points of the order stream, one at a time.
    let injector = Faults {
        processes: processes.clone(),
        database,
        provider,
        rabbit_node,
        outage: Duration::from_secs(number("CHAOS_OUTAGE_SECS", 15)),
    };
    for (i, fault) in faults.into_iter().enumerate() {
        let at = orders_wanted * (i + 1) / (injected + 1);
        while next.load(Ordering::SeqCst) < at && !workers.iter().all(|w| w.is_finished()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        injector.inject(fault, &mut rng).await;
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let load_done = started.elapsed();
    println!(
        "load done in {:.0} s: {} orders placed, {} refused at checkout {:?}, {} failed calls retried, {} cancels asked",
        load_done.as_secs_f64(),
        tally.placed.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.refusal_codes.lock().unwrap(),
        tally.failed_calls.load(Ordering::Relaxed),
        tally.cancels.load(Ordering::Relaxed),
    );

    // The faults have healed: give the saga a bounded time to settle, then report.
    let settle_started = Instant::now();
    let mut findings = loop {
        let findings = stores.check().await;
        if findings.iter().all(|(_, problem)| problem.is_none()) || settle_started.elapsed() > settle_limit {
            break findings;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let settled = settle_started.elapsed();
    watcher.abort();
    findings.push(finding("no process exited on its own", processes.exits.lock().unwrap().clone()));
    let orders: i64 =
        rows(&stores.orders, "SELECT count(*) AS n FROM orders_orders").await[0].try_get("", "n").unwrap();
    let statuses =
        counted(&stores.orders, "SELECT status AS key, count(*) AS n FROM orders_orders GROUP BY 1 ORDER BY 1").await;
    let reasons = counted(
        &stores.orders,
        "SELECT coalesce(cancellation_reason, '?') AS key, count(*) AS n FROM orders_orders WHERE status = 'CANCELLED' GROUP BY 1 ORDER BY 2 DESC",
    )
    .await;
    println!(
        "orders: {orders} ({}), faults injected: {injected}, time to settle: {:.1} s",
        statuses.join(", "),
        settled.as_secs_f64()
    );
    println!("cancelled because: {}", reasons.join("; "));
    let mut failed = 0;
    for (name, problem) in &findings {
        match problem {
            None => println!("PASS {name}"),
            Some(problem) => {
                failed += 1;
                println!("FAIL {name}: {problem}");
            }
        }
    }
    println!("{} passed, {failed} failed", findings.len() - failed);
    processes.kill_all();
    if failed > 0 {
        std::process::exit(1);
    }
}
