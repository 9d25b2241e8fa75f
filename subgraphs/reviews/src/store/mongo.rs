//! The production review store on MongoDB.
//!
//! Collections:
//! - `reviews`: one document per review, `_id` = its id, times as integer milliseconds; a
//!   unique index on `(product_id, user_id)` and one index per list ordering;
//! - `product_ratings`: one aggregate per product, `_id` = the product id, with `count`, `sum`
//!   and `stars_1` … `stars_5`, changed only with `$inc`;
//! - `purchases`: one document per (user, product) pair that was bought or reviewed, `_id` =
//!   `<user id>:<product id>` (user ids are UUIDs, so the split is unambiguous), with a
//!   `version` every writer bumps, the ids of the pair's orders in `standing_orders` and
//!   `cancelled_orders` (cancelled is final: an order in it never stands again), and
//!   `purchased`, recomputed from them (some order stands) by every purchase write in the
//!   transaction that verifies or unverifies the user's review of the product.
//!
//! The aggregate and purchase documents a write needs are created (at zero, unpurchased)
//! before its transaction, so inside transactions they are only updated; no upsert runs in a
//! transaction, where two concurrent upserts of one missing document fail with a duplicate
//! key that is not retried.
//!
//! Every write is a multi-document transaction run by the driver's helper
//! (`start_transaction().and_run`), which retries the whole callback on
//! `TransientTransactionError` (e.g. a write conflict with a concurrent transaction) and the
//! commit on `UnknownTransactionCommitResult`. The review is changed with one atomic
//! `find_one_and_update`/`find_one_and_delete` returning the document as it was, and the
//! aggregate delta is computed from that document, so it is exact however writers interleave.

use chrono::{DateTime, Utc};
use futures::{FutureExt, TryStreamExt, future::BoxFuture};
use mongodb::{
    Client, ClientSession, Collection,
    bson::{Bson, Document, doc},
    options::ReturnDocument,
};
use shop_kernel::store::StoreFailure;
use uuid::Uuid;

use super::{OrderState, ReviewStore, StoreError};
use crate::domain::{
    Direction, Position, ProductRating, RatingDelta, Review, ReviewChange, ReviewSort, SortField, Stars,
};

/// The reviews of one database.
#[derive(Clone)]
struct Collections {
    reviews: Collection<Document>,
    ratings: Collection<Document>,
    purchases: Collection<Document>,
}

/// MongoDB collections of the reviews subgraph.
#[derive(Clone)]
pub struct MongoReviewStore {
    client: Client,
    database: mongodb::Database,
    collections: Collections,
}

const REVIEWS: &str = "reviews";
const RATINGS: &str = "product_ratings";
const PURCHASES: &str = "purchases";

fn classify(error: &mongodb::error::Error) -> StoreError {
    shop_mongo::failure(error).into()
}

fn read_error(error: mongodb::error::Error) -> StoreError {
    classify(&error)
}

/// What a transaction's failure means: a [`StoreError`] the callback raised itself (such as
/// a taken (product, user) pair), or a database failure.
fn transaction_error(error: mongodb::error::Error) -> StoreError {
    match error.get_custom::<StoreError>() {
        Some(raised) => raised.clone(),
        None => classify(&error),
    }
}

/// A [`StoreError`] raised inside a transaction callback, whose errors are the driver's.
fn raise(error: StoreError) -> mongodb::error::Error {
    mongodb::error::Error::custom(error)
}

/// Adds `delta` to an aggregate that exists (see [`MongoReviewStore::ensure`]).
async fn apply_delta(
    ratings: &Collection<Document>,
    session: &mut ClientSession,
    product_id: &str,
    delta: &RatingDelta,
) -> mongodb::error::Result<()> {
    if delta.is_zero() {
        return Ok(());
    }
    let updated = ratings.update_one(doc! { "_id": product_id }, increment(delta)).session(session).await?;
    if updated.matched_count == 1 {
        Ok(())
    } else {
        Err(raise(corrupt(format_args!("the rating aggregate of product {product_id} is missing"))))
    }
}

fn corrupt(message: impl std::fmt::Display) -> StoreError {
    StoreFailure::Corrupt(format!("malformed review data: {message}")).into()
}

