//! Cart reads.

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Object, Result};
use shop_kernel::auth::{forbidden, viewer};
use uuid::Uuid;

use super::{entities::EntityRoot, types::Cart};
use crate::{error::gql, service::Carts};

/// Cart reads.
#[derive(Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// A cart by id: a guest cart for anyone holding its id, a user's cart for its owner or
    /// an admin (`FORBIDDEN` for anyone else). Null if no live cart has this id.
    async fn cart(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Cart>> {
        let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
        let carts = ctx.data::<Arc<Carts>>()?;
        let Some(cart) = carts.store().get(id).await.map_err(gql)? else { return Ok(None) };
        if !cart.visible_to(viewer(ctx)) {
            return Err(forbidden());
        }
        Ok(Some(Cart::new(cart, carts.idle_ttl())))
    }
}

/// The query root: cart reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(CartQuery, EntityRoot);
