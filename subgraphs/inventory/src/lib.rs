//! The inventory subgraph: stock per SKU, atomic reservations with expiry, audited
//! adjustments. It extends the catalog's `Product` and `ProductVariant` with `stock`.
//!
//! Reservation operations (reserve, commit, release) are the internal API the checkout saga
//! drives through events; they and the GraphQL API both go through [`service::Inventory`].
//!
//! [`InventoryService`] is the subgraph ([`Subgraph::build`] wires it from its settings);
//! tests build it over a store and a bus of their own with [`InventoryService::from_parts`].

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod seed;
pub mod service;
pub mod store;
pub mod sweeper;

use std::{sync::Arc, time::Duration};

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError, ConsumerSpec, contracts,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio_util::sync::CancellationToken;

pub use crate::{config::InventoryConfig, graphql::InventorySchema};
use crate::{
    service::Inventory,
    store::{InventoryStore, StoreError},
};

/// The inventory subgraph, wired.
pub struct InventoryService {
    /// The database.
    pub store: Arc<InventoryStore>,
    /// The use cases, shared by the schema and the saga's command consumer.
    pub inventory: Arc<Inventory>,
    /// The GraphQL schema.
    pub schema: InventorySchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// Where the saga's commands come from and its answers go.
    pub bus: Arc<dyn Bus>,
    /// Wakes the outbox relay after a commit that wrote messages.
    pub waker: OutboxWaker,
    sweep_interval: Duration,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or could not be migrated.
    #[error("inventory database: {0}")]
    Store(#[from] StoreError),
    /// The broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
    /// The demo stock file does not parse.
    #[error("inventory seed file: {0}")]
    SeedFile(#[from] serde_json::Error),
}

impl InventoryService {
    /// The service over an open store and a bus.
    pub fn from_parts(store: Arc<InventoryStore>, bus: Arc<dyn Bus>, config: &InventoryConfig) -> Self {
        let waker = OutboxWaker::new();
        let reservation_ttl = Duration::from_secs(config.reservation_ttl_secs);
        let inventory = Arc::new(Inventory::new(store.clone(), waker.clone(), reservation_ttl));
        Self {
            store,
            schema: graphql::schema(inventory.clone()),
            inventory,
            verifier: Arc::new(TokenVerifier::remote(&config.auth)),
            bus,
            waker,
            sweep_interval: Duration::from_secs(config.sweep_interval_secs),
        }
    }
}

#[async_trait::async_trait]
impl Subgraph for InventoryService {
    const NAME: &'static str = "inventory";
    const SEEDS_DEMO_DATA: bool = true;
    type Config = InventoryConfig;
    type Schema = InventorySchema;
    type Error = StartError;

    /// Connects (and migrates) the database and connects the bus.
    async fn build(config: &InventoryConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let store = Arc::new(InventoryStore::connect(config.database.url(), config.database.max_connections).await?);
        Ok(Self::from_parts(store, bus, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> InventorySchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.store.clone(), |store| async move { store.ping().await })
    }

    /// The saga side: the outbox relay, the command consumer and the reservation sweeper.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let relay = OutboxRelay::new(self.store.connection().clone(), self.bus.clone(), self.waker.clone());
        let handler = events::CommandHandler::new(self.inventory.clone());
        let spec = ConsumerSpec::durable(contracts::inventory_commands_queue());
        let consumer = self.bus.consume(spec, Arc::new(handler), shutdown.clone()).await?;
        let sweeper = sweeper::run(self.store.clone(), self.waker.clone(), self.sweep_interval, shutdown.clone());
        Ok(vec![tokio::spawn(relay.run(shutdown.clone())), tokio::spawn(consumer.join()), tokio::spawn(sweeper)])
    }

    /// The stock of every demo SKU that has none yet.
    async fn seed_demo(&self, demo: &str) -> Result<Option<String>, StartError> {
        let skus = seed::apply(&self.store, &serde_json::from_str(demo)?).await?;
        Ok(Some(format!("the stock of {skus} SKUs")))
    }
}