/// A counter of an aggregate: absent means zero (`$inc` creates fields on first use).
fn counter_of(document: &Document, key: &str) -> Result<i64, StoreError> {
    if document.contains_key(key) { Ok(shop_mongo::int(document, key)?) } else { Ok(0) }
}

fn review_document(review: &Review) -> Document {
    doc! {
        "_id": review.id.to_string(),
        "product_id": review.product_id.as_str(),
        "user_id": review.user_id.to_string(),
        "rating": review.rating.as_i32(),
        "title": review.title.as_str(),
        "body": review.body.as_str(),
        "created_at_ms": review.created_at.timestamp_millis(),
        "updated_at_ms": review.updated_at.timestamp_millis(),
        "verified_purchase": review.verified_purchase,
        "hidden": review.hidden,
        "hidden_reason": review.hidden_reason.clone(),
        "version": review.version,
    }
}

fn review_from(document: &Document) -> Result<Review, StoreError> {
    let rating = i32::try_from(shop_mongo::int(document, "rating")?).map_err(corrupt)?;
    Ok(Review {
        id: shop_mongo::uuid(document, "_id")?,
        product_id: shop_mongo::string(document, "product_id")?.to_owned(),
        user_id: shop_mongo::uuid(document, "user_id")?,
        rating: Stars::new(rating).map_err(corrupt)?,
        title: shop_mongo::string(document, "title")?.to_owned(),
        body: shop_mongo::string(document, "body")?.to_owned(),
        created_at: shop_mongo::time(document, "created_at_ms")?,
        updated_at: shop_mongo::time(document, "updated_at_ms")?,
        verified_purchase: shop_mongo::boolean(document, "verified_purchase")?,
        hidden: shop_mongo::boolean(document, "hidden")?,
        hidden_reason: match document.get("hidden_reason") {
            Some(Bson::String(reason)) => Some(reason.clone()),
            _ => None,
        },
        version: shop_mongo::int(document, "version")?,
    })
}

/// [`review_from`] inside a transaction callback.
fn review_in_transaction(document: &Document) -> mongodb::error::Result<Review> {
    review_from(document).map_err(raise)
}

fn star_field(index: usize) -> String {
    format!("stars_{}", index + 1)
}

fn rating_from(document: &Document) -> Result<ProductRating, StoreError> {
    let mut rating = ProductRating::empty(shop_mongo::string(document, "_id")?);
    rating.count = counter_of(document, "count")?;
    rating.sum = counter_of(document, "sum")?;
    for (index, bucket) in rating.stars.iter_mut().enumerate() {
        *bucket = counter_of(document, &star_field(index))?;
    }
    Ok(rating)
}

/// The `$inc` update that applies `delta` to an aggregate.
fn increment(delta: &RatingDelta) -> Document {
    let mut inc = doc! { "count": delta.count, "sum": delta.sum };
    for (index, change) in delta.stars.iter().enumerate() {
        inc.insert(star_field(index), *change);
    }
    doc! { "$inc": inc }
}

/// The purchase record of a (user, product) pair.
fn pair_key(user_id: Uuid, product_id: &str) -> String {
    format!("{user_id}:{product_id}")
}

/// The order ids in array `key` of a purchase record (absent: none, as in legacy records).
fn order_ids(record: &Document, key: &str) -> Result<Vec<String>, StoreError> {
    match record.get(key) {
        None => Ok(Vec::new()),
        Some(Bson::Array(ids)) => ids
            .iter()
            .map(|id| {
                id.as_str().map(str::to_owned).ok_or_else(|| corrupt(format_args!("a non-string order id in {key}")))
            })
            .collect(),
        Some(other) => Err(corrupt(format_args!("{key} is not an array: {other}"))),
    }
}

