//! Integration tests of the orders subgraph, in one binary, against real PostgreSQL and its
//! embedded twin, SQLite, with the in-process bus:
//!
//! - `checkout`: placing orders (prices, stock, idempotency, neighbours down);
//! - `saga`: every reply of inventory and payments, duplicates and late replies;
//! - `sweeper`: payment and reservation timeouts;
//! - `access`: who may read, list, cancel and subscribe;
//! - `tracking`: the `orderUpdated` subscription, fed through the bus.
//!
//! Neighbouring subgraphs are a tiny axum fake ([`fake`]) serving just the `_entities` and
//! cart operations orders calls; end-to-end tests with the real subgraphs live in `tests/e2e`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod access;
mod checkout;
mod fake;
mod saga;
mod sweeper;
mod tracking;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use shop_kernel::{Shared, Subgraph, config::Environment};
use shop_kernel::{auth::Viewer, server::RequestHeaders};
use shop_messaging::Bus;
use shop_messaging::{Envelope, contracts, memory::InMemoryBus};
use shop_orders::{OrdersConfig, OrdersService};
use shop_testkit::{self as testkit, Backend, TempDir};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use self::fake::Fake;

/// What the process provides: the test's in-process bus.
fn shared(bus: &Arc<InMemoryBus>) -> Shared {
    let bus: Arc<dyn Bus> = bus.clone();
    Shared::new(Environment::Development).with(bus)
}

/// The user id of a viewer.
pub fn user_of(viewer: &Viewer) -> Uuid {
    viewer.principal().unwrap().user_id
}

/// One orders service over a fresh database, the fake neighbours and an in-process bus.
pub struct TestApp {
    pub service: OrdersService,
    pub bus: Arc<InMemoryBus>,
    pub fake: Fake,
    pub config: OrdersConfig,
    pub database_url: String,
    pub shutdown: CancellationToken,
    _guard: Option<TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// A service whose neighbours are `fake`, with `tweak` applied to the configuration.
    pub async fn with(backend: Backend, tweak: impl FnOnce(&mut OrdersConfig, &Fake)) -> Self {
        let fake = Fake::spawn().await;
        let (database_url, guard) = testkit::fresh_sql_database(backend).await;
        let mut config = OrdersConfig {
            catalog_url: fake.url("catalog"),
            inventory_url: fake.url("inventory"),
            users_url: fake.url("users"),
            cart_url: fake.url("cart"),
            upstream_timeout_ms: 1_000,
            ..OrdersConfig::default()
        };
        config.database.database_url = database_url.as_str().into();
        config.database.max_connections = 8;
        tweak(&mut config, &fake);
        let bus = InMemoryBus::new(contracts::topology());
        let service = OrdersService::build(&config, &shared(&bus)).await.expect("orders service");
        Self { service, bus, fake, config, database_url, shutdown: CancellationToken::new(), _guard: guard }
    }

    /// A service with the default test configuration.
    pub async fn new(backend: Backend) -> Self {
        Self::with(backend, |_, _| {}).await
    }

    /// Another replica: a second service over the same database and bus.
    pub async fn replica(&self) -> OrdersService {
        OrdersService::build(&self.config, &shared(&self.bus)).await.expect("second replica")
    }

    /// Runs `query` as `viewer`, with the bearer token the router forwards (orders passes it
    /// on to users and cart); the whole response as JSON: `data`, and `errors` when there are
    /// any.
    pub async fn run(&self, viewer: &Viewer, query: &str, variables: Value) -> Value {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer test-token"));
        let request = testkit::graphql_request(viewer, query, variables).data(RequestHeaders(headers));
        testkit::run_graphql_request(&self.service.schema, request).await
    }

    /// Runs a mutation that must not fail and returns its payload.
    pub async fn mutate(&self, viewer: &Viewer, query: &str, variables: Value) -> Value {
        let body = self.run(viewer, query, variables).await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].as_object().unwrap().values().next().unwrap().clone()
    }

    /// Checks out `input` (with defaults for what it leaves out) and returns the payload.
    pub async fn checkout(&self, viewer: &Viewer, input: Value) -> Value {
        self.mutate(viewer, &checkout_op(), json!({ "input": with_defaults(input) })).await
    }

    /// Places an order of 2 × TEE-M shipped to the US and returns it.
    pub async fn place(&self, viewer: &Viewer) -> Value {
        let payload = self.checkout(viewer, json!({ "lines": [{ "sku": "TEE-M", "quantity": 2 }] })).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        payload["order"].clone()
    }

    /// Every message the service wrote to its outbox about `order_id`, oldest first.
    pub async fn outbox(&self, order_id: &str) -> Vec<Envelope> {
        let db = self.service.store.connection();
        let sql = format!("SELECT body FROM messaging_outbox WHERE correlation_id = '{order_id}' ORDER BY id");
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        rows.iter()
            .map(|row| Envelope::from_json(row.try_get::<String>("", "body").unwrap().as_bytes()).unwrap())
            .collect()
    }

    /// The types of [`Self::outbox`].
    pub async fn outbox_kinds(&self, order_id: &str) -> Vec<String> {
        self.outbox(order_id).await.into_iter().map(|e| e.kind).collect()
    }

    /// How many orders the database holds.
    pub async fn order_count(&self) -> i64 {
        let db = self.service.store.connection();
        let sql = "SELECT COUNT(*) AS n FROM orders_orders".to_owned();
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// Everything clients usually select on an order.
pub const ORDER: &str = "id status paymentStatus trackingNumber cancellationReason createdAt updatedAt
    lines { productId sku productName variantName quantity unitPrice { amount currencyCode } lineSubtotal { amount } tax { amount } }
    shippingAddress { name line1 line2 city region postalCode country phone }
    subtotal { amount currencyCode } shipping { amount } tax { amount } taxRateBasisPoints total { amount currencyCode }
    events { status at note } user { id }";

/// The `checkout` mutation.
pub fn checkout_op() -> String {
    format!(
        "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ order {{ {ORDER} }} userErrors {{ field message code }} }} }}"
    )
}

/// A US address.
pub fn us_address() -> Value {
    json!({ "name": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US" })
}

/// `input` with a payment token, a fresh idempotency key and a US address unless given.
pub fn with_defaults(input: Value) -> Value {
    let mut input = input.as_object().cloned().unwrap_or_default();
    input.entry("paymentToken").or_insert_with(|| json!("tok_visa"));
    input.entry("idempotencyKey").or_insert_with(|| json!(format!("key-{}", Uuid::new_v4().simple())));
    if !input.contains_key("addressId") {
        input.entry("shippingAddress").or_insert_with(us_address);
    }
    Value::Object(input)
}
