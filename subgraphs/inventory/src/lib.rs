//! The inventory subgraph: stock per SKU, atomic reservations with expiry, audited
//! adjustments. It extends the catalog's `Product` and `ProductVariant` with `stock`.
//!
//! Reservation operations ([`store::InventoryStore::reserve`], `commit`, `release`) are the
//! internal API the checkout saga drives through events.

pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod seed;
pub mod store;
pub mod sweeper;

use std::sync::Arc;

use shop_kernel::{auth::TokenVerifier, health::Readiness};

pub use crate::{config::InventoryConfig, graphql::InventorySchema};
use crate::store::{InventoryStore, StoreError};

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
    InventoryService { store, schema, verifier: Arc::new(TokenVerifier::remote(&config.auth)) }
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

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
