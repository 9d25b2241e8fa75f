//! Reviews tests against the real MongoDB-protocol server (`TEST_MONGODB_URL`) and the
//! embedded twin, SQLite (the SQL store also runs on PostgreSQL), in one binary:
//!
//! - `store`: the `ReviewStore` contract on every store: one review per user and product,
//!   exact aggregates (also under concurrent writers, compared with a recount), keyset pages
//!   in every sort, hiding, purchases marking reviews verified and cancellations unmarking them;
//! - `graphql`: the schema without a socket: validation, who may write what, moderation and
//!   hidden reviews, pages through the API, and `Product.rating` batched into one query;
//! - `consumer`: the purchase consumer (confirmations, deliveries, cancellations), called
//!   directly and through the in-process bus.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod consumer;
mod graphql;
mod store;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use shop_messaging::{contracts, memory::InMemoryBus};
use shop_reviews::{
    ReviewsConfig, ReviewsService,
    domain::{Position, ProductRating, Review, ReviewChange, ReviewDraft, ReviewSort},
    store::{ReviewStore, StoreError, mongo::MongoReviewStore, sql::SqlReviewStore},
};
use shop_testkit::{self as testkit, Backend, TempDir};
use uuid::Uuid;

/// A fresh, prepared store on `backend` (MongoDB, SQLite or PostgreSQL), and the guard of its
/// SQLite file if any.
pub async fn fresh_store(backend: Backend) -> (Arc<dyn ReviewStore>, Option<TempDir>) {
    let (store, guard): (Arc<dyn ReviewStore>, _) = match backend {
        Backend::Mongo => {
            let database = testkit::unique_name("shoptest");
            (
                Arc::new(
                    MongoReviewStore::connect(&testkit::mongo_url(), &database, 16).await.expect("connect to MongoDB"),
                ),
                None,
            )
        }
        sql => {
            let (url, guard) = testkit::fresh_sql_database(sql).await;
            let pool = if sql == Backend::Postgres { 20 } else { 8 };
            (Arc::new(SqlReviewStore::connect(&url, pool).await.expect("open the SQL store")), guard)
        }
    };
    store.prepare().await.expect("prepare the store");
    store.prepare().await.expect("prepare is idempotent");
    (store, guard)
}

/// A store that counts the rating queries it serves, around a real one: how the tests see
/// that `Product.rating` over many products is one query.
pub struct CountingStore {
    inner: Arc<dyn ReviewStore>,
    rating_queries: Mutex<Vec<Vec<String>>>,
}

impl CountingStore {
    /// The product ids of every `ratings_for` call so far.
    pub fn rating_queries(&self) -> Vec<Vec<String>> {
        self.rating_queries.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl ReviewStore for CountingStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        self.inner.prepare().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn insert_review(&self, review: &Review) -> Result<Review, StoreError> {
        self.inner.insert_review(review).await
    }
    async fn update_review(
        &self,
        id: Uuid,
        author: Uuid,
        change: &ReviewChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Review>, StoreError> {
        self.inner.update_review(id, author, change, now).await
    }
    async fn delete_review(&self, id: Uuid, author: Option<Uuid>) -> Result<Option<Review>, StoreError> {
        self.inner.delete_review(id, author).await
    }
    async fn set_hidden(&self, id: Uuid, hidden: bool, reason: Option<&str>) -> Result<Option<Review>, StoreError> {
        self.inner.set_hidden(id, hidden, reason).await
    }
    async fn reviews_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Review>, StoreError> {
        self.inner.reviews_by_ids(ids).await
    }
    async fn product_reviews(
        &self,
        product_id: &str,
        sort: ReviewSort,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        self.inner.product_reviews(product_id, sort, after, limit).await
    }
    async fn user_reviews(
        &self,
        user_id: Uuid,
        include_hidden: bool,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        self.inner.user_reviews(user_id, include_hidden, after, limit).await
    }
    async fn ratings_for(&self, product_ids: &[String]) -> Result<Vec<ProductRating>, StoreError> {
        self.rating_queries.lock().unwrap().push(product_ids.to_vec());
        self.inner.ratings_for(product_ids).await
    }
    async fn recount_rating(&self, product_id: &str) -> Result<ProductRating, StoreError> {
        self.inner.recount_rating(product_id).await
    }
    async fn record_purchases(&self, user_id: Uuid, order_id: &str, product_ids: &[String]) -> Result<u64, StoreError> {
        self.inner.record_purchases(user_id, order_id, product_ids).await
    }
    async fn record_cancellation(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
    ) -> Result<u64, StoreError> {
        self.inner.record_cancellation(user_id, order_id, product_ids).await
    }
    async fn has_purchased(&self, user_id: Uuid, product_id: &str) -> Result<bool, StoreError> {
        self.inner.has_purchased(user_id, product_id).await
    }
}

/// A reviews service over a fresh store and the in-process bus.
pub struct TestApp {
    pub service: ReviewsService,
    pub store: Arc<CountingStore>,
    pub bus: Arc<InMemoryBus>,
    _guard: Option<TempDir>,
}

/// A service over a fresh store of `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let (inner, guard) = fresh_store(backend).await;
    let store = Arc::new(CountingStore { inner, rating_queries: Mutex::new(Vec::new()) });
    let bus = InMemoryBus::new(contracts::topology());
    let service = ReviewsService::from_parts(store.clone(), bus.clone(), &ReviewsConfig::default());
    TestApp { service, store, bus, _guard: guard }
}

impl TestApp {
    /// Writes a review of `product` by `author` through the store; it is returned as stored.
    pub async fn review(&self, author: Uuid, product: &str, rating: i32) -> Review {
        let review = ReviewDraft::parse(product, rating, "A title", "A body")
            .unwrap()
            .into_review(author, shop_reviews::domain::now_millis());
        self.store.insert_review(&review).await.unwrap()
    }
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no coded error in {body}"))
}

/// A product id no other test uses.
pub fn product() -> String {
    Uuid::new_v4().to_string()
}
