//! A tiny stand-in for the neighbouring subgraphs, answering just the operations orders sends:
//! `_entities` of `ProductVariant` (catalog prices, inventory stock), `_entities` of `User`
//! (addresses) and `cart`. `/slow` never answers in time.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, header::AUTHORIZATION},
    routing::post,
};
use serde_json::{Value, json};

/// A catalog variant.
#[derive(Clone, Debug)]
pub struct Variant {
    pub price: &'static str,
    pub currency: &'static str,
    pub status: &'static str,
}

/// What the fake neighbours know.
#[derive(Default)]
pub struct FakeState {
    pub variants: HashMap<String, Variant>,
    pub stock: HashMap<String, i64>,
    pub carts: HashMap<String, Vec<(String, i64)>>,
    pub addresses: HashMap<String, Vec<Value>>,
    pub catalog_calls: usize,
    pub slow_calls: usize,
}

/// The fake, running on a free port.
#[derive(Clone)]
pub struct Fake {
    base: String,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fake {
    /// Starts the fake with a demo catalog: TEE-M 24.99, CAP 15.00 (1 in stock), MUG 12.00,
    /// OLD (archived), EURO (priced in EUR).
    pub async fn spawn() -> Self {
        let mut state = FakeState::default();
        for (sku, price, currency, status, stock) in [
            ("TEE-M", "24.99", "USD", "ACTIVE", 10),
            ("CAP", "15.00", "USD", "ACTIVE", 1),
            ("MUG", "12.00", "USD", "ACTIVE", 100),
            ("OLD", "9.99", "USD", "ARCHIVED", 5),
            ("EURO", "10.00", "EUR", "ACTIVE", 5),
        ] {
            state.variants.insert(sku.into(), Variant { price, currency, status });
            state.stock.insert(sku.into(), stock);
        }
        let state = Arc::new(Mutex::new(state));
        let app = Router::new()
            .route("/catalog", post(catalog))
            .route("/inventory", post(inventory))
            .route("/users", post(users))
            .route("/cart", post(cart))
            .route("/slow", post(slow))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Self { base, state }
    }

    /// The URL of one fake neighbour (`catalog`, `inventory`, `users`, `cart`, `slow`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// A URL where nothing listens.
    pub async fn closed_url() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}/graphql")
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }
}

type Shared = State<Arc<Mutex<FakeState>>>;

fn representations(body: &Value) -> Vec<Value> {
    body["variables"]["r"].as_array().cloned().unwrap_or_default()
}

async fn catalog(State(state): Shared, Json(body): Json<Value>) -> Json<Value> {
    let mut state = state.lock().unwrap();
    state.catalog_calls += 1;
    let entities: Vec<Value> = representations(&body)
        .iter()
        .map(|r| {
            let sku = r["sku"].as_str().unwrap_or_default();
            match state.variants.get(sku) {
                None => Value::Null,
                Some(v) => json!({
                    "sku": sku,
                    "name": format!("{sku} variant"),
                    "price": { "amount": v.price, "currencyCode": v.currency },
                    "product": { "id": format!("product-{sku}"), "name": format!("{sku} product"), "status": v.status },
                }),
            }
        })
        .collect();
    Json(json!({ "data": { "_entities": entities } }))
}

async fn inventory(State(state): Shared, Json(body): Json<Value>) -> Json<Value> {
    let state = state.lock().unwrap();
    let entities: Vec<Value> = representations(&body)
        .iter()
        .map(|r| {
            let sku = r["sku"].as_str().unwrap_or_default();
            json!({ "sku": sku, "stock": { "available": state.stock.get(sku).copied().unwrap_or(0) } })
        })
        .collect();
    Json(json!({ "data": { "_entities": entities } }))
}

async fn users(State(state): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    if headers.get(AUTHORIZATION).is_none() {
        return Json(
            json!({ "data": { "_entities": [null] }, "errors": [{ "message": "sign in", "extensions": { "code": "UNAUTHENTICATED" } }] }),
        );
    }
    let state = state.lock().unwrap();
    let entities: Vec<Value> = representations(&body)
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap_or_default();
            json!({ "addresses": state.addresses.get(id).cloned().unwrap_or_default() })
        })
        .collect();
    Json(json!({ "data": { "_entities": entities } }))
}

async fn cart(State(state): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    assert!(headers.get(AUTHORIZATION).is_some(), "the caller's token is forwarded to the cart");
    let state = state.lock().unwrap();
    let id = body["variables"]["id"].as_str().unwrap_or_default().to_owned();
    let cart = state.carts.get(&id).map(|lines| {
        json!({ "lines": lines.iter().map(|(sku, quantity)| json!({ "sku": sku, "quantity": quantity })).collect::<Vec<_>>() })
    });
    Json(json!({ "data": { "cart": cart } }))
}

async fn slow(State(state): Shared) -> Json<Value> {
    state.lock().unwrap().slow_calls += 1;
    tokio::time::sleep(Duration::from_secs(30)).await;
    Json(json!({ "data": null }))
}
