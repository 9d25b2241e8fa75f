//! Federation entry points (`_entities`): `Review` (owned here), and the catalog's `Product`
//! and the users service's `User`, which this subgraph extends. Their DataLoaders make every
//! review or rating lookup of one operation one store read.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object, Result,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::auth::viewer;
use uuid::Uuid;

use super::types::{Product, Review, User};
use crate::{domain, error::gql, service::Reviews};

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

/// Review `id` if the caller may see it: null when unknown, malformed, or hidden from them.
pub async fn visible_review(ctx: &Context<'_>, id: &ID) -> Result<Option<Review>> {
    let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
    let review = ctx.data::<DataLoader<ReviewLoader>>()?.load_one(id).await?;
    Ok(review.filter(|r| r.visible_to(viewer(ctx).principal())).map(Review))
}

/// Federation entry points.
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `Review` references; unknown ids, and hidden reviews for anyone but their
    /// author and admins, resolve to null (never an error, which would null the whole batch).
    #[graphql(entity)]
    async fn find_review_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Review>> {
        visible_review(ctx, &id).await
    }

    /// Resolves `Product` references: every product has reviews and a rating, possibly none.
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }

    /// Resolves `User` references; a malformed id resolves to null.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        Uuid::parse_str(id.as_str()).ok().map(User::new)
    }
}
