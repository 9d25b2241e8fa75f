//! The reviews subgraph: product reviews and ratings. It owns `Review`, extends the catalog's
//! `Product` with `reviews` and `rating` and the users service's `User` with `reviews`, and
//! learns who bought what from the orders service's `order.confirmed` / `order.delivered`
//! announcements (never by calling it), which make reviews verified purchases.
//!
//! Each product's rating is an aggregate kept in the same transaction as every review write,
//! so reading it costs one keyed lookup, and `Product.rating` over many products is one query.
//!
//! [`build`] wires configuration to MongoDB (production) or a sea-orm database (SQLite when
//! embedded) and RabbitMQ; the embedded launcher and tests use [`from_parts`] with a bus of
//! their own, or [`from_store`] with a store of their own. [`ReviewsService::start`] runs the
//! purchase consumer.

pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use shop_kernel::{auth::TokenVerifier, health::Readiness};
use shop_messaging::{Bus, BusError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::{config::ReviewsConfig, graphql::ReviewsSchema};
use crate::{
    config::is_mongo_url,
    events::PurchaseRecorder,
    service::Reviews,
    store::{ReviewStore, StoreError, mongo::MongoReviewStore, sql::SqlReviewStore},
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "reviews";

/// A wired reviews service.
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

struct ReviewsReadiness(Arc<dyn ReviewStore>);

#[async_trait::async_trait]
impl Readiness for ReviewsReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects (and prepares) the database and connects the bus named by `config` (RabbitMQ;
/// without `amqp_url`, a private in-process bus), and builds the service.
pub async fn build(config: &ReviewsConfig) -> Result<ReviewsService, StartError> {
    let bus =
        shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix)
            .await?;
    from_parts(&config.database_url, bus, config).await
}

/// Connects the store named by `database_url` (MongoDB for `mongodb://…`, database
/// `config.mongo_database`; a sea-orm database otherwise), creates its collections or tables
/// and indexes, and builds the service over `bus`.
pub async fn from_parts(
    database_url: &str,
    bus: Arc<dyn Bus>,
    config: &ReviewsConfig,
) -> Result<ReviewsService, StartError> {
    let store: Arc<dyn ReviewStore> = if is_mongo_url(database_url) {
        Arc::new(MongoReviewStore::connect(database_url, &config.mongo_database, config.max_connections).await?)
    } else {
        Arc::new(SqlReviewStore::connect(database_url, config.max_connections).await?)
    };
    store.prepare().await?;
    Ok(from_store(store, bus, config))
}

/// Builds the service over a prepared store and a bus.
pub fn from_store(store: Arc<dyn ReviewStore>, bus: Arc<dyn Bus>, config: &ReviewsConfig) -> ReviewsService {
    let reviews = Arc::new(Reviews::new(store.clone()));
    let schema = graphql::schema(reviews.clone());
    let verifier = Arc::new(TokenVerifier::remote(&config.auth));
    ReviewsService { reviews, store, schema, verifier, bus }
}

impl ReviewsService {
    /// Starts the consumer of `reviews.purchases`; it stops when `shutdown` is cancelled.
    /// Returns its task.
    pub async fn start(&self, shutdown: CancellationToken) -> Result<Vec<JoinHandle<()>>, BusError> {
        let handler = Arc::new(PurchaseRecorder::new(self.reviews.clone()));
        let consumer = self.bus.consume(events::consumer_spec(), handler, shutdown).await?;
        Ok(vec![tokio::spawn(consumer.join())])
    }

    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        shop_kernel::server::app(
            SERVICE,
            self.schema.clone(),
            Arc::new(ReviewsReadiness(self.store.clone())),
            self.verifier.clone(),
        )
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
