//! Payments tests against real PostgreSQL and its embedded twin, SQLite, with the in-process
//! bus, in one binary:
//!
//! - `provider`: the simulated provider's idempotency and the resilient wrapper (timeouts,
//!   retries with the same key, the circuit breaker and its gauge);
//! - `saga`: the command handler (authorize, capture, void), duplicate deliveries, and the
//!   whole loop through the bus;
//! - `graphql`: refunds and who may read a payment, through the schema without a socket;
//! - `store`: what the database itself refuses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod graphql;
mod provider;
mod saga;
mod store;

use std::{sync::Arc, time::Duration};

use sea_orm::{EntityTrait, QueryOrder};
use serde_json::Value;
use shop_kernel::resilience::GuardSettings;
use shop_messaging::{
    Bus, Envelope, Handler, HandlerError,
    contracts::{self, PaymentAuthorize, PaymentCapture, PaymentVoid},
    memory::InMemoryBus,
    outbox,
};
use shop_payments::{
    PaymentsConfig, PaymentsService,
    adapters::{PaymentProvider, ResilientProvider, SimulatedProvider, SimulatedSettings},
    events::PaymentCommands,
    store::PaymentStore,
};
use shop_testkit::{Backend, TempDir};
use uuid::Uuid;

/// Quick timeouts and retries, and a breaker that stays closed unless a test wants it open.
pub fn quick_resilience() -> GuardSettings {
    GuardSettings {
        attempt_timeout: Duration::from_millis(200),
        budget: None,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        breaker_failures: 1_000,
        breaker_open: Duration::from_secs(10),
        breaker_max_open: Duration::from_secs(10),
    }
}

/// `tok_slow` takes this long in tests.
pub const SLOW: Duration = Duration::from_millis(300);

/// A payments service over a fresh database, the in-process bus and a simulated provider the
/// test can inspect.
pub struct TestApp {
    pub service: PaymentsService,
    pub simulated: Arc<SimulatedProvider>,
    pub bus: Arc<InMemoryBus>,
    pub handler: PaymentCommands,
    _guard: Option<TempDir>,
}

/// A fresh, migrated store on `backend` (PostgreSQL or SQLite), and the guard of its SQLite
/// file if any.
pub async fn fresh_store(backend: Backend) -> (PaymentStore, Option<TempDir>) {
    let (url, guard) = shop_testkit::fresh_sql_database(backend).await;
    let pool = if backend == Backend::Postgres { 20 } else { 8 };
    (PaymentStore::connect(&url, pool).await.expect("open the store"), guard)
}

/// A service with quick provider settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |simulated| simulated).await
}

/// A service whose simulated provider is seen through `wrap` (to slow or break some calls).
pub async fn spawn_app_with(
    backend: Backend,
    wrap: impl FnOnce(Arc<dyn PaymentProvider>) -> Arc<dyn PaymentProvider>,
) -> TestApp {
    let (store, guard) = fresh_store(backend).await;
    let simulated = Arc::new(SimulatedProvider::new(SimulatedSettings { slow: SLOW, ..SimulatedSettings::default() }));
    let inner: Arc<dyn PaymentProvider> = wrap(simulated.clone());
    let provider = Arc::new(ResilientProvider::new(inner, quick_resilience()));
    let bus = InMemoryBus::new(contracts::topology());
    let service = PaymentsService::from_parts(Arc::new(store), bus.clone(), provider, &PaymentsConfig::default());
    let handler = PaymentCommands::new(service.payments.clone());
    TestApp { service, simulated, bus, handler, _guard: guard }
}

impl TestApp {
    /// Delivers `message` to the command handler, as the bus would.
    pub async fn deliver(&self, message: &Envelope) -> Result<(), HandlerError> {
        self.handler.handle(message).await
    }

    /// Every message in the outbox, oldest first.
    pub async fn outbox(&self) -> Vec<Envelope> {
        let rows = outbox::entity::Entity::find()
            .order_by_asc(outbox::entity::Column::Id)
            .all(self.service.store.connection())
            .await
            .unwrap();
        rows.iter().map(|row| Envelope::from_json(row.body.as_bytes()).unwrap()).collect()
    }

    /// The outbox messages that answer `cause`.
    pub async fn replies_to(&self, cause: &Envelope) -> Vec<Envelope> {
        self.outbox().await.into_iter().filter(|m| m.causation_id == Some(cause.id)).collect()
    }

    /// Authorizes `amount_minor` USD for a new order of `user` with `token`; the order id.
    pub async fn authorized_order(&self, user: Uuid, amount_minor: i64, token: &str) -> String {
        let order_id = Uuid::now_v7().to_string();
        self.deliver(&authorize(&order_id, user, amount_minor, token)).await.unwrap();
        order_id
    }

    /// Authorizes and captures `amount_minor` USD for a new order of `user`; the order id.
    pub async fn captured_order(&self, user: Uuid, amount_minor: i64) -> String {
        let order_id = self.authorized_order(user, amount_minor, "tok_visa").await;
        self.deliver(&capture(&order_id)).await.unwrap();
        order_id
    }

    /// Publishes messages on the bus, as another service would.
    pub async fn publish(&self, messages: &[Envelope]) {
        self.bus.publish(messages).await.unwrap();
    }
}

/// The saga's `payment.authorize` command.
pub fn authorize(order_id: &str, user: Uuid, amount_minor: i64, token: &str) -> Envelope {
    let command = PaymentAuthorize {
        order_id: order_id.to_owned(),
        user_id: user.to_string(),
        amount_minor,
        currency: "USD".into(),
        payment_token: token.into(),
    };
    Envelope::new(&command, order_id).unwrap()
}

/// The saga's `payment.capture` command.
pub fn capture(order_id: &str) -> Envelope {
    Envelope::new(&PaymentCapture { order_id: order_id.to_owned() }, order_id).unwrap()
}

/// The saga's `payment.void` command.
pub fn void(order_id: &str) -> Envelope {
    Envelope::new(&PaymentVoid { order_id: order_id.to_owned(), reason: "order cancelled".into() }, order_id).unwrap()
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no coded error in {body}"))
}
