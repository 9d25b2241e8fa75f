//! The payments subgraph: authorizations, captures, voids and refunds through a payment
//! provider adapter. It owns `Payment`, extends the orders service's `Order` with `payment`,
//! and is the payment step of the checkout saga: it handles `payment.authorize`,
//! `payment.capture` and `payment.void` from the bus and answers through its outbox.
//!
//! The provider ([`provider::SimulatedProvider`] built in) is always called through
//! [`provider::ResilientProvider`]: a timeout per call, bounded retries with the same
//! idempotency key, and a circuit breaker whose state is the gauge
//! `payments_provider_breaker_open`.
//!
//! [`build`] wires configuration to PostgreSQL or SQLite and RabbitMQ; the embedded launcher
//! and tests use [`from_parts`] with a bus of their own, or [`from_store`] with a provider
//! of their own. [`PaymentsService::start`] runs the outbox relay and the command consumer.

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod provider;
pub mod service;
pub mod store;

use std::sync::Arc;

use shop_kernel::{auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::{config::PaymentsConfig, graphql::PaymentsSchema};
use crate::{
    events::PaymentCommands,
    provider::{PaymentProvider, ResilientProvider, SimulatedProvider},
    service::Payments,
    store::{PaymentStore, StoreError},
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "payments";

/// A wired payments service.
pub struct PaymentsService {
    /// The database.
    pub store: Arc<PaymentStore>,
    /// Authorize, capture, void and refund.
    pub payments: Arc<Payments>,
    /// The GraphQL schema.
    pub schema: PaymentsSchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// Where messages are published and commands consumed.
    pub bus: Arc<dyn Bus>,
    /// Wakes the outbox relay after a commit.
    pub waker: OutboxWaker,
    /// The provider, as the service calls it.
    pub provider: Arc<dyn PaymentProvider>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or could not be migrated.
    #[error("payments database: {0}")]
    Store(#[from] StoreError),
    /// The message broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
}

struct PaymentsReadiness(Arc<PaymentStore>);

#[async_trait::async_trait]
impl Readiness for PaymentsReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects (and migrates) the database and connects the bus named by `config` (RabbitMQ;
/// without `amqp_url`, a private in-process bus), and builds the service.
pub async fn build(config: &PaymentsConfig) -> Result<PaymentsService, StartError> {
    let bus =
        shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix)
            .await?;
    from_parts(&config.database_url, bus, config).await
}

/// Connects (and migrates) the database at `database_url` and builds the service over `bus`,
/// with the simulated provider behind timeouts, retries and a breaker as `config` says.
pub async fn from_parts(
    database_url: &str,
    bus: Arc<dyn Bus>,
    config: &PaymentsConfig,
) -> Result<PaymentsService, StartError> {
    let store = Arc::new(PaymentStore::connect(database_url, config.max_connections).await?);
    let simulated: Arc<dyn PaymentProvider> = Arc::new(SimulatedProvider::new(config.provider.simulated()));
    let provider = Arc::new(ResilientProvider::new(simulated, config.provider.resilience()));
    Ok(from_store(store, bus, provider, config))
}

/// Builds the service over an open store, a bus and a provider (wrap a bare provider in
/// [`ResilientProvider`] first: the service calls `provider` as it is).
pub fn from_store(
    store: Arc<PaymentStore>,
    bus: Arc<dyn Bus>,
    provider: Arc<dyn PaymentProvider>,
    config: &PaymentsConfig,
) -> PaymentsService {
    let waker = OutboxWaker::new();
    let payments = Arc::new(Payments::new(store.clone(), provider.clone(), waker.clone()));
    let schema = graphql::schema(payments.clone());
    let verifier = Arc::new(TokenVerifier::remote(&config.auth));
    PaymentsService { store, payments, schema, verifier, bus, waker, provider }
}

impl PaymentsService {
    /// Starts the outbox relay and the consumer of `payments.commands`; both stop when
    /// `shutdown` is cancelled. Returns their tasks.
    pub async fn start(&self, shutdown: CancellationToken) -> Result<Vec<JoinHandle<()>>, BusError> {
        let relay = OutboxRelay::new(self.store.connection().clone(), self.bus.clone(), self.waker.clone());
        let relay = tokio::spawn(relay.run(shutdown.clone()));
        let handler = Arc::new(PaymentCommands::new(self.payments.clone()));
        let consumer = match self.bus.consume(events::consumer_spec(), handler, shutdown).await {
            Ok(consumer) => consumer,
            Err(error) => {
                relay.abort();
                return Err(error);
            }
        };
        Ok(vec![relay, tokio::spawn(consumer.join())])
    }

    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        shop_kernel::server::app(
            SERVICE,
            self.schema.clone(),
            Arc::new(PaymentsReadiness(self.store.clone())),
            self.verifier.clone(),
        )
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
