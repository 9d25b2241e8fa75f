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

use std::{sync::Arc, time::Duration};

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    entities::{RatingLoader, ReviewLoader},
    mutation::{
        MutationRoot, ReviewCreateInput, ReviewCreatePayload, ReviewDeletePayload, ReviewHideInput, ReviewHidePayload,
        ReviewUpdateInput, ReviewUpdatePayload,
    },
    query::QueryRoot,
    types::{Product, Rating, RatingBucket, Review, User},
};
use crate::service::Reviews;

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
