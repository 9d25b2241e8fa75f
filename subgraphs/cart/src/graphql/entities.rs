//! The users service's `User`, extended with the user's cart. Every user in one operation
//! (a whole `_entities` batch) costs one store call.
//!
//! Access is checked on `User.cart`, the only field this subgraph adds: a refusal then nulls
//! that one cart (with its error at `_entities.<n>.cart`) instead of failing the whole batch
//! of representations the router sent.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};
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
    /// may read it (`UNAUTHENTICATED` / `FORBIDDEN` otherwise).
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
    /// Resolves `User` references; a malformed id resolves to null. Their `cart` is for the
    /// user themself or an admin only.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        let user_id = Uuid::parse_str(id.as_str()).ok()?;
        Some(User { id, user_id })
    }
}
