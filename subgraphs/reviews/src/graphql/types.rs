//! Reviews as clients see them, and the catalog's `Product` and the users service's `User`
//! they extend.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, ID, Object, Result, SimpleObject,
    connection::{Connection, Edge},
    dataloader::DataLoader,
};
use chrono::{DateTime, Utc};
use shop_kernel::{
    auth::viewer,
    relay::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
};
use uuid::Uuid;

use super::entities::RatingLoader;
use crate::{
    domain::{self, Position, ProductRating, ReviewSort, decode_cursor, encode_cursor},
    error::{ReviewsError, gql},
    service::Reviews,
};

/// A page of reviews.
pub type ReviewConnection = Connection<String, Review>;

/// A product review. Hidden reviews are shown only to their author and admins.
#[derive(Clone, Debug)]
pub struct Review(pub Arc<domain::Review>);

impl Review {
    /// The view of `review`.
    pub fn new(review: domain::Review) -> Self {
        Self(Arc::new(review))
    }
}

/// A product review: a rating from 1 to 5 stars with a title and a text, by one user, at
/// most one per user and product. Text is returned exactly as written: clients must display
/// it as text, never as HTML. Hidden reviews are shown only to their author and admins.
#[Object]
impl Review {
    /// The review's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Stars, 1 to 5.
    async fn rating(&self) -> i32 {
        self.0.rating.as_i32()
    }

    /// The title (1-120 characters).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The text (up to 5000 characters), exactly as written: plain text, not HTML.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Who wrote it (the users service resolves their fields).
    async fn author(&self) -> User {
        User::new(self.0.user_id)
    }

    /// The product reviewed (the catalog resolves its fields).
    async fn product(&self) -> Product {
        Product { id: ID(self.0.product_id.clone()) }
    }

    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its rating or text last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Whether the author bought the product from this shop.
    async fn verified_purchase(&self) -> bool {
        self.0.verified_purchase
    }

    /// Whether a moderator hid it: it then counts in no rating and only its author and
    /// admins see it.
    async fn hidden(&self) -> bool {
        self.0.hidden
    }

    /// Why a moderator hid it, if they said; null while it is visible.
    async fn hidden_reason(&self) -> Option<&str> {
        self.0.hidden_reason.as_deref()
    }
}

/// How many reviews gave one number of stars.
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatingBucket {
    /// Stars, 5 down to 1.
    pub stars: i32,
    /// Visible reviews with that many stars.
    pub count: i32,
}

/// A product's rating over its visible reviews.
#[derive(Clone, Debug)]
pub struct Rating(pub ProductRating);

fn saturating_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A product's rating over its visible reviews, kept up to date with every review written.
#[Object(name = "ProductRating")]
impl Rating {
    /// The mean number of stars, rounded to two decimals; null when there are no reviews.
    async fn average(&self) -> Option<f64> {
        self.0.average()
    }

    /// How many visible reviews there are.
    async fn count(&self) -> i32 {
        saturating_i32(self.0.count)
    }

    /// Reviews per number of stars, always five buckets from 5 stars down to 1.
    async fn histogram(&self) -> Vec<RatingBucket> {
        self.0
            .histogram()
            .into_iter()
            .map(|(stars, count)| RatingBucket { stars: i32::from(stars), count: saturating_i32(count) })
            .collect()
    }
}

/// Validates `first`: 0 to 100, 20 when absent.
fn page_size(first: Option<i32>) -> Result<u64> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(0..=MAX_PAGE_SIZE).contains(&first) {
        return Err(gql(ReviewsError::BadInput(format!("`first` must be between 0 and {MAX_PAGE_SIZE}"))));
    }
    u64::try_from(first).map_err(|_| gql(ReviewsError::BadInput("`first` is out of range".into())))
}

fn reviews<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Reviews>> {
    ctx.data::<Arc<Reviews>>()
}

/// A connection from rows fetched with one more than `limit` (that one says whether another
/// page follows), each with a keyset cursor in `sort` order.
fn connection(rows: Vec<domain::Review>, limit: u64, has_previous: bool, sort: ReviewSort) -> ReviewConnection {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_next = rows.len() > limit;
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(
        rows.into_iter()
            .take(limit)
            .map(|review| Edge::new(encode_cursor(sort, Position::of(&review)), Review::new(review))),
    );
    connection
}

/// A catalog product (owned by the catalog); this subgraph adds its reviews and rating.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    /// The product's id (the key shared with the catalog).
    pub id: ID,
}

#[ComplexObject]
impl Product {
    /// The product's visible reviews as a Relay connection (`first` up to 100, default 20),
    /// newest first unless `sort` says otherwise. A cursor is valid only with the `sort` it
    /// came from (`BAD_USER_INPUT` otherwise).
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "Some(ReviewSort::Newest)")] sort: Option<ReviewSort>,
    ) -> Result<ReviewConnection> {
        let sort = sort.unwrap_or_default();
        let limit = page_size(first)?;
        let after = after.map(|cursor| decode_cursor(sort, &cursor)).transpose().map_err(gql)?;
        let rows = reviews(ctx)?
            .store()
            .product_reviews(self.id.as_str(), sort, after.as_ref(), limit + 1)
            .await
            .map_err(gql)?;
        Ok(connection(rows, limit, after.is_some(), sort))
    }

    /// The product's rating over its visible reviews. Kept as an aggregate, so it costs no
    /// scan of the reviews, and batched: the ratings of every product of an operation are
    /// read in one query.
    async fn rating(&self, ctx: &Context<'_>) -> Result<Rating> {
        let rating = ctx.data::<DataLoader<RatingLoader>>()?.load_one(self.id.to_string()).await?;
        Ok(Rating(rating.unwrap_or_else(|| ProductRating::empty(self.id.as_str()))))
    }
}

/// A shop user (owned by the users service); this subgraph adds their reviews.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    /// The user's id (the key shared with the users service).
    pub id: ID,
    #[graphql(skip)]
    user_id: Uuid,
}

impl User {
    /// A reference to user `user_id`.
    pub fn new(user_id: Uuid) -> Self {
        Self { id: ID(user_id.to_string()), user_id }
    }
}

#[ComplexObject]
impl User {
    /// The user's reviews, newest first, as a Relay connection (`first` up to 100, default
    /// 20). The user themself and admins also see the hidden ones.
    async fn reviews(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<ReviewConnection> {
        let sort = ReviewSort::Newest;
        let limit = page_size(first)?;
        let after = after.map(|cursor| decode_cursor(sort, &cursor)).transpose().map_err(gql)?;
        let include_hidden = viewer(ctx).principal().is_some_and(|p| p.may_access(self.user_id));
        let rows = reviews(ctx)?
            .store()
            .user_reviews(self.user_id, include_hidden, after.as_ref(), limit + 1)
            .await
            .map_err(gql)?;
        Ok(connection(rows, limit, after.is_some(), sort))
    }
}
