//! Where reviews, rating aggregates and purchases live: a trait in domain terms and two
//! adapters, [`mongo::MongoReviewStore`] (production) and [`sql::SqlReviewStore`] (sea-orm on
//! SQLite, the embedded twin; it runs on PostgreSQL too). Both pass the same contract tests
//! (`tests/api/store.rs`).
//!
//! Invariants every adapter keeps:
//! - one review per (product, user), by a unique index (a hidden review still holds it);
//! - a product's aggregate equals a recount of its visible reviews: every write that changes a
//!   review's counted rating applies the [`RatingDelta`](crate::domain::RatingDelta) in the
//!   same transaction, computed from the review as that transaction changed it (never from an
//!   earlier read), so concurrent writers cannot lose an update;
//! - a review is a verified purchase exactly while its author has a standing (recorded, not
//!   cancelled) order of the product, whichever of review, purchase and cancellation is
//!   written first (see [`ReviewStore::record_purchases`], [`ReviewStore::record_cancellation`]).

pub mod mongo;
pub mod sql;

/// What an order announcement says about the order's purchases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderState {
    /// Confirmed or delivered: its products count as bought unless it is cancelled.
    Standing,
    /// Cancelled: final, whatever arrives after it.
    Cancelled,
}

use chrono::{DateTime, Utc};
use shop_kernel::store::StoreFailure;
use uuid::Uuid;

use crate::domain::{Position, ProductRating, Review, ReviewChange, ReviewSort};

shop_kernel::coded_error! {
    /// Why a store operation failed.
    #[derive(Debug, Clone, thiserror::Error)]
    pub enum StoreError {
        /// The user already reviewed this product.
        #[error("the user already reviewed this product")]
        AlreadyReviewed => Internal,
        /// The store itself failed.
        #[error(transparent)]
        Failure(#[from] StoreFailure) => inner,
    }
}

/// Reviews, rating aggregates and purchases, in domain terms.
#[async_trait::async_trait]
pub trait ReviewStore: Send + Sync + 'static {
    /// Creates collections/tables and indexes if missing (idempotent).
    async fn prepare(&self) -> Result<(), StoreError>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new review and counts it in its product's rating, in one transaction;
    /// `verified_purchase` is set from the recorded purchases. [`StoreError::AlreadyReviewed`]
    /// (nothing written) if its author already reviewed the product. Returns it as stored.
    async fn insert_review(&self, review: &Review) -> Result<Review, StoreError>;
    /// Applies `change` at `now` to review `id` if `author` wrote it, adjusting the rating in
    /// the same transaction. `None` (nothing written) if there is no such review by `author`.
    async fn update_review(
        &self,
        id: Uuid,
        author: Uuid,
        change: &ReviewChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Review>, StoreError>;
    /// Deletes review `id` (only if `author` wrote it, when given) and uncounts it. The
    /// deleted review, or `None` if there was none to delete.
    async fn delete_review(&self, id: Uuid, author: Option<Uuid>) -> Result<Option<Review>, StoreError>;
    /// Hides (with `reason`) or shows review `id`, adjusting the rating in the same
    /// transaction. The review afterwards, or `None` if there is none.
    async fn set_hidden(&self, id: Uuid, hidden: bool, reason: Option<&str>) -> Result<Option<Review>, StoreError>;

    /// The reviews with these ids that exist, hidden ones included, in any order.
    async fn reviews_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Review>, StoreError>;
    /// Up to `limit` visible reviews of `product_id` in `sort` order, after `after`.
    async fn product_reviews(
        &self,
        product_id: &str,
        sort: ReviewSort,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError>;
    /// Up to `limit` reviews by `user_id`, newest first, after `after`; hidden ones only
    /// with `include_hidden`.
    async fn user_reviews(
        &self,
        user_id: Uuid,
        include_hidden: bool,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError>;

    /// The kept aggregates of these products, in ONE query whatever their number (this is
    /// what `Product.rating` batches into); products without one have no reviews.
    async fn ratings_for(&self, product_ids: &[String]) -> Result<Vec<ProductRating>, StoreError>;
    /// The aggregate of `product_id` counted from its visible reviews one by one: a full
    /// scan, for audits and tests, never for serving.
    async fn recount_rating(&self, product_id: &str) -> Result<ProductRating, StoreError>;

    /// Records that `user_id` bought `product_ids` in order `order_id` (confirmed or
    /// delivered) and marks that user's existing reviews of them verified, in one transaction.
    /// Idempotent: recording the order again changes nothing, and an order already recorded
    /// cancelled stays cancelled (the cancellation may have arrived first). Returns how many
    /// reviews became verified.
    ///
    /// A purchase recorded concurrently with the review's creation is never missed: both
    /// writes touch the same (user, product) purchase record, so one transaction waits for
    /// (or, on MongoDB, conflicts with and retries after) the other and then sees it.
    async fn record_purchases(&self, user_id: Uuid, order_id: &str, product_ids: &[String]) -> Result<u64, StoreError>;
    /// Records that order `order_id` of `user_id`, which contained `product_ids`, was
    /// cancelled, and unmarks that user's reviews of the products no other standing order of
    /// theirs contains, in one transaction (serialized with review creation like
    /// [`ReviewStore::record_purchases`]). Final and idempotent: a cancelled order never
    /// stands again, whether its confirmation arrives before or after this, or again.
    /// Returns how many reviews stopped being verified.
    async fn record_cancellation(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
    ) -> Result<u64, StoreError>;
    /// Whether `user_id` bought `product_id`: at least one of their orders containing it
    /// stands (was recorded and not cancelled).
    async fn has_purchased(&self, user_id: Uuid, product_id: &str) -> Result<bool, StoreError>;
}
