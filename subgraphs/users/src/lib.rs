//! The users subgraph: identity, profiles and addresses, access tokens (EdDSA JWTs published
//! as a JWKS at `/.well-known/jwks.json`) and rotating refresh tokens.
//!
//! [`UsersService`] is the subgraph ([`Subgraph::build`] wires it from its settings to a
//! store, throttle counters, signing keys and the bus); tests build it over parts of their own
//! with [`UsersService::from_parts`].

pub mod config;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod keys;
pub mod seed;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use axum::{Json, Router, http::header, response::IntoResponse, routing::get};
use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, cache::KvCache, health::Readiness};
use shop_messaging::{Bus, BusError, outbox::OutboxWaker};
use tokio_util::sync::CancellationToken;

pub use crate::{config::UsersConfig, graphql::UsersSchema};
use crate::{
    credentials::TokenIssuer,
    error::UsersError,
    keys::{KeyError, SigningKeys},
    service::{Identity, IdentitySettings},
    store::{StoreError, UserStore, mongo::MongoUserStore, sql::SqlUserStore},
};

/// Where the public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The users subgraph, wired.
pub struct UsersService {
    /// The use cases.
    pub identity: Arc<Identity>,
    /// The GraphQL schema.
    pub schema: UsersSchema,
    /// Verifies access tokens against this service's own keys.
    pub verifier: Arc<TokenVerifier>,
    /// Where `user.registered` is published.
    pub bus: Arc<dyn Bus>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store is unreachable or could not be prepared.
    #[error("users store: {0}")]
    Store(#[from] StoreError),
    /// The throttle counters are unreachable.
    #[error("users throttle cache: {0}")]
    Cache(#[from] shop_kernel::cache::CacheError),
    /// The signing keys could not be loaded.
    #[error("users signing keys: {0}")]
    Keys(#[from] KeyError),
    /// The message broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
    /// The demo accounts could not be created.
    #[error("demo accounts: {0}")]
    Seed(#[from] UsersError),
}

impl UsersService {
    /// The service over a prepared store, counters, keys and bus.
    pub fn from_parts(
        store: Arc<dyn UserStore>,
        throttle: Arc<dyn KvCache>,
        keys: SigningKeys,
        bus: Arc<dyn Bus>,
        config: &UsersConfig,
    ) -> Self {
        let verifier = Arc::new(TokenVerifier::with_keys(keys.jwks(), &config.issuer, &config.audience));
        let access_ttl = Duration::from_secs(config.access_token_ttl_secs);
        let issuer = TokenIssuer::new(keys, &config.issuer, &config.audience, access_ttl);
        let settings = IdentitySettings {
            refresh_ttl: Duration::from_secs(config.refresh_token_ttl_secs),
            key_prefix: config.cache.key_prefix.clone(),
            max_failures_per_account: config.max_failures_per_account,
            max_failures_per_ip: config.max_failures_per_ip,
            lockout: Duration::from_secs(config.lockout_secs),
        };
        let identity = Arc::new(Identity::new(store, throttle, issuer, settings, OutboxWaker::new()));
        let schema = graphql::schema(identity.clone());
        Self { identity, schema, verifier, bus }
    }
}

#[async_trait::async_trait]
impl Subgraph for UsersService {
    const NAME: &'static str = "users";
    const SEEDS_DEMO_DATA: bool = true;
    type Config = UsersConfig;
    type Schema = UsersSchema;
    type Error = StartError;

    /// Connects and prepares the store (MongoDB, or SQLite when embedded), the counters
    /// (Redis, or process memory) and the bus, and loads the signing keys.
    async fn build(config: &UsersConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let store: Arc<dyn UserStore> = if config.database.is_mongodb() {
            Arc::new(
                MongoUserStore::connect(config.database.url(), &config.mongo_database, config.database.max_connections)
                    .await?,
            )
        } else {
            Arc::new(SqlUserStore::connect(config.database.url(), config.database.max_connections).await?)
        };
        store.prepare().await?;
        let throttle = config.cache.connect(100_000).await?;
        let keys =
            SigningKeys::load(&config.signing_key_file, &config.previous_key_files, config.generate_signing_key)?;
        Ok(Self::from_parts(store, throttle, keys, bus, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> UsersSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.identity.store().clone(), |store| async move { store.ping().await }).check(
            "throttle cache",
            self.identity.throttle().clone(),
            |cache| async move { cache.ping().await },
        )
    }

    /// The JWKS.
    fn routes(&self) -> Router {
        let jwks = Arc::new(self.identity.issuer().keys().jwks().clone());
        Router::new().route(
            JWKS_PATH,
            get(move || {
                let jwks = jwks.clone();
                // Verifiers cache the set; five minutes bounds how long a new key goes unseen
                // by those that do not refetch on an unknown `kid`.
                async move { ([(header::CACHE_CONTROL, "public, max-age=300")], Json(jwks)).into_response() }
            }),
        )
    }

    /// The outbox relay that publishes `user.registered` ([`events`]).
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let waker = self.identity.outbox_waker().clone();
        Ok(vec![events::spawn_relay(self.identity.store().as_ref(), self.bus.clone(), waker, shutdown.clone())])
    }

    fn banner(&self) -> Option<String> {
        Some(format!(
            "demo admin {} / {}, demo customer {} / {}",
            seed::ADMIN_EMAIL,
            seed::ADMIN_PASSWORD,
            seed::CUSTOMER_EMAIL,
            seed::CUSTOMER_PASSWORD
        ))
    }

    /// The demo admin and customer.
    async fn seed_demo(&self, _demo: &str) -> Result<Option<String>, StartError> {
        let accounts = seed::apply(&self.identity).await?;
        Ok(Some(format!("{accounts} demo accounts")))
    }
}
