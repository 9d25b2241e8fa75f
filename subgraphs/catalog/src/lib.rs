//! The catalog subgraph: products, variants, categories, search and facets.
//!
//! [`build`] wires configuration to a store and a cache and returns the schema and the axum
//! app; `main.rs` only serves it. Tests drive the schema directly or the app on port 0.

pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod seed;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{
    auth::TokenVerifier,
    cache::{KvCache, MemoryCache, RedisCache},
    config::is_sqlite_url,
    health::Readiness,
};

pub use crate::{config::CatalogConfig, graphql::CatalogSchema};
use crate::{
    service::Catalog,
    store::{CatalogStore, StoreError, mongo::MongoCatalogStore, sql::SqlCatalogStore},
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "catalog";

/// A wired catalog service.
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
}

struct CatalogReadiness {
    store: Arc<dyn CatalogStore>,
    cache: Arc<dyn KvCache>,
}

#[async_trait::async_trait]
impl Readiness for CatalogReadiness {
    async fn check(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| format!("store: {e}"))?;
        self.cache.ping().await.map_err(|e| format!("cache: {e}"))
    }
}

/// Connects the store and cache named by `config` and builds the schema.
pub async fn build(config: &CatalogConfig) -> Result<CatalogService, StartError> {
    let store: Arc<dyn CatalogStore> = if is_sqlite_url(&config.database_url) {
        Arc::new(SqlCatalogStore::connect(&config.database_url).await?)
    } else {
        Arc::new(MongoCatalogStore::connect(&config.database_url, &config.mongo_database).await?)
    };
    store.prepare().await?;
    let cache: Arc<dyn KvCache> = match &config.redis_url {
        Some(url) => Arc::new(RedisCache::connect(url).await?),
        None => Arc::new(MemoryCache::new(10_000)),
    };
    Ok(from_parts(store, cache, config))
}

/// Builds the service over an already prepared store and cache.
pub fn from_parts(store: Arc<dyn CatalogStore>, cache: Arc<dyn KvCache>, config: &CatalogConfig) -> CatalogService {
    let catalog =
        Arc::new(Catalog::new(store, cache, &config.cache_prefix, Duration::from_secs(config.cache_ttl_secs)));
    let schema = graphql::schema(catalog.clone());
    CatalogService { catalog, schema, verifier: Arc::new(TokenVerifier::remote(&config.auth)) }
}

impl CatalogService {
    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        let readiness =
            Arc::new(CatalogReadiness { store: self.catalog.store().clone(), cache: self.catalog.cache().clone() });
        shop_kernel::server::app(SERVICE, self.schema.clone(), readiness, self.verifier.clone())
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
