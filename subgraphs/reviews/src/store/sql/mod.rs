//! The embedded review store on sea-orm: SQLite when embedded; the same code and schema run on
//! PostgreSQL (the contract tests run there too).
//!
//! Reviews live in `reviews_reviews` (unique `(product_id, user_id)`, rating and lengths
//! checked by the database), aggregates in `reviews_product_ratings` (counters that may not go
//! negative and must add up), purchases in `reviews_purchases` (one row per (user, product)
//! pair: its lock row and cached `purchased` flag) and `reviews_purchase_orders` (one row per
//! order of a pair, standing or cancelled; the flag is recomputed from these on every purchase
//! write, in the same transaction as the reviews it verifies or unverifies). Each write is one transaction
//! that begins as a writer (IMMEDIATE on SQLite, so writers queue instead of failing), reads
//! the review it changes under a row lock (`FOR UPDATE` on PostgreSQL; SQLite has one writer
//! at a time), and adds the resulting delta to the aggregate with `SET n = n + delta`, never
//! with a value computed from an earlier read.

mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, Value,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use shop_kernel::{db, store::StoreFailure};
use uuid::Uuid;

use self::entity::{purchase, purchase_order, rating, review};
use super::{OrderState, ReviewStore, StoreError};
use crate::domain::{
    Direction, Position, ProductRating, RatingDelta, Review, ReviewChange, ReviewSort, SortField, Stars,
};

/// The tables and indexes, for SQLite and PostgreSQL alike (idempotent).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS reviews_reviews (
        id TEXT PRIMARY KEY,
        product_id TEXT NOT NULL CHECK (length(product_id) BETWEEN 1 AND 100),
        user_id TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
        body TEXT NOT NULL CHECK (length(body) <= 5000),
        created_at_ms BIGINT NOT NULL,
        updated_at_ms BIGINT NOT NULL,
        verified_purchase BOOLEAN NOT NULL DEFAULT FALSE,
        hidden BOOLEAN NOT NULL DEFAULT FALSE,
        hidden_reason TEXT,
        version BIGINT NOT NULL CHECK (version >= 1),
        CONSTRAINT reviews_one_per_user_and_product UNIQUE (product_id, user_id)
    )",
    "CREATE INDEX IF NOT EXISTS reviews_product_by_time ON reviews_reviews (product_id, hidden, created_at_ms, id)",
    "CREATE INDEX IF NOT EXISTS reviews_product_by_rating ON reviews_reviews (product_id, hidden, rating, created_at_ms, id)",
    "CREATE INDEX IF NOT EXISTS reviews_user_by_time ON reviews_reviews (user_id, created_at_ms, id)",
    "CREATE TABLE IF NOT EXISTS reviews_product_ratings (
        product_id TEXT PRIMARY KEY,
        review_count BIGINT NOT NULL DEFAULT 0 CHECK (review_count >= 0),
        rating_sum BIGINT NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
        stars_1 BIGINT NOT NULL DEFAULT 0 CHECK (stars_1 >= 0),
        stars_2 BIGINT NOT NULL DEFAULT 0 CHECK (stars_2 >= 0),
        stars_3 BIGINT NOT NULL DEFAULT 0 CHECK (stars_3 >= 0),
        stars_4 BIGINT NOT NULL DEFAULT 0 CHECK (stars_4 >= 0),
        stars_5 BIGINT NOT NULL DEFAULT 0 CHECK (stars_5 >= 0),
        CONSTRAINT reviews_ratings_add_up CHECK (
            review_count = stars_1 + stars_2 + stars_3 + stars_4 + stars_5
            AND rating_sum = stars_1 + 2 * stars_2 + 3 * stars_3 + 4 * stars_4 + 5 * stars_5
        )
    )",
    "CREATE TABLE IF NOT EXISTS reviews_purchases (
        user_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        purchased BOOLEAN NOT NULL DEFAULT FALSE,
        version BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, product_id)
    )",
    "CREATE TABLE IF NOT EXISTS reviews_purchase_orders (
        user_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        cancelled BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (user_id, product_id, order_id)
    )",
];

