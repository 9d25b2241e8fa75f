//! The reviews GraphQL schema: a Federation v2 subgraph that owns `Review @key(id)` and
//! extends the catalog's `Product` (with `reviews` and `rating`) and the users service's
//! `User` (with `reviews`).
//!
//! Entity batching: every `Product.rating` of one operation (a whole `_entities` batch of the
//! router, or a product list) goes through [`RatingLoader`], which asks the store once, with
//! every product id, via [`ReviewStore::ratings_for`](crate::store::ReviewStore::ratings_for).

mod entities;
mod mutation;
mod query;
mod types;

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{
    EmptySubscription, Schema, SchemaBuilder,
    dataloader::{DataLoader, Loader},
};
use uuid::Uuid;

pub use self::{
    mutation::{
        MutationRoot, ReviewCreateInput, ReviewCreatePayload, ReviewDeletePayload, ReviewHideInput, ReviewHidePayload,
        ReviewUpdateInput, ReviewUpdatePayload,
    },
    query::QueryRoot,
    types::{Product, Rating, RatingBucket, Review, User},
};
use crate::{domain, error::gql, service::Reviews};

/// The reviews subgraph schema.
pub type ReviewsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Most keys one loader batch holds; a router batch beyond it costs one more query per 500.
const MAX_BATCH: usize = 500;

/// How long the rating loader collects product ids before it queries. The loader's timer runs
/// on another worker thread, so a window shorter than one pass over an `_entities` batch
/// (a few milliseconds on a loaded host) splits the batch; 5 ms keeps a list in one query at
/// the cost of at most 5 ms per operation that reads ratings.
const RATING_BATCH_WINDOW: Duration = Duration::from_millis(5);

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `reviews`.
pub fn schema(reviews: Arc<Reviews>) -> ReviewsSchema {
    builder()
        .data(DataLoader::new(ReviewLoader(reviews.clone()), tokio::spawn).max_batch_size(MAX_BATCH))
        .data(
            DataLoader::new(RatingLoader(reviews.clone()), tokio::spawn)
                .delay(RATING_BATCH_WINDOW)
                .max_batch_size(MAX_BATCH),
        )
        .data(reviews)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}

/// Reviews by id: every `review` and `_entities` lookup of one operation is one store read.
pub struct ReviewLoader(pub Arc<Reviews>);

impl Loader<Uuid> for ReviewLoader {
    type Value = Arc<domain::Review>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let reviews = self.0.store().reviews_by_ids(keys).await.map_err(gql)?;
        Ok(reviews.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Rating aggregates by product id: every `Product.rating` of one operation is one store read.
pub struct RatingLoader(pub Arc<Reviews>);

impl Loader<String> for RatingLoader {
    type Value = domain::ProductRating;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        #[allow(clippy::cast_precision_loss)] // a batch size, far below 2^52
        metrics::histogram!("reviews_rating_batch_size").record(keys.len() as f64);
        let ratings = self.0.store().ratings_for(keys).await.map_err(gql)?;
        Ok(ratings.into_iter().map(|r| (r.product_id.clone(), r)).collect())
    }
}
