//! The reviews subgraph: product reviews and ratings. It owns `Review`, extends the catalog's
//! `Product` with `reviews` and `rating` and the users service's `User` with `reviews`, and
//! learns who bought what from the orders service's `order.confirmed` / `order.delivered`
//! announcements (never by calling it), which make reviews verified purchases, and
//! `order.cancelled`, which takes that back.
//!
//! Each product's rating is an aggregate kept in the same transaction as every review write,
//! so reading it costs one keyed lookup, and `Product.rating` over many products is one query.
//!
//! [`ReviewsService`] is the subgraph ([`Subgraph::build`] wires it from its settings to
//! MongoDB (production) or a sea-orm database (SQLite when embedded) and the bus); tests
//! build it over a store and a bus of their own with [`ReviewsService::from_parts`].

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{Bus, BusError};
use tokio_util::sync::CancellationToken;

pub use crate::{config::ReviewsConfig, graphql::ReviewsSchema};
use crate::{
    events::PurchaseRecorder,
    service::Reviews,
    store::{ReviewStore, StoreError, mongo::MongoReviewStore, sql::SqlReviewStore},
};

/// The reviews subgraph, wired.
pub struct ReviewsService {
    /// The use cases.
    pub reviews: Arc<Reviews>,
    /// The database.
    pub store: Arc<dyn ReviewStore>,
    /// The GraphQL schema.
    pub schema: ReviewsSchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// Where purchases are consumed from.
    pub bus: Arc<dyn Bus>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or could not be prepared.
    #[error("reviews database: {0}")]
    Store(#[from] StoreError),
    /// The message broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
}

impl ReviewsService {
    /// The service over a prepared store and a bus.
    pub fn from_parts(store: Arc<dyn ReviewStore>, bus: Arc<dyn Bus>, config: &ReviewsConfig) -> Self {
        let reviews = Arc::new(Reviews::new(store.clone()));
        let schema = graphql::schema(reviews.clone());
        let verifier = Arc::new(TokenVerifier::remote(&config.auth));
        Self { reviews, store, schema, verifier, bus }
    }
}

#[async_trait::async_trait]
impl Subgraph for ReviewsService {
    const NAME: &'static str = "reviews";
    type Config = ReviewsConfig;
    type Schema = ReviewsSchema;
    type Error = StartError;

    /// Connects and prepares the store (MongoDB for `mongodb://…`, a sea-orm database
    /// otherwise) and connects the bus.
    async fn build(config: &ReviewsConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let (url, max_connections) = (config.database.url(), config.database.max_connections);
        let store: Arc<dyn ReviewStore> = if config.database.is_mongodb() {
            Arc::new(MongoReviewStore::connect(url, &config.mongo_database, max_connections).await?)
        } else {
            Arc::new(SqlReviewStore::connect(url, max_connections).await?)
        };
        store.prepare().await?;
        Ok(Self::from_parts(store, bus, config))
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> ReviewsSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.store.clone(), |store| async move { store.ping().await })
    }

    /// The consumer of `reviews.purchases`.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let handler = Arc::new(PurchaseRecorder::new(self.reviews.clone()));
        let consumer = self.bus.consume(events::consumer_spec(), handler, shutdown.clone()).await?;
        Ok(vec![tokio::spawn(consumer.join())])
    }
}
