//! The review use cases: who may write what, on top of the store.

use std::sync::Arc;

use shop_kernel::auth::Principal;
use uuid::Uuid;

use crate::{
    domain::{InvalidField, Review, ReviewChange, ReviewDraft, now_millis},
    store::{ReviewStore, StoreError},
};

/// Why a review write did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The input breaks these rules (nothing was written).
    #[error("the input is invalid")]
    Invalid(Vec<InvalidField>),
    /// The user already reviewed this product (one review per user and product).
    #[error("you already reviewed this product")]
    AlreadyReviewed,
    /// No review has this id (or the caller may not see it).
    #[error("no such review")]
    NotFound,
    /// The caller may not change this review.
    #[error("only the author may change this review")]
    Forbidden,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::AlreadyReviewed => Self::AlreadyReviewed,
            other => Self::Store(other),
        }
    }
}

/// The reviews service.
pub struct Reviews {
    store: Arc<dyn ReviewStore>,
}

impl Reviews {
    /// The service over `store`.
    pub fn new(store: Arc<dyn ReviewStore>) -> Self {
        Self { store }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ReviewStore> {
        &self.store
    }

    /// Review `id` if `viewer` may see it.
    async fn visible(&self, id: Uuid, viewer: &Principal) -> Result<Review, WriteError> {
        let review = self.store.reviews_by_ids(&[id]).await?.into_iter().next();
        review.filter(|r| r.visible_to(Some(viewer))).ok_or(WriteError::NotFound)
    }

    /// `author` reviews a product; it is a verified purchase if they bought it.
    pub async fn create(&self, author: &Principal, draft: ReviewDraft) -> Result<Review, WriteError> {
        let review = draft.into_review(author.user_id, now_millis());
        let stored = self.store.insert_review(&review).await?;
        metrics::counter!("reviews_writes_total", "op" => "create").increment(1);
        Ok(stored)
    }

    /// The author edits their review (admins moderate with [`Reviews::set_hidden`] instead of
    /// rewriting other people's words).
    pub async fn update(&self, caller: &Principal, id: Uuid, change: &ReviewChange) -> Result<Review, WriteError> {
        let current = self.visible(id, caller).await?;
        if current.user_id != caller.user_id {
            return Err(WriteError::Forbidden);
        }
        if change.is_empty() {
            return Ok(current);
        }
        // Deleted between the read and the write: as if it never was.
        let updated =
            self.store.update_review(id, caller.user_id, change, now_millis()).await?.ok_or(WriteError::NotFound)?;
        metrics::counter!("reviews_writes_total", "op" => "update").increment(1);
        Ok(updated)
    }

    /// The author or an admin deletes a review; the author may then review the product again.
    pub async fn delete(&self, caller: &Principal, id: Uuid) -> Result<Review, WriteError> {
        let current = self.visible(id, caller).await?;
        if !caller.may_access(current.user_id) {
            return Err(WriteError::Forbidden);
        }
        let author = (!caller.is_admin()).then_some(caller.user_id);
        let deleted = self.store.delete_review(id, author).await?.ok_or(WriteError::NotFound)?;
        metrics::counter!("reviews_writes_total", "op" => "delete").increment(1);
        Ok(deleted)
    }

    /// Hides a review (with a reason) or shows it again: admins only, checked by the caller.
    pub async fn set_hidden(&self, id: Uuid, hidden: bool, reason: Option<&str>) -> Result<Review, WriteError> {
        let review = self.store.set_hidden(id, hidden, reason).await?.ok_or(WriteError::NotFound)?;
        metrics::counter!("reviews_writes_total", "op" => if hidden { "hide" } else { "unhide" }).increment(1);
        Ok(review)
    }

    /// Records that `user_id` bought `product_ids` in order `order_id`; their reviews of them
    /// become verified (unless that order was already cancelled). Returns how many did.
    pub async fn record_purchases(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
    ) -> Result<u64, StoreError> {
        let verified = self.store.record_purchases(user_id, order_id, product_ids).await?;
        metrics::counter!("reviews_purchases_recorded_total").increment(1);
        metrics::counter!("reviews_verified_by_purchase_total").increment(verified);
        Ok(verified)
    }

    /// Records that order `order_id` of `user_id`, with `product_ids`, was cancelled; their
    /// reviews of products no other standing order of theirs contains stop being verified.
    /// Returns how many did.
    pub async fn record_cancellation(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
    ) -> Result<u64, StoreError> {
        let unverified = self.store.record_cancellation(user_id, order_id, product_ids).await?;
        metrics::counter!("reviews_cancellations_recorded_total").increment(1);
        metrics::counter!("reviews_unverified_by_cancellation_total").increment(unverified);
        Ok(unverified)
    }
}