/// Records order `order_id` of the pair (user, `product_id`) in `state` under the pair's
/// record, recomputes whether the pair is purchased (some order of it stands) and sets the
/// user's review of the product verified accordingly. Returns how many reviews changed.
///
/// Converges whatever the order and number of deliveries: an order joins `standing_orders`
/// only if it is in neither list, and a cancellation moves it (or, arriving first, adds it)
/// to `cancelled_orders`, which a later confirmation cannot undo.
async fn record_pair_order(
    c: &Collections,
    session: &mut ClientSession,
    user_id: Uuid,
    product_id: &str,
    order_id: &str,
    state: OrderState,
) -> mongodb::error::Result<u64> {
    let key = pair_key(user_id, product_id);
    // Writing the record first makes a concurrent writer of the pair (a review creation, or
    // another order) conflict with this transaction, so neither misses the other.
    let record = c
        .purchases
        .find_one_and_update(doc! { "_id": key.as_str() }, doc! { "$inc": { "version": 1_i64 } })
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .ok_or_else(|| raise(corrupt(format_args!("the purchase record {key} is missing"))))?;
    let mut standing = order_ids(&record, "standing_orders").map_err(raise)?;
    let mut cancelled = order_ids(&record, "cancelled_orders").map_err(raise)?;
    let known = |ids: &[String]| ids.iter().any(|id| id == order_id);
    match state {
        OrderState::Standing if !known(&standing) && !known(&cancelled) => standing.push(order_id.to_owned()),
        OrderState::Standing => {}
        OrderState::Cancelled => {
            standing.retain(|id| id != order_id);
            if !known(&cancelled) {
                cancelled.push(order_id.to_owned());
            }
        }
    }
    // Legacy records (flag set before order ids were kept) stay purchased until an order of theirs is recorded.
    let purchased = !standing.is_empty();
    let set = doc! { "standing_orders": standing, "cancelled_orders": cancelled, "purchased": purchased };
    c.purchases.update_one(doc! { "_id": key.as_str() }, doc! { "$set": set }).session(&mut *session).await?;
    let out_of_line =
        doc! { "product_id": product_id, "user_id": user_id.to_string(), "verified_purchase": !purchased };
    let changed = c
        .reviews
        .update_one(out_of_line, doc! { "$set": { "verified_purchase": purchased }, "$inc": { "version": 1_i64 } })
        .session(&mut *session)
        .await?;
    Ok(changed.modified_count)
}

fn field_name(field: SortField) -> &'static str {
    match field {
        SortField::Rating => "rating",
        SortField::CreatedAt => "created_at_ms",
        SortField::Id => "_id",
    }
}

fn value_at(position: &Position, field: SortField) -> Bson {
    match field {
        SortField::Rating => Bson::Int32(position.rating),
        SortField::CreatedAt => Bson::Int64(position.created_at_ms),
        SortField::Id => Bson::String(position.id.clone()),
    }
}

/// The documents strictly after `position` in the ordering `keys`: equal on the leading
/// columns and past it on the next one, for each column in turn.
fn after_filter(keys: &[(SortField, Direction)], position: &Position) -> Document {
    let branches: Vec<Bson> = (0..keys.len())
        .map(|index| {
            let mut branch = Document::new();
            for (position_index, (field, direction)) in keys.iter().enumerate().take(index + 1) {
                let value = value_at(position, *field);
                if position_index < index {
                    branch.insert(field_name(*field), value);
                } else {
                    let operator = match direction {
                        Direction::Ascending => "$gt",
                        Direction::Descending => "$lt",
                    };
                    branch.insert(field_name(*field), doc! { operator: value });
                }
            }
            Bson::Document(branch)
        })
        .collect();
    doc! { "$or": branches }
}

fn sort_document(keys: &[(SortField, Direction)]) -> Document {
    let mut sort = Document::new();
    for (field, direction) in keys {
        sort.insert(field_name(*field), if *direction == Direction::Ascending { 1 } else { -1 });
    }
    sort
}

impl MongoReviewStore {
    /// Connects to `url` (a pool of up to `max_connections`) and uses database `database`.
    pub async fn connect(url: &str, database: &str, max_connections: u32) -> Result<Self, StoreError> {
        let (client, database) = shop_mongo::connect(url, database, max_connections).await?;
        let collections = Collections {
            reviews: database.collection(REVIEWS),
            ratings: database.collection(RATINGS),
            purchases: database.collection(PURCHASES),
        };
        Ok(Self { client, database, collections })
    }

    /// Runs `callback` in a transaction with `context`, retried by the driver on transient
    /// transaction errors (a write conflict with a concurrent transaction). The callback gets
    /// its data through `context` because the driver may run it several times.
    async fn transaction<C, R, F>(&self, context: C, mut callback: F) -> Result<R, StoreError>
    where
        C: Clone,
        F: for<'b> FnMut(&'b mut ClientSession, &'b mut C) -> BoxFuture<'b, mongodb::error::Result<R>>,
    {
        let mut session = self.client.start_session().await.map_err(read_error)?;
        session.start_transaction().and_run(context, &mut callback).await.map_err(transaction_error)
    }

