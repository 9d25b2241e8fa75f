//! The users service's `User`, extended with the user's cart. Every user in one operation
//! (a whole `_entities` batch) costs one store call.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject, dataloader::{DataLoader, Loader}};
use shop_kernel::auth::{forbidden, require_user};
use uuid::Uuid;

use super::types::Cart;
use crate::{domain, error::gql, service::Carts};

/// The live carts of users, by user id.
pub struct UserCartLoader(pub Arc<Carts>);

impl Loader<Uuid> for UserCartLoader {
    type Value = Arc<domain::Cart>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let carts = self.0.store().carts_of_users(keys).await.map_err(gql)?;
        Ok(carts.into_iter().map(|(user, cart)| (user, Arc::new(cart))).collect())
    }
}

/// Only the user themself or an admin may see a user's cart.
fn authorize(ctx: &Context<'_>, user: Uuid) -> Result<()> {
    if require_user(ctx)?.may_access(user) { Ok(()) } else { Err(forbidden()) }
}

/// A shop user (owned by the users service); this subgraph adds their cart.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    /// The user's id (the key shared with the users service).
    pub id: ID,
    #[graphql(skip)]
    user_id: Uuid,
}

#[ComplexObject]
impl User {
    /// The user's current cart; null if they have none. Only the user themself or an admin
    /// may read it.
    #[graphql(requires_scopes = "customer", requires_scopes = "admin")]
    async fn cart(&self, ctx: &Context<'_>) -> Result<Option<Cart>> {
        authorize(ctx, self.user_id)?;
        let ttl = ctx.data::<Arc<Carts>>()?.idle_ttl();
        let cart = ctx.data::<DataLoader<UserCartLoader>>()?.load_one(self.user_id).await?;
        Ok(cart.map(|cart| Cart::new(cart, ttl)))
    }
}

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `User` references, for the user themself or an admin only (`UNAUTHENTICATED`
    /// or `FORBIDDEN` otherwise); a malformed id resolves to null.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        require_user(ctx)?;
        let Ok(user_id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
        authorize(ctx, user_id)?;
        Ok(Some(User { id, user_id }))
    }
}
