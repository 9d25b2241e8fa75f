//! Federation entry points (`_entities`): `Review` (owned here, batched by a DataLoader),
//! and the catalog's `Product` and the users service's `User`, which this subgraph extends.

use async_graphql::{Context, ID, Object, Result, dataloader::DataLoader};
use shop_kernel::auth::viewer;
use uuid::Uuid;

use super::{
    ReviewLoader,
    types::{Product, Review, User},
};

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
