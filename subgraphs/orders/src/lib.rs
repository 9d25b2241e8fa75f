//! The orders subgraph: orders, checkout, the checkout saga orchestrator and live order
//! tracking.
//!
//! - [`service`] holds the use cases that both [`graphql`] and [`events`] call:
//!   [`service::checkout`] places an order (authoritative prices from the catalog, an
//!   availability hint from inventory, then ONE transaction writes the PENDING order and its
//!   outbox messages, and the call returns at once); [`service::lifecycle`] drives each order
//!   through the one transition table of [`domain::status`] as inventory and payments answer
//!   and as it is cancelled, shipped and delivered, compensating cancellations;
//! - [`events::saga`] consumes the replies of inventory and payments and hands them to the
//!   lifecycle; [`events::tracking`] fans every change out to this replica's `orderUpdated`
//!   subscriptions, through the broker;
//! - [`adapters`] are the clients of the catalog, inventory, users and cart subgraphs;
//! - [`sweeper`] cancels orders whose payment or reservation never answered.
//!
//! [`OrdersService`] is the subgraph ([`Subgraph::build`] wires it from its settings to
//! PostgreSQL/SQLite and the bus); tests build it over a store and a bus of their own with
//! [`OrdersService::from_parts`].

pub mod adapters;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;
pub mod sweeper;

use std::{sync::Arc, time::Duration};

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError, ConsumerSpec, contracts,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use crate::{config::OrdersConfig, graphql::OrdersSchema};
use crate::{
    events::{
        saga::SagaHandler,
        tracking::{self, TrackingHandler},
    },
    service::{
        Orders, TrackingSignal,
        checkout::{Checkout, Upstreams},
        lifecycle::Saga,
    },
    store::{OrdersStore, StoreError},
};

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

/// The orders subgraph, wired.
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
    /// Changed orders, fed by the tracking consumer once started.
    pub tracking: broadcast::Sender<TrackingSignal>,
    sweep_interval: Duration,
}

impl OrdersService {
    /// The service over an open (migrated) store and a bus.
    pub fn from_parts(store: OrdersStore, bus: Arc<dyn Bus>, config: &OrdersConfig) -> Self {
        let waker = OutboxWaker::new();
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
        let payment_timeout = Duration::from_secs(config.payment_timeout_secs);
        let saga = Arc::new(Saga::new(store.connection().clone(), waker.clone(), payment_timeout));
        let (tracking, _) = broadcast::channel(tracking::CHANNEL_CAPACITY);
        let orders = Arc::new(Orders { store: store.clone(), checkout, saga, tracking: tracking.clone() });
        let schema = graphql::schema(orders.clone());
        Self {
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
}

#[async_trait::async_trait]
impl Subgraph for OrdersService {
    const NAME: &'static str = "orders";
    type Config = OrdersConfig;
    type Schema = OrdersSchema;
    type Error = StartError;

    /// Connects (and migrates) the database and connects the bus.
    async fn build(config: &OrdersConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let store = OrdersStore::connect(config.database.url(), config.database.max_connections).await?;
        Ok(Self::from_parts(store, bus, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> OrdersSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", Arc::new(self.store.clone()), |store| async move { store.ping().await })
    }

    /// The outbox relay, the saga consumer (durable `orders.saga` queue), this replica's
    /// tracking consumer, and the timeout sweeper.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let relay = OutboxRelay::new(self.store.connection().clone(), self.bus.clone(), self.waker.clone());
        let mut tasks = vec![tokio::spawn(relay.run(shutdown.clone()))];
        let saga = ConsumerSpec::durable(contracts::orders_saga_queue());
        let saga = self.bus.consume(saga, Arc::new(SagaHandler(self.orders.saga.clone())), shutdown.clone()).await?;
        tasks.push(tokio::spawn(saga.join()));
        let handler = Arc::new(TrackingHandler(self.tracking.clone()));
        let tracking = self.bus.consume(tracking::consumer_spec(), handler, shutdown.clone()).await?;
        tasks.push(tokio::spawn(tracking.join()));
        let sweeper = sweeper::run(self.store.clone(), self.orders.saga.clone(), self.sweep_interval, shutdown.clone());
        tasks.push(tokio::spawn(sweeper));
        Ok(tasks)
    }
}
