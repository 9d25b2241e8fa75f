//! The inventory subgraph: stock per SKU, atomic reservations with expiry, audited
//! adjustments. It extends the catalog's `Product` and `ProductVariant` with `stock`.
//!
//! Reservation operations ([`store::InventoryStore::reserve`], `commit`, `release`) are the
//! internal API the checkout saga drives through events.

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod seed;
pub mod store;
pub mod sweeper;

use std::{sync::Arc, time::Duration};

use shop_kernel::{auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError, ConsumerSpec, contracts,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::{InventoryStore, StoreError};
pub use crate::{config::InventoryConfig, graphql::InventorySchema};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "inventory";

/// A wired inventory service.
pub struct InventoryService {
    /// The database.
    pub store: Arc<InventoryStore>,
    /// The GraphQL schema.
    pub schema: InventorySchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// Wakes the outbox relay after a commit that wrote messages.
    pub waker: OutboxWaker,
    reservation_ttl: Duration,
    sweep_interval: Duration,
}

struct InventoryReadiness(Arc<InventoryStore>);

#[async_trait::async_trait]
impl Readiness for InventoryReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects (and migrates) the database named by `config` and builds the schema.
pub async fn build(config: &InventoryConfig) -> Result<InventoryService, StoreError> {
    let store = Arc::new(InventoryStore::connect(&config.database_url, config.max_connections).await?);
    Ok(from_store(store, config))
}

/// Builds the service over an open store.
pub fn from_store(store: Arc<InventoryStore>, config: &InventoryConfig) -> InventoryService {
    let schema = graphql::schema(store.clone());
    InventoryService {
        store,
        schema,
        verifier: Arc::new(TokenVerifier::remote(&config.auth)),
        waker: OutboxWaker::new(),
        reservation_ttl: Duration::from_secs(config.reservation_ttl_secs),
        sweep_interval: Duration::from_secs(config.sweep_interval_secs),
    }
}

/// Connects to the RabbitMQ broker named by `config` and declares the shared topology
/// (without one, a private in-process bus: for development only).
pub async fn connect_bus(config: &InventoryConfig) -> Result<Arc<dyn Bus>, BusError> {
    shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix).await
}

impl InventoryService {
    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        shop_kernel::server::app(
            SERVICE,
            self.schema.clone(),
            Arc::new(InventoryReadiness(self.store.clone())),
            self.verifier.clone(),
        )
    }

    /// Starts the saga side: the outbox relay, the command consumer and the reservation
    /// sweeper. They run until `shutdown`.
    pub async fn start(
        &self,
        bus: Arc<dyn Bus>,
        shutdown: &CancellationToken,
    ) -> Result<Vec<JoinHandle<()>>, BusError> {
        let relay = OutboxRelay::new(self.store.connection().clone(), bus.clone(), self.waker.clone());
        let handler = events::CommandHandler::new(self.store.clone(), self.waker.clone(), self.reservation_ttl);
        let queue = contracts::topology()
            .into_iter()
            .find(|q| q.name == contracts::INVENTORY_COMMANDS)
            .ok_or_else(|| BusError::Topology("no inventory queue in the topology".into()))?;
        let consumer = bus.consume(ConsumerSpec::durable(queue), Arc::new(handler), shutdown.clone()).await?;
        let sweeper = sweeper::run(self.store.clone(), self.waker.clone(), self.sweep_interval, shutdown.clone());
        Ok(vec![tokio::spawn(relay.run(shutdown.clone())), tokio::spawn(consumer.join()), tokio::spawn(sweeper)])
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
