//! Load driver of `bench/checkout.sh` (a benchmark, not a test): concurrent checkouts through
//! the router, each timed from the `checkout` call to the moment its `CONFIRMED` update is on
//! the broker (the moment a subscriber is told).
//!
//! It listens to `order.updated` on RabbitMQ with its own fan-out queue, exactly as every
//! orders replica does for its subscribers, so no polling adds to the load or the latency.
//!
//! Environment: `ROUTER_URL` (default http://127.0.0.1:4000), `AMQP_URL`, `QUEUE_PREFIX`,
//! `CONCURRENCY` (default 64), `DURATION_SECS` (default 30), `WARMUP_SECS` (default 5).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shop_messaging::{
    Bus, ConsumerSpec, Envelope, Handler, HandlerError, contracts,
    rabbit::{RabbitBus, RabbitConfig},
};
use tokio_util::sync::CancellationToken;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// When each order was confirmed, as seen on the broker.
#[derive(Default)]
struct Confirmations(Mutex<HashMap<String, Instant>>);

#[async_trait::async_trait]
impl Handler for Confirmations {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        if let Ok(update) = message.decode::<contracts::OrderUpdated>()
            && update.status == "CONFIRMED"
        {
            self.0.lock().unwrap().entry(update.order_id).or_insert_with(Instant::now);
        }
        Ok(())
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .call(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let router = env("ROUTER_URL", "http://127.0.0.1:4000");
    let concurrency: usize = env("CONCURRENCY", "64").parse().unwrap();
    let duration = Duration::from_secs(env("DURATION_SECS", "30").parse().unwrap());
    let warmup = Duration::from_secs(env("WARMUP_SECS", "5").parse().unwrap());
    let client = Arc::new(Client {
        http: reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap(),
        url: format!("{router}/graphql"),
    });

    let confirmations = Arc::new(Confirmations::default());
    let shutdown = CancellationToken::new();
    let bus = RabbitBus::connect(
        RabbitConfig {
            url: env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            exchange: "shop.events".into(),
            queue_prefix: env("QUEUE_PREFIX", ""),
        },
        contracts::topology(),
    )
    .await
    .unwrap();
    let spec = ConsumerSpec {
        prefetch: 1000,
        concurrency: 64,
        ..ConsumerSpec::fan_out("bench.confirmations", vec!["order.updated.*".into()])
    };
    let _listener = bus.consume(spec, confirmations.clone(), shutdown.clone()).await.unwrap();

    // Plenty of stock, so every order can be confirmed.
    let admin = client.login("admin@shop.local", "admin-password-123").await;
    let products =
        client.call(None, "{ products(first: 20) { edges { node { variants { sku } } } } }", json!({})).await;
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
    assert!(!skus.is_empty(), "no products: {products}");
    for sku in &skus {
        let body = client
            .call(
                Some(&admin),
                "mutation($i: StockAdjustInput!) { stockAdjust(input: $i) { userErrors { message } } }",
                json!({ "i": { "sku": sku, "delta": 1_000_000, "reason": "checkout benchmark" } }),
            )
            .await;
        assert!(body["errors"].is_null(), "stock top-up failed: {body}");
    }
    let customer = Arc::new(client.login("customer@shop.local", "customer-password-123").await);
    let skus = Arc::new(skus);

    println!(
        "checkout benchmark: {concurrency} concurrent clients, {}s warm-up, {}s measured, through {router}",
        warmup.as_secs(),
        duration.as_secs()
    );
    let started = Instant::now();
    let measure_from = started + warmup;
    let stop_at = measure_from + duration;
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, customer, skus) = (client.clone(), customer.clone(), skus.clone());
        workers.push(tokio::spawn(async move {
            let mut placed: Vec<(String, Instant, Duration)> = Vec::new();
            let mut failures = 0_u64;
            let mut n = 0_usize;
            while Instant::now() < stop_at {
                n += 1;
                let sku = &skus[(worker + n) % skus.len()];
                let begun = Instant::now();
                let body = client
                    .call(
                        Some(&customer),
                        "mutation($i: CheckoutInput!) { checkout(input: $i) { order { id } userErrors { code message } } }",
                        json!({ "i": {
                            "lines": [{ "sku": sku, "quantity": 1 }],
                            "shippingAddress": { "name": "Bench Buyer", "line1": "1 Load Street", "city": "Springfield", "postalCode": "12345", "country": "US" },
                            "paymentToken": "tok_visa",
                            "idempotencyKey": uuid::Uuid::new_v4().to_string(),
                        } }),
                    )
                    .await;
                match body["data"]["checkout"]["order"]["id"].as_str() {
                    Some(id) if begun >= measure_from => placed.push((id.to_owned(), begun, begun.elapsed())),
                    Some(_) => {}
                    None => {
                        failures += 1;
                        if failures <= 3 {
                            eprintln!("checkout failed: {body}");
                        }
                    }
                }
            }
            (placed, failures)
        }));
    }
    let mut placed = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (orders, failed) = worker.await.unwrap();
        placed.extend(orders);
        failures += failed;
    }
    // Let the saga finish what was placed in the window.
    let drain_deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = {
            let confirmed = confirmations.0.lock().unwrap();
            placed.iter().filter(|(id, _, _)| confirmed.contains_key(id)).count()
        };
        if done == placed.len() || Instant::now() > drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();

    let confirmed = confirmations.0.lock().unwrap();
    let mut to_confirmed: Vec<Duration> = Vec::new();
    let mut confirmed_in_window = 0_u64;
    for (id, begun, _) in &placed {
        if let Some(at) = confirmed.get(id) {
            to_confirmed.push(at.saturating_duration_since(*begun));
            if *at <= stop_at {
                confirmed_in_window += 1;
            }
        }
    }
    let mut call_latency: Vec<Duration> = placed.iter().map(|(_, _, latency)| *latency).collect();
    call_latency.sort_unstable();
    to_confirmed.sort_unstable();
    let seconds = duration.as_secs_f64();
    println!(
        "checkouts placed in the window: {} ({:.0}/s), failed calls: {failures}",
        placed.len(),
        placed.len() as f64 / seconds
    );
    println!(
        "confirmed: {} of them ({} within the window: {:.0} orders/s)",
        to_confirmed.len(),
        confirmed_in_window,
        confirmed_in_window as f64 / seconds
    );
    println!(
        "checkout call latency:      p50 {:>7.1} ms  p99 {:>7.1} ms",
        percentile(&call_latency, 0.50).as_secs_f64() * 1e3,
        percentile(&call_latency, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "checkout -> CONFIRMED:      p50 {:>7.1} ms  p99 {:>7.1} ms",
        percentile(&to_confirmed, 0.50).as_secs_f64() * 1e3,
        percentile(&to_confirmed, 0.99).as_secs_f64() * 1e3
    );
}
