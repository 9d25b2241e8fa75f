//! The cart subgraph: carts of signed-in users and of guests, kept in Redis (or in process
//! memory when embedded) for a week after their last change.
//!
//! Lines point at the catalog's `ProductVariant` by SKU and hold no price: the router asks
//! the catalog for names and prices. Every change is optimistic (`expectedVersion`), and a
//! guest cart is merged into the user's cart atomically when they sign in (`cartMerge`).
//! An order placed from a cart takes its lines out of it through the bus ([`events`]).
//!
//! [`CartService`] is the subgraph ([`Subgraph::build`] wires it from its settings);
//! tests build it over a store of their own with [`CartService::from_parts`].

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{Bus, BusError};
use tokio_util::sync::CancellationToken;

pub use crate::{config::CartConfig, graphql::CartSchema};
use crate::{
    service::Carts,
    store::{CartStore, MemoryCartStore, RedisCartStore, StoreError},
};

/// The cart subgraph, wired.
pub struct CartService {
    /// The GraphQL schema.
    pub schema: CartSchema,
    /// Where carts live.
    pub store: Arc<dyn CartStore>,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// The message bus orders placed from a cart arrive on.
    pub bus: Arc<dyn Bus>,
    carts: Arc<Carts>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store is unreachable.
    #[error("cart store: {0}")]
    Store(#[from] StoreError),
    /// The broker is unreachable.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
}

impl CartService {
    /// The service over an open store (whose carts should expire after
    /// `config.idle_ttl_secs`, which `expiresAt` reports) and a bus.
    pub fn from_parts(store: Arc<dyn CartStore>, bus: Arc<dyn Bus>, config: &CartConfig) -> Self {
        let carts = Arc::new(Carts::new(store.clone(), Duration::from_secs(config.idle_ttl_secs)));
        Self {
            schema: graphql::schema(carts.clone()),
            store,
            verifier: Arc::new(TokenVerifier::remote(&config.auth)),
            bus,
            carts,
        }
    }
}

#[async_trait::async_trait]
impl Subgraph for CartService {
    const NAME: &'static str = "cart";
    type Config = CartConfig;
    type Schema = CartSchema;
    type Error = StartError;

    /// Connects the store named by `config` (Redis, or process memory when `redis_url` is
    /// unset) and the bus.
    async fn build(config: &CartConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let ttl = Duration::from_secs(config.idle_ttl_secs);
        let store: Arc<dyn CartStore> = match &config.cache.redis_url {
            Some(url) => Arc::new(RedisCartStore::connect(url.expose(), &config.cache.key_prefix, ttl).await?),
            None => Arc::new(MemoryCartStore::new(ttl)),
        };
        Ok(Self::from_parts(store, bus, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> CartSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    /// Consumes the orders placed from carts.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let handler = Arc::new(events::CheckedOutHandler(self.carts.clone()));
        let consumer = self.bus.consume(events::consumer_spec(), handler, shutdown.clone()).await?;
        Ok(vec![tokio::spawn(consumer.join())])
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.store.clone(), |store| async move { store.ping().await })
    }
}
