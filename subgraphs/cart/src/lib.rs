//! The cart subgraph: carts of signed-in users and of guests, kept in Redis (or in process
//! memory when embedded) for a week after their last change.
//!
//! Lines point at the catalog's `ProductVariant` by SKU and hold no price: the router asks
//! the catalog for names and prices. Every change is optimistic (`expectedVersion`), and a
//! guest cart is merged into the user's cart atomically when they sign in (`cartMerge`).
//!
//! [`build`] wires configuration to a store and returns the schema and the axum app;
//! `main.rs` only serves it. Tests drive the schema directly with [`from_parts`].

pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{auth::TokenVerifier, health::Readiness};

pub use crate::{config::CartConfig, graphql::CartSchema};
use crate::{
    service::Carts,
    store::{CartStore, MemoryCartStore, RedisCartStore, StoreError},
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "cart";

/// A wired cart service.
pub struct CartService {
    /// The GraphQL schema.
    pub schema: CartSchema,
    /// Where carts live.
    pub store: Arc<dyn CartStore>,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store is unreachable.
    #[error("cart store: {0}")]
    Store(#[from] StoreError),
}

struct CartReadiness(Arc<dyn CartStore>);

#[async_trait::async_trait]
impl Readiness for CartReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects the store named by `config` (Redis, or process memory when `redis_url` is
/// unset) and builds the schema.
pub async fn build(config: &CartConfig) -> Result<CartService, StartError> {
    let ttl = Duration::from_secs(config.idle_ttl_secs);
    let store: Arc<dyn CartStore> = match &config.redis_url {
        Some(url) => Arc::new(RedisCartStore::connect(url, &config.key_prefix, ttl).await?),
        None => Arc::new(MemoryCartStore::new(ttl)),
    };
    Ok(from_parts(store, config))
}

/// Builds the service over an open store (whose carts should expire after
/// `config.idle_ttl_secs`, which `expiresAt` reports).
pub fn from_parts(store: Arc<dyn CartStore>, config: &CartConfig) -> CartService {
    let carts = Arc::new(Carts::new(store.clone(), Duration::from_secs(config.idle_ttl_secs)));
    let schema = graphql::schema(carts);
    CartService { schema, store, verifier: Arc::new(TokenVerifier::remote(&config.auth)) }
}

impl CartService {
    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        let readiness = Arc::new(CartReadiness(self.store.clone()));
        shop_kernel::server::app(SERVICE, self.schema.clone(), readiness, self.verifier.clone())
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