/// Review tables in a relational database.
#[derive(Clone)]
pub struct SqlReviewStore {
    db: DatabaseConnection,
}

fn unavailable(error: DbErr) -> StoreError {
    StoreFailure::from(error).into()
}

fn corrupt(message: impl std::fmt::Display) -> StoreError {
    StoreFailure::Corrupt(format!("malformed review data: {message}")).into()
}

fn time_of(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(format!("time out of range: {millis}")))
}

fn review_from(row: review::Model) -> Result<Review, StoreError> {
    Ok(Review {
        id: Uuid::parse_str(&row.id).map_err(corrupt)?,
        product_id: row.product_id,
        user_id: Uuid::parse_str(&row.user_id).map_err(corrupt)?,
        rating: Stars::new(row.rating).map_err(corrupt)?,
        title: row.title,
        body: row.body,
        created_at: time_of(row.created_at_ms)?,
        updated_at: time_of(row.updated_at_ms)?,
        verified_purchase: row.verified_purchase,
        hidden: row.hidden,
        hidden_reason: row.hidden_reason,
        version: row.version,
    })
}

fn review_row(review: &Review) -> review::ActiveModel {
    review::ActiveModel {
        id: Set(review.id.to_string()),
        product_id: Set(review.product_id.clone()),
        user_id: Set(review.user_id.to_string()),
        rating: Set(review.rating.as_i32()),
        title: Set(review.title.clone()),
        body: Set(review.body.clone()),
        created_at_ms: Set(review.created_at.timestamp_millis()),
        updated_at_ms: Set(review.updated_at.timestamp_millis()),
        verified_purchase: Set(review.verified_purchase),
        hidden: Set(review.hidden),
        hidden_reason: Set(review.hidden_reason.clone()),
        version: Set(review.version),
    }
}

fn rating_from(row: rating::Model) -> ProductRating {
    ProductRating {
        product_id: row.product_id,
        count: row.review_count,
        sum: row.rating_sum,
        stars: [row.stars_1, row.stars_2, row.stars_3, row.stars_4, row.stars_5],
    }
}

fn column(field: SortField) -> review::Column {
    match field {
        SortField::Rating => review::Column::Rating,
        SortField::CreatedAt => review::Column::CreatedAtMs,
        SortField::Id => review::Column::Id,
    }
}

fn value_at(position: &Position, field: SortField) -> Value {
    match field {
        SortField::Rating => position.rating.into(),
        SortField::CreatedAt => position.created_at_ms.into(),
        SortField::Id => position.id.clone().into(),
    }
}

/// The rows strictly after `position` in the ordering `keys`: equal on the leading columns and
/// past it on the next one, for each column in turn.
fn after_condition(keys: &[(SortField, Direction)], position: &Position) -> Condition {
    let mut any = Condition::any();
    for index in 0..keys.len() {
        let mut branch = Condition::all();
        for (position_index, (field, direction)) in keys.iter().enumerate().take(index + 1) {
            let (col, value) = (column(*field), value_at(position, *field));
            branch = branch.add(match (position_index < index, direction) {
                (true, _) => col.eq(value),
                (false, Direction::Ascending) => col.gt(value),
                (false, Direction::Descending) => col.lt(value),
            });
        }
        any = any.add(branch);
    }
    any
}

fn ordered<Q: QueryOrder>(mut query: Q, keys: &[(SortField, Direction)]) -> Q {
    for (field, direction) in keys {
        let order = if *direction == Direction::Ascending { Order::Asc } else { Order::Desc };
        query = query.order_by(column(*field), order);
    }
    query
}

