//! The catalog subgraph: products, variants, categories, search and facets.
//!
//! [`CatalogService`] is the subgraph ([`Subgraph::build`] wires it from its settings to a
//! store and a cache); tests build it over parts of their own with
//! [`CatalogService::from_parts`] and drive the schema directly or the app on port 0.

pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod seed;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{Shared, Subgraph, auth::TokenVerifier, cache::KvCache, health::Readiness};

pub use crate::{config::CatalogConfig, graphql::CatalogSchema};
use crate::{
    seed::SeedError,
    service::Catalog,
    store::{CatalogStore, StoreError, mongo::MongoCatalogStore, sql::SqlCatalogStore},
};

/// The catalog subgraph, wired.
pub struct CatalogService {
    /// The use cases (store + cache).
    pub catalog: Arc<Catalog>,
    /// The GraphQL schema.
    pub schema: CatalogSchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store is unreachable or could not be prepared.
    #[error("catalog store: {0}")]
    Store(#[from] StoreError),
    /// The cache is unreachable.
    #[error("catalog cache: {0}")]
    Cache(#[from] shop_kernel::cache::CacheError),
    /// The demo catalog could not be loaded.
    #[error("catalog seed: {0}")]
    Seed(#[from] SeedError),
    /// The demo catalog file does not parse.
    #[error("catalog seed file: {0}")]
    SeedFile(#[from] serde_json::Error),
}

impl CatalogService {
    /// The service over a prepared store and a cache.
    pub fn from_parts(store: Arc<dyn CatalogStore>, cache: Arc<dyn KvCache>, config: &CatalogConfig) -> Self {
        let ttl = Duration::from_secs(config.cache_ttl_secs);
        let catalog = Arc::new(Catalog::new(store, cache, &config.cache.key_prefix, ttl));
        let schema = graphql::schema(catalog.clone());
        Self { catalog, schema, verifier: Arc::new(TokenVerifier::remote(&config.auth)) }
    }
}

#[async_trait::async_trait]
impl Subgraph for CatalogService {
    const NAME: &'static str = "catalog";
    const SEEDS_DEMO_DATA: bool = true;
    type Config = CatalogConfig;
    type Schema = CatalogSchema;
    type Error = StartError;

    /// Connects and prepares the store (MongoDB, or SQLite when embedded) and the cache
    /// (Redis, or process memory).
    async fn build(config: &CatalogConfig, _shared: &Shared) -> Result<Self, StartError> {
        let store: Arc<dyn CatalogStore> = if config.database.is_mongodb() {
            Arc::new(
                MongoCatalogStore::connect(
                    config.database.url(),
                    &config.mongo_database,
                    config.database.max_connections,
                )
                .await?,
            )
        } else {
            Arc::new(SqlCatalogStore::connect(config.database.url(), config.database.max_connections).await?)
        };
        store.prepare().await?;
        let cache = config.cache.connect(10_000).await?;
        Ok(Self::from_parts(store, cache, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> CatalogSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.catalog.store().clone(), |store| async move { store.ping().await }).check(
            "cache",
            self.catalog.cache().clone(),
            |cache| async move { cache.ping().await },
        )
    }

    async fn seed_demo(&self, demo: &str) -> Result<Option<String>, StartError> {
        let products = seed::apply(&self.catalog, &serde_json::from_str(demo)?).await?;
        Ok(Some(format!("{products} products")))
    }
}
