//! The users subgraph: identity, profiles and addresses, access tokens (EdDSA JWTs published
//! as a JWKS at `/.well-known/jwks.json`) and rotating refresh tokens.
//!
//! [`build`] wires configuration to a store, throttle counters and signing keys and returns
//! the service; `main.rs` only serves it.

pub mod config;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod keys;
pub mod seed;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use axum::{Json, Router, http::header, response::IntoResponse, routing::get};
use shop_kernel::{
    auth::TokenVerifier,
    cache::{KvCache, MemoryCache, RedisCache},
    config::is_sqlite_url,
    health::Readiness,
};
use shop_messaging::{Bus, BusError, outbox::OutboxWaker};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::{config::UsersConfig, graphql::UsersSchema};
use crate::{
    credentials::TokenIssuer,
    keys::{KeyError, SigningKeys},
    service::{Identity, IdentitySettings},
    store::{StoreError, UserStore, mongo::MongoUserStore, sql::SqlUserStore},
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "users";

/// Where the public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// A wired users service.
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
}

struct UsersReadiness {
    store: Arc<dyn UserStore>,
    throttle: Arc<dyn KvCache>,
}

#[async_trait::async_trait]
impl Readiness for UsersReadiness {
    async fn check(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| format!("store: {e}"))?;
        self.throttle.ping().await.map_err(|e| format!("throttle cache: {e}"))
    }
}

/// Connects the store, counters and bus named by `config` (RabbitMQ; without `amqp_url`, a
/// private in-process bus), loads the keys and builds the schema.
pub async fn build(config: &UsersConfig) -> Result<UsersService, StartError> {
    let bus =
        shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix)
            .await?;
    build_with_bus(config, bus).await
}

/// [`build`] over a bus of the caller's (the embedded launcher's in-process bus).
pub async fn build_with_bus(config: &UsersConfig, bus: Arc<dyn Bus>) -> Result<UsersService, StartError> {
    let store: Arc<dyn UserStore> = if is_sqlite_url(&config.database_url) {
        Arc::new(SqlUserStore::connect(&config.database_url).await?)
    } else {
        Arc::new(MongoUserStore::connect(&config.database_url, &config.mongo_database).await?)
    };
    store.prepare().await?;
    let throttle: Arc<dyn KvCache> = match &config.redis_url {
        Some(url) => Arc::new(RedisCache::connect(url).await?),
        None => Arc::new(MemoryCache::new(100_000)),
    };
    let keys = SigningKeys::load(&config.signing_key_file, &config.previous_key_files, config.generate_signing_key)?;
    Ok(from_parts(store, throttle, keys, bus, config))
}

/// Builds the service over a prepared store, counters, keys and bus.
pub fn from_parts(
    store: Arc<dyn UserStore>,
    throttle: Arc<dyn KvCache>,
    keys: SigningKeys,
    bus: Arc<dyn Bus>,
    config: &UsersConfig,
) -> UsersService {
    let verifier = Arc::new(TokenVerifier::with_keys(keys.jwks(), &config.issuer, &config.audience));
    let issuer =
        TokenIssuer::new(keys, &config.issuer, &config.audience, Duration::from_secs(config.access_token_ttl_secs));
    let settings = IdentitySettings {
        refresh_ttl: Duration::from_secs(config.refresh_token_ttl_secs),
        key_prefix: config.key_prefix.clone(),
        max_failures_per_account: config.max_failures_per_account,
        max_failures_per_ip: config.max_failures_per_ip,
        lockout: Duration::from_secs(config.lockout_secs),
    };
    let identity = Arc::new(Identity::new(store, throttle, issuer, settings, OutboxWaker::new()));
    let schema = graphql::schema(identity.clone());
    UsersService { identity, schema, verifier, bus }
}

impl UsersService {
    /// Starts the outbox relay that publishes `user.registered`; it stops when `shutdown` is
    /// cancelled. Returns its task.
    pub fn start(&self, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
        let waker = self.identity.outbox_waker().clone();
        vec![self.identity.store().spawn_relay(self.bus.clone(), waker, shutdown)]
    }

    /// The HTTP app: `/graphql`, the JWKS, health and metrics.
    pub fn app(&self) -> Router {
        let readiness = Arc::new(UsersReadiness {
            store: self.identity.store().clone(),
            throttle: self.identity.throttle().clone(),
        });
        let jwks = Arc::new(self.identity.issuer().keys().jwks().clone());
        let jwks_route = Router::new().route(
            JWKS_PATH,
            get(move || {
                let jwks = jwks.clone();
                // Verifiers cache the set; five minutes bounds how long a new key goes unseen
                // by those that do not refetch on an unknown `kid`.
                async move { ([(header::CACHE_CONTROL, "public, max-age=300")], Json(jwks)).into_response() }
            }),
        );
        shop_kernel::server::app(SERVICE, self.schema.clone(), readiness, self.verifier.clone()).merge(jwks_route)
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