/// Adds `delta` to the product's aggregate, creating it at zero first.
async fn apply_delta(tx: &DatabaseTransaction, product_id: &str, delta: &RatingDelta) -> Result<(), StoreError> {
    if delta.is_zero() {
        return Ok(());
    }
    let zero = rating::ActiveModel {
        product_id: Set(product_id.to_owned()),
        review_count: Set(0),
        rating_sum: Set(0),
        stars_1: Set(0),
        stars_2: Set(0),
        stars_3: Set(0),
        stars_4: Set(0),
        stars_5: Set(0),
    };
    rating::Entity::insert(zero).on_conflict_do_nothing().exec_without_returning(tx).await.map_err(unavailable)?;
    let [one, two, three, four, five] = delta.stars;
    let plus = |col: rating::Column, n: i64| Expr::col(col).add(n);
    rating::Entity::update_many()
        .col_expr(rating::Column::ReviewCount, plus(rating::Column::ReviewCount, delta.count))
        .col_expr(rating::Column::RatingSum, plus(rating::Column::RatingSum, delta.sum))
        .col_expr(rating::Column::Stars1, plus(rating::Column::Stars1, one))
        .col_expr(rating::Column::Stars2, plus(rating::Column::Stars2, two))
        .col_expr(rating::Column::Stars3, plus(rating::Column::Stars3, three))
        .col_expr(rating::Column::Stars4, plus(rating::Column::Stars4, four))
        .col_expr(rating::Column::Stars5, plus(rating::Column::Stars5, five))
        .filter(rating::Column::ProductId.eq(product_id))
        .exec(tx)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Takes the pair's purchase record (creating it unpurchased) and returns whether the pair is
/// purchased. The write takes the record's row lock for the rest of `tx`, so a review creation
/// and a purchase or cancellation of one pair serialize: the later one sees the earlier.
async fn lock_pair(tx: &DatabaseTransaction, user_id: Uuid, product_id: &str) -> Result<bool, StoreError> {
    let record = purchase::ActiveModel {
        user_id: Set(user_id.to_string()),
        product_id: Set(product_id.to_owned()),
        purchased: Set(false),
        version: Set(0),
    };
    purchase::Entity::insert(record).on_conflict_do_nothing().exec_without_returning(tx).await.map_err(unavailable)?;
    purchase::Entity::update_many()
        .col_expr(purchase::Column::Version, Expr::col(purchase::Column::Version).add(1))
        .filter(purchase::Column::UserId.eq(user_id.to_string()))
        .filter(purchase::Column::ProductId.eq(product_id))
        .exec(tx)
        .await
        .map_err(unavailable)?;
    let record = purchase::Entity::find_by_id((user_id.to_string(), product_id.to_owned()))
        .one(tx)
        .await
        .map_err(unavailable)?;
    Ok(record.is_some_and(|r| r.purchased))
}

/// Records order `order_id` of the pair in `state` under the pair's lock, recomputes whether
/// the pair is purchased (at least one of its orders stands) and sets the user's review of the
/// product verified accordingly. Returns how many reviews changed (0 or 1).
///
/// Converges whatever the order and number of deliveries: a standing order is only inserted
/// where the order is unknown, and a cancellation inserts or overwrites it as cancelled, so a
/// cancellation that arrives first leaves a tombstone the later confirmation cannot undo.
async fn record_pair_order(
    tx: &DatabaseTransaction,
    user_id: Uuid,
    product_id: &str,
    order_id: &str,
    state: OrderState,
) -> Result<u64, StoreError> {
    lock_pair(tx, user_id, product_id).await?;
    let row = purchase_order::ActiveModel {
        user_id: Set(user_id.to_string()),
        product_id: Set(product_id.to_owned()),
        order_id: Set(order_id.to_owned()),
        cancelled: Set(state == OrderState::Cancelled),
    };
    let insert = purchase_order::Entity::insert(row);
    match state {
        OrderState::Standing => insert.on_conflict_do_nothing().exec_without_returning(tx).await.map(drop),
        OrderState::Cancelled => {
            let key =
                [purchase_order::Column::UserId, purchase_order::Column::ProductId, purchase_order::Column::OrderId];
            let cancel = OnConflict::columns(key).update_column(purchase_order::Column::Cancelled).to_owned();
            insert.on_conflict(cancel).exec_without_returning(tx).await.map(drop)
        }
    }
    .map_err(unavailable)?;
    // Legacy pairs (flag set before order rows existed) stay purchased until an order of theirs is recorded.
    let standing = purchase_order::Entity::find()
        .filter(purchase_order::Column::UserId.eq(user_id.to_string()))
        .filter(purchase_order::Column::ProductId.eq(product_id))
        .filter(purchase_order::Column::Cancelled.eq(false))
        .one(tx)
        .await
        .map_err(unavailable)?
        .is_some();
    purchase::Entity::update_many()
        .col_expr(purchase::Column::Purchased, Expr::value(standing))
        .filter(purchase::Column::UserId.eq(user_id.to_string()))
        .filter(purchase::Column::ProductId.eq(product_id))
        .exec(tx)
        .await
        .map_err(unavailable)?;
    let changed = review::Entity::update_many()
        .col_expr(review::Column::VerifiedPurchase, Expr::value(standing))
        .col_expr(review::Column::Version, Expr::col(review::Column::Version).add(1))
        .filter(review::Column::ProductId.eq(product_id))
        .filter(review::Column::UserId.eq(user_id.to_string()))
        .filter(review::Column::VerifiedPurchase.eq(!standing))
        .exec(tx)
        .await
        .map_err(unavailable)?;
    Ok(changed.rows_affected)
}

impl SqlReviewStore {
    /// Opens the database at `url` with a pool of `max_connections`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self { db: db::connect(url, std::cmp::max(max_connections, 1)).await.map_err(unavailable)? })
    }

    /// The connection pool.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Review `id` (by `author`, when given), locked for the rest of `tx`.
    async fn lock_review(
        tx: &DatabaseTransaction,
        id: Uuid,
        author: Option<Uuid>,
    ) -> Result<Option<Review>, StoreError> {
        let mut query = review::Entity::find_by_id(id.to_string());
        if let Some(author) = author {
            query = query.filter(review::Column::UserId.eq(author.to_string()));
        }
        query.lock_exclusive().one(tx).await.map_err(unavailable)?.map(review_from).transpose()
    }

    async fn begin(&self) -> Result<DatabaseTransaction, StoreError> {
        db::begin_write(&self.db).await.map_err(unavailable)
    }

    /// [`record_pair_order`] for each of the order's products, in one transaction. Returns how
    /// many reviews changed.
    async fn record_order(
        &self,
        user_id: Uuid,
        order_id: &str,
        product_ids: &[String],
        state: OrderState,
    ) -> Result<u64, StoreError> {
        let mut products: Vec<&String> = product_ids.iter().filter(|p| !p.is_empty()).collect();
        // One lock order for every writer of several pairs, so two never wait on each other.
        products.sort();
        products.dedup();
        if products.is_empty() {
            return Ok(0);
        }
        let tx = self.begin().await?;
        let mut changed = 0;
        for product_id in products {
            changed += record_pair_order(&tx, user_id, product_id, order_id, state).await?;
        }
        commit(tx).await?;
        Ok(changed)
    }
}