    /// Creates document `id` of `collection` with `fields` unless it exists, outside any
    /// transaction. Transactions then only update the aggregate and purchase documents:
    /// concurrent upserts of one missing document inside transactions can fail with a
    /// duplicate key that the driver does not retry, whereas here a duplicate key just means
    /// a concurrent writer created it first.
    async fn ensure(collection: &Collection<Document>, id: &str, fields: Document) -> Result<(), StoreError> {
        match collection.update_one(doc! { "_id": id }, doc! { "$setOnInsert": fields }).upsert(true).await {
            Ok(_) => Ok(()),
            Err(error) if shop_mongo::is_duplicate_key(&error) => Ok(()),
            Err(error) => Err(classify(&error)),
        }
    }

    /// Makes sure the aggregate of `product_id` exists (at zero when new).
    async fn ensure_rating(&self, product_id: &str) -> Result<(), StoreError> {
        let mut zero = doc! { "count": 0_i64, "sum": 0_i64 };
        for index in 0..5 {
            zero.insert(star_field(index), 0_i64);
        }
        Self::ensure(&self.collections.ratings, product_id, zero).await
    }

    /// Makes sure the purchase record of the pair exists (not purchased when new).
    async fn ensure_pair(&self, user_id: Uuid, product_id: &str) -> Result<(), StoreError> {
        let fields =
            doc! { "user_id": user_id.to_string(), "product_id": product_id, "purchased": false, "version": 0_i64 };
        Self::ensure(&self.collections.purchases, &pair_key(user_id, product_id), fields).await
    }

    /// [`record_pair_order`] for each of the order's products, in one transaction. Returns
    /// how many reviews changed.
    async fn record_order(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
        state: OrderState,
    ) -> Result<u64, StoreError> {
        let mut products: Vec<String> = product_ids.iter().filter(|p| !p.is_empty()).cloned().collect();
        products.sort();
        products.dedup();
        if products.is_empty() {
            return Ok(0);
        }
        for product_id in &products {
            self.ensure_pair(user_id, product_id).await?;
        }
        let context = (self.collections.clone(), products, order_id.to_owned());
        self.transaction(context, move |session, (c, products, order_id)| {
            async move {
                let mut changed = 0;
                for product_id in products.iter() {
                    changed += record_pair_order(c, session, user_id, product_id, order_id, state).await?;
                }
                Ok(changed)
            }
            .boxed()
        })
        .await
    }

    async fn find_reviews(&self, filter: Document, sort: Document, limit: u64) -> Result<Vec<Review>, StoreError> {
        // A limit of 0 means "no limit" to MongoDB.
        if limit == 0 {
            return Ok(Vec::new());
        }
        let documents: Vec<Document> = self
            .collections
            .reviews
            .find(filter)
            .sort(sort)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(read_error)?
            .try_collect()
            .await
            .map_err(read_error)?;
        documents.iter().map(review_from).collect()
    }
}

