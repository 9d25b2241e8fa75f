//! The orders subgraph: orders, checkout, the checkout saga orchestrator and live order
//! tracking.
//!
//! - [`checkout`] places an order: authoritative prices from the catalog, an availability
//!   hint from inventory, then ONE transaction writes the PENDING order and its outbox
//!   messages, and the call returns at once;
//! - [`events::saga`] drives each order through the one transition table of
//!   [`domain::status`] as inventory and payments answer, compensating cancellations;
//! - [`sweeper`] cancels orders whose payment or reservation never answered;
//! - [`events::tracking`] fans every change out to this replica's `orderUpdated`
//!   subscriptions, through the broker.
//!
//! [`build`] wires configuration to PostgreSQL/SQLite and RabbitMQ; [`from_parts`] takes a
//! database URL and a bus (the embedded launcher and tests pass an in-process bus);
//! [`OrdersService::start`] spawns the background work; `main.rs` only serves.

pub mod checkout;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;
pub mod sweeper;
pub mod upstream;

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use shop_kernel::{auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError, ConsumerSpec, QueueSpec, contracts,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio::{sync::broadcast, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    checkout::{Checkout, Upstreams},
    events::{
        saga::{Saga, SagaHandler},
        tracking::{self, TrackingHandler},
    },
    service::Orders,
    store::{OrdersStore, StoreError},
};
pub use crate::{config::OrdersConfig, graphql::OrdersSchema};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "orders";

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or could not be migrated.
    #[error("orders database: {0}")]
    Store(#[from] StoreError),
    /// The broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
}

/// A wired orders service.
pub struct OrdersService {
    /// The database.
    pub store: OrdersStore,
    /// The GraphQL schema.
    pub schema: OrdersSchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// The message bus.
    pub bus: Arc<dyn Bus>,
    /// Wakes the outbox relay after a commit.
    pub waker: OutboxWaker,
    /// The use cases the schema runs on.
    pub orders: Arc<Orders>,
    /// Ids of changed orders, fed by the tracking consumer once [`OrdersService::start`]ed.
    pub tracking: broadcast::Sender<Uuid>,
    sweep_interval: Duration,
}

struct OrdersReadiness(OrdersStore);

#[async_trait::async_trait]
impl Readiness for OrdersReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects (and migrates) the database and connects the broker named by `config`
/// (RabbitMQ at `amqp_url`; without one, an in-process bus, useful only when orders runs
/// alone for development).
pub async fn build(config: &OrdersConfig) -> Result<OrdersService, StartError> {
    let bus =
        shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix)
            .await?;
    from_parts(&config.database_url, bus, config).await
}

/// Builds the service over the database at `database_url` (migrated on open) and `bus`.
pub async fn from_parts(
    database_url: &str,
    bus: Arc<dyn Bus>,
    config: &OrdersConfig,
) -> Result<OrdersService, StartError> {
    let store = OrdersStore::connect(database_url, config.max_connections).await?;
    Ok(over_store(store, bus, config))
}

fn over_store(store: OrdersStore, bus: Arc<dyn Bus>, config: &OrdersConfig) -> OrdersService {
    let waker = OutboxWaker::new();
    let db: DatabaseConnection = store.connection().clone();
    let budget = Duration::from_millis(config.upstream_timeout_ms);
    let upstreams =
        Upstreams::new(&config.catalog_url, &config.inventory_url, &config.users_url, &config.cart_url, budget);
    let checkout = Checkout::new(
        store.clone(),
        upstreams,
        config.pricing(),
        config.currency,
        Duration::from_secs(config.pending_timeout_secs),
        waker.clone(),
    );
    let saga = Arc::new(Saga::new(db, waker.clone(), Duration::from_secs(config.payment_timeout_secs)));
    let (tracking, _) = broadcast::channel(tracking::CHANNEL_CAPACITY);
    let orders = Arc::new(Orders { store: store.clone(), checkout, saga, tracking: tracking.clone() });
    let schema = graphql::schema(orders.clone());
    OrdersService {
        store,
        schema,
        verifier: Arc::new(TokenVerifier::remote(&config.auth)),
        bus,
        waker,
        orders,
        tracking,
        sweep_interval: Duration::from_secs(config.sweep_interval_secs),
    }
}

fn saga_queue() -> QueueSpec {
    contracts::topology()
        .into_iter()
        .find(|q| q.name == contracts::ORDERS_SAGA)
        .unwrap_or_else(|| QueueSpec { name: contracts::ORDERS_SAGA.to_owned(), bindings: Vec::new() })
}

impl OrdersService {
    /// Spawns the background work until `shutdown`: the outbox relay, the saga consumer
    /// (durable `orders.saga` queue), this replica's tracking consumer, and the timeout
    /// sweeper. Returns their tasks.
    pub async fn start(&self, shutdown: CancellationToken) -> Result<Vec<JoinHandle<()>>, StartError> {
        let db = self.store.connection().clone();
        let relay = OutboxRelay::new(db, self.bus.clone(), self.waker.clone());
        let mut tasks = vec![tokio::spawn(relay.run(shutdown.clone()))];
        let saga = self
            .bus
            .consume(
                ConsumerSpec::durable(saga_queue()),
                Arc::new(SagaHandler(self.orders.saga.clone())),
                shutdown.clone(),
            )
            .await?;
        tasks.push(tokio::spawn(saga.join()));
        let tracking = self
            .bus
            .consume(tracking::consumer_spec(), Arc::new(TrackingHandler(self.tracking.clone())), shutdown.clone())
            .await?;
        tasks.push(tokio::spawn(tracking.join()));
        tasks.push(tokio::spawn(sweeper::run(
            self.store.clone(),
            self.orders.saga.clone(),
            self.sweep_interval,
            shutdown,
        )));
        Ok(tasks)
    }

    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        shop_kernel::server::app(
            SERVICE,
            self.schema.clone(),
            Arc::new(OrdersReadiness(self.store.clone())),
            self.verifier.clone(),
        )
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