async fn commit(tx: DatabaseTransaction) -> Result<(), StoreError> {
    tx.commit().await.map_err(unavailable)
}

#[async_trait::async_trait]
impl ReviewStore for SqlReviewStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        for statement in SCHEMA {
            self.db.execute_unprepared(statement).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(unavailable)
    }

    async fn insert_review(&self, review: &Review) -> Result<Review, StoreError> {
        let tx = self.begin().await?;
        let purchased = lock_pair(&tx, review.user_id, &review.product_id).await?;
        let stored = Review { verified_purchase: purchased, ..review.clone() };
        if let Err(error) = review::Entity::insert(review_row(&stored)).exec_without_returning(&tx).await {
            return Err(if db::is_unique_violation(&error) { StoreError::AlreadyReviewed } else { unavailable(error) });
        }
        apply_delta(&tx, &stored.product_id, &RatingDelta::between(None, stored.counted_rating())).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn update_review(
        &self,
        id: Uuid,
        author: Uuid,
        change: &ReviewChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Review>, StoreError> {
        let tx = self.begin().await?;
        let Some(before) = Self::lock_review(&tx, id, Some(author)).await? else { return Ok(None) };
        let after = change.apply(&before, now);
        review::Entity::update(review_row(&after)).exec(&tx).await.map_err(unavailable)?;
        apply_delta(&tx, &after.product_id, &RatingDelta::between(before.counted_rating(), after.counted_rating()))
            .await?;
        commit(tx).await?;
        Ok(Some(after))
    }

    async fn delete_review(&self, id: Uuid, author: Option<Uuid>) -> Result<Option<Review>, StoreError> {
        let tx = self.begin().await?;
        let Some(before) = Self::lock_review(&tx, id, author).await? else { return Ok(None) };
        review::Entity::delete_by_id(id.to_string()).exec(&tx).await.map_err(unavailable)?;
        apply_delta(&tx, &before.product_id, &RatingDelta::between(before.counted_rating(), None)).await?;
        commit(tx).await?;
        Ok(Some(before))
    }

    async fn set_hidden(&self, id: Uuid, hidden: bool, reason: Option<&str>) -> Result<Option<Review>, StoreError> {
        let tx = self.begin().await?;
        let Some(before) = Self::lock_review(&tx, id, None).await? else { return Ok(None) };
        let hidden_reason = if hidden { reason.map(str::to_owned) } else { None };
        let after = Review { hidden, hidden_reason, version: before.version + 1, ..before.clone() };
        review::Entity::update(review_row(&after)).exec(&tx).await.map_err(unavailable)?;
        apply_delta(&tx, &after.product_id, &RatingDelta::between(before.counted_rating(), after.counted_rating()))
            .await?;
        commit(tx).await?;
        Ok(Some(after))
    }

    async fn reviews_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Review>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = review::Entity::find()
            .filter(review::Column::Id.is_in(ids.iter().map(Uuid::to_string)))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        rows.into_iter().map(review_from).collect()
    }

    async fn product_reviews(
        &self,
        product_id: &str,
        sort: ReviewSort,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        let mut query = review::Entity::find()
            .filter(review::Column::ProductId.eq(product_id))
            .filter(review::Column::Hidden.eq(false));
        if let Some(position) = after {
            query = query.filter(after_condition(sort.keys(), position));
        }
        let rows = ordered(query, sort.keys()).limit(limit).all(&self.db).await.map_err(unavailable)?;
        rows.into_iter().map(review_from).collect()
    }

    async fn user_reviews(
        &self,
        user_id: Uuid,
        include_hidden: bool,
        after: Option<&Position>,
        limit: u64,
    ) -> Result<Vec<Review>, StoreError> {
        let keys = ReviewSort::Newest.keys();
        let mut query = review::Entity::find().filter(review::Column::UserId.eq(user_id.to_string()));
        if !include_hidden {
            query = query.filter(review::Column::Hidden.eq(false));
        }
        if let Some(position) = after {
            query = query.filter(after_condition(keys, position));
        }
        let rows = ordered(query, keys).limit(limit).all(&self.db).await.map_err(unavailable)?;
        rows.into_iter().map(review_from).collect()
    }

    async fn ratings_for(&self, product_ids: &[String]) -> Result<Vec<ProductRating>, StoreError> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = rating::Entity::find()
            .filter(rating::Column::ProductId.is_in(product_ids.iter().cloned()))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(rating_from).collect())
    }

    async fn recount_rating(&self, product_id: &str) -> Result<ProductRating, StoreError> {
        let ratings: Vec<i32> = review::Entity::find()
            .select_only()
            .column(review::Column::Rating)
            .filter(review::Column::ProductId.eq(product_id))
            .filter(review::Column::Hidden.eq(false))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        let stars = ratings.into_iter().map(|r| Stars::new(r).map_err(corrupt)).collect::<Result<Vec<_>, _>>()?;
        Ok(ProductRating::recount(product_id, stars))
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
        let record = purchase::Entity::find_by_id((user_id.to_string(), product_id.to_owned()))
            .filter(purchase::Column::Purchased.eq(true))
            .one(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(record.is_some())
    }
}
