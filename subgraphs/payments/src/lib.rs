//! The payments subgraph: authorizations, captures, voids and refunds through a payment
//! provider adapter. It owns `Payment`, extends the orders service's `Order` with `payment`,
//! and is the payment step of the checkout saga: it handles `payment.authorize`,
//! `payment.capture` and `payment.void` from the bus and answers through its outbox.
//!
//! The provider ([`adapters::SimulatedProvider`] built in) is always called through
//! [`adapters::ResilientProvider`]: a timeout per call, bounded retries with the same
//! idempotency key, and a circuit breaker whose state is the gauge
//! `payments_provider_breaker_open`.
//!
//! [`PaymentsService`] is the subgraph ([`Subgraph::build`] wires it from its settings to
//! PostgreSQL/SQLite, the bus and the simulated provider); tests build it over a store, a
//! bus and a provider of their own with [`PaymentsService::from_parts`].

pub mod adapters;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{
    Bus, BusError,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio_util::sync::CancellationToken;

use crate::{
    adapters::{HttpProvider, PaymentProvider, ResilientProvider, SimulatedProvider},
    events::PaymentCommands,
    service::Payments,
    store::{PaymentStore, StoreError},
};
pub use crate::{config::PaymentsConfig, graphql::PaymentsSchema};

/// The payments subgraph, wired.
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
    /// The HTTP client of the provider at `provider.url` could not be built.
    #[error("payment provider client: {0}")]
    Provider(String),
}

impl PaymentsService {
    /// The service over an open store, a bus and a provider (wrap a bare provider in
    /// [`ResilientProvider`] first: the service calls `provider` as it is).
    pub fn from_parts(
        store: Arc<PaymentStore>,
        bus: Arc<dyn Bus>,
        provider: Arc<dyn PaymentProvider>,
        config: &PaymentsConfig,
    ) -> Self {
        let waker = OutboxWaker::new();
        let longest_call = config.provider.resilience().longest_call();
        let payments = Arc::new(Payments::new(store.clone(), provider.clone(), waker.clone(), longest_call));
        let schema = graphql::schema(payments.clone());
        let verifier = Arc::new(TokenVerifier::remote(&config.auth));
        Self { store, payments, schema, verifier, bus, waker, provider }
    }
}

#[async_trait::async_trait]
impl Subgraph for PaymentsService {
    const NAME: &'static str = "payments";
    type Config = PaymentsConfig;
    type Schema = PaymentsSchema;
    type Error = StartError;

    /// Connects (and migrates) the database and connects the bus; the provider (the simulated
    /// one in this process, or the one at `provider.url`) sits behind timeouts, retries and a
    /// breaker as `config.provider` says.
    async fn build(config: &PaymentsConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let store = Arc::new(PaymentStore::connect(config.database.url(), config.database.max_connections).await?);
        let bare: Arc<dyn PaymentProvider> = match &config.provider.url {
            Some(url) => {
                // The guard's attempt timeout cuts calls first; the client's own is a backstop.
                let backstop = std::time::Duration::from_millis(config.provider.timeout_ms.saturating_mul(2));
                Arc::new(HttpProvider::new(url, backstop).map_err(|error| StartError::Provider(error.to_string()))?)
            }
            None => Arc::new(SimulatedProvider::new(config.provider.simulated())),
        };
        let provider = Arc::new(ResilientProvider::new(bare, config.provider.resilience()));
        Ok(Self::from_parts(store, bus, provider, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> PaymentsSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.store.clone(), |store| async move { store.ping().await })
    }

    /// The outbox relay and the consumer of `payments.commands`.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let relay = OutboxRelay::new(self.store.connection().clone(), self.bus.clone(), self.waker.clone());
        let relay = tokio::spawn(relay.run(shutdown.clone()));
        let handler = Arc::new(PaymentCommands::new(self.payments.clone()));
        let consumer = match self.bus.consume(events::consumer_spec(), handler, shutdown.clone()).await {
            Ok(consumer) => consumer,
            Err(error) => {
                relay.abort();
                return Err(error.into());
            }
        };
        Ok(vec![relay, tokio::spawn(consumer.join())])
    }
}
