//! Order reads.

use async_graphql::{Context, ID, MergedObject, Object, Result};
use shop_kernel::federation::authenticated;

use super::{
    entities::{EntityRoot, readable_order},
    types::Order,
};

/// Order reads.
#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// An order by id, for its owner or an admin (`FORBIDDEN` for anyone else). Null if no
    /// order has this id.
    #[graphql(directive = authenticated::apply())]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        readable_order(ctx, &id).await
    }
}

/// The query root: order reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(OrderQuery, EntityRoot);
