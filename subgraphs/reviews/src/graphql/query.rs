//! Review reads and the query root.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::{
    entities::{EntityRoot, visible_review},
    types::Review,
};

/// Review reads.
#[derive(Default)]
pub struct ReviewQuery;

#[Object]
impl ReviewQuery {
    /// A review by id; null if there is none, or if it is hidden and the caller is neither
    /// its author nor an admin.
    async fn review(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Review>> {
        visible_review(ctx, &id).await
    }
}

/// The query root: review reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(ReviewQuery, EntityRoot);