#[async_trait::async_trait]
impl ReviewStore for MongoReviewStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        // Collections must exist before a transaction writes to them (MongoDB before 4.4).
        let existing = self.database.list_collection_names().await.map_err(read_error)?;
        for name in [REVIEWS, RATINGS, PURCHASES] {
            if existing.iter().any(|e| e == name) {
                continue;
            }
            if let Err(error) = self.database.create_collection(name).await {
                // Another replica may have created it meanwhile (NamespaceExists).
                if !shop_mongo::is_namespace_exists(&error) {
                    return Err(read_error(error));
                }
            }
        }
        let index = shop_mongo::index;
        let indexes = [
            index(doc! { "product_id": 1, "user_id": 1 }, "one_review_per_user_and_product", true),
            index(doc! { "product_id": 1, "hidden": 1, "created_at_ms": -1, "_id": -1 }, "product_by_time", false),
            index(
                doc! { "product_id": 1, "hidden": 1, "rating": -1, "created_at_ms": -1, "_id": -1 },
                "product_by_rating",
                false,
            ),
            index(doc! { "user_id": 1, "created_at_ms": -1, "_id": -1 }, "user_by_time", false),
        ];
        self.collections.reviews.create_indexes(indexes).await.map_err(read_error)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.database.run_command(doc! { "ping": 1 }).await.map_err(read_error)?;
        Ok(())
    }

    async fn insert_review(&self, review: &Review) -> Result<Review, StoreError> {
        self.ensure_rating(&review.product_id).await?;
        self.ensure_pair(review.user_id, &review.product_id).await?;
        let context = (
            self.collections.clone(),
            review_document(review),
            pair_key(review.user_id, &review.product_id),
            review.product_id.clone(),
            RatingDelta::between(None, review.counted_rating()),
        );
        let verified = self
            .transaction(context, |session, (c, document, pair, product_id, delta)| {
                async move {
                    // Writing the pair's purchase record makes a concurrent purchase of the
                    // same pair conflict with this transaction, so neither misses the other.
                    let record = c
                        .purchases
                        .find_one_and_update(doc! { "_id": pair.as_str() }, doc! { "$inc": { "version": 1_i64 } })
                        .return_document(ReturnDocument::After)
                        .session(&mut *session)
                        .await?;
                    let verified = record.is_some_and(|r| r.get_bool("purchased").unwrap_or(false));
                    let mut document = document.clone();
                    document.insert("verified_purchase", verified);
                    if let Err(error) = c.reviews.insert_one(document).session(&mut *session).await {
                        // A write conflict stays the driver's to retry; the retry then finds
                        // the committed review and lands here with a duplicate key.
                        return Err(if shop_mongo::is_duplicate_key(&error) {
                            raise(StoreError::AlreadyReviewed)
                        } else {
                            error
                        });
                    }
                    apply_delta(&c.ratings, session, product_id, delta).await?;
                    Ok(verified)
                }
                .boxed()
            })
            .await?;
        Ok(Review { verified_purchase: verified, ..review.clone() })
    }

    async fn update_review(
        &self,
        id: Uuid,
        author: Uuid,
        change: &ReviewChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Review>, StoreError> {
        let mut set = doc! { "updated_at_ms": now.timestamp_millis() };
        if let Some(rating) = change.rating {
            set.insert("rating", rating.as_i32());
        }
        if let Some(title) = &change.title {
            set.insert("title", title.as_str());
        }
        if let Some(body) = &change.body {
            set.insert("body", body.as_str());
        }
        let update = doc! { "$set": set, "$inc": { "version": 1_i64 } };
        let filter = doc! { "_id": id.to_string(), "user_id": author.to_string() };
        let context = (self.collections.clone(), filter, update, change.clone());
        self.transaction(context, move |session, (c, filter, update, change)| {
            async move {
                let before = c
                    .reviews
                    .find_one_and_update(filter.clone(), update.clone())
                    .return_document(ReturnDocument::Before)
                    .session(&mut *session)
                    .await?;
                let Some(before) = before else { return Ok(None) };
                let before = review_in_transaction(&before)?;
                let after = change.apply(&before, now);
                let delta = RatingDelta::between(before.counted_rating(), after.counted_rating());
                apply_delta(&c.ratings, session, &after.product_id, &delta).await?;
                Ok(Some(after))
            }
            .boxed()
        })
        .await
    }

    async fn delete_review(&self, id: Uuid, author: Option<Uuid>) -> Result<Option<Review>, StoreError> {
        let mut filter = doc! { "_id": id.to_string() };
        if let Some(author) = author {
            filter.insert("user_id", author.to_string());
        }
        self.transaction((self.collections.clone(), filter), |session, (c, filter)| {
            async move {
                let Some(before) = c.reviews.find_one_and_delete(filter.clone()).session(&mut *session).await? else {
                    return Ok(None);
                };
                let before = review_in_transaction(&before)?;
                let delta = RatingDelta::between(before.counted_rating(), None);
                apply_delta(&c.ratings, session, &before.product_id, &delta).await?;
                Ok(Some(before))
            }
            .boxed()
        })
        .await
    }

    async fn set_hidden(&self, id: Uuid, hidden: bool, reason: Option<&str>) -> Result<Option<Review>, StoreError> {
        let reason = if hidden { reason.map(str::to_owned) } else { None };
        let update =
            doc! { "$set": { "hidden": hidden, "hidden_reason": reason.clone() }, "$inc": { "version": 1_i64 } };
        let context = (self.collections.clone(), id.to_string(), update, reason);
        self.transaction(context, move |session, (c, id, update, reason)| {
            async move {
                let before = c
                    .reviews
                    .find_one_and_update(doc! { "_id": id.as_str() }, update.clone())
                    .return_document(ReturnDocument::Before)
                    .session(&mut *session)
                    .await?;
                let Some(before) = before else { return Ok(None) };
                let before = review_in_transaction(&before)?;
                let after =
                    Review { hidden, hidden_reason: reason.clone(), version: before.version + 1, ..before.clone() };
                let delta = RatingDelta::between(before.counted_rating(), after.counted_rating());
                apply_delta(&c.ratings, session, &after.product_id, &delta).await?;
                Ok(Some(after))
            }
            .boxed()
        })
        .await
    }

    async fn reviews_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Review>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let limit = u64::try_from(ids.len()).unwrap_or(u64::MAX);
        self.find_reviews(doc! { "_id": { "$in": ids } }, doc! { "_id": 1 }, limit).await
    }

    async fn product_reviews(
        &self,
        product_id: &str,
        sort: ReviewSort,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        let mut filter = doc! { "product_id": product_id, "hidden": false };
        if let Some(position) = after {
            filter.extend(after_filter(sort.keys(), position));
        }
        self.find_reviews(filter, sort_document(sort.keys()), limit).await
    }

    async fn user_reviews(
        &self,
        user_id: Uuid,
        include_hidden: bool,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        let keys = ReviewSort::Newest.keys();
        let mut filter = doc! { "user_id": user_id.to_string() };
        if !include_hidden {
            filter.insert("hidden", false);
        }
        if let Some(position) = after {
            filter.extend(after_filter(keys, position));
        }
        self.find_reviews(filter, sort_document(keys), limit).await
    }

    async fn ratings_for(&self, product_ids: &[String]) -> Result<Vec<ProductRating>, StoreError> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let documents: Vec<Document> = self
            .collections
            .ratings
            .find(doc! { "_id": { "$in": product_ids } })
            .await
            .map_err(read_error)?
            .try_collect()
            .await
            .map_err(read_error)?;
        documents.iter().map(rating_from).collect()
    }

    async fn recount_rating(&self, product_id: &str) -> Result<ProductRating, StoreError> {
        let documents: Vec<Document> = self
            .collections
            .reviews
            .find(doc! { "product_id": product_id, "hidden": false })
            .projection(doc! { "rating": 1 })
            .await
            .map_err(read_error)?
            .try_collect()
            .await
            .map_err(read_error)?;
        let ratings = documents
            .iter()
            .map(|d| {
                let rating = shop_mongo::int(d, "rating")?;
                Stars::new(i32::try_from(rating).map_err(corrupt)?).map_err(corrupt)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ProductRating::recount(product_id, ratings))
    }

    async fn record_purchases(&self, user_id: Uuid, order_id: &str, product_ids: &[String]) -> Result<u64, StoreError> {
        self.record_order(user_id, order_id, product_ids, OrderState::Standing).await
    }

    async fn record_cancellation(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
    ) -> Result<u64, StoreError> {
        self.record_order(user_id, order_id, product_ids, OrderState::Cancelled).await
    }

    async fn has_purchased(&self, user_id: Uuid, product_id: &str) -> Result<bool, StoreError> {
        let found = self
            .collections
            .purchases
            .find_one(doc! { "_id": pair_key(user_id, product_id), "purchased": true })
            .await
            .map_err(read_error)?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyset_filters_compare_column_by_column() {
        let position = Position { rating: 4, created_at_ms: 10, id: "b".into() };
        let filter = after_filter(ReviewSort::LowestRating.keys(), &position);
        let expected = doc! { "$or": [
            { "rating": { "$gt": 4 } },
            { "rating": 4, "created_at_ms": { "$lt": 10_i64 } },
            { "rating": 4, "created_at_ms": 10_i64, "_id": { "$lt": "b" } },
        ] };
        assert_eq!(filter, expected);
        assert_eq!(
            sort_document(ReviewSort::LowestRating.keys()),
            doc! { "rating": 1, "created_at_ms": -1, "_id": -1 }
        );
    }
}
