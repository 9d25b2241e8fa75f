//! Federation entities: `Order` (owned here, batched by a DataLoader) and the users
//! service's `User`, extended with `orders`.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, ID, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::{
    auth::{forbidden, require_user},
    federation::authenticated,
    relay::{self, PageRequest, PlainConnection},
};
use uuid::Uuid;

use super::types::Order;
use crate::{
    domain,
    error::{OrdersError, gql},
    service::Orders,
};

/// Orders by id: every `order` and `_entities` lookup in one operation is one store read.
pub struct OrderLoader(pub Arc<Orders>);

impl Loader<Uuid> for OrderLoader {
    type Value = Arc<domain::Order>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let orders = self.0.store.get_many(keys).await.map_err(gql)?;
        Ok(orders.into_iter().map(|o| (o.id, Arc::new(o))).collect())
    }
}

/// The order `id` if the caller may read it: null when unknown, `FORBIDDEN` when it is
/// someone else's, `UNAUTHENTICATED` when signed out.
pub async fn readable_order(ctx: &Context<'_>, id: &ID) -> Result<Option<Order>> {
    let principal = require_user(ctx)?;
    let Ok(id) = Uuid::parse_str(id.as_str()) else {
        return Ok(None);
    };
    let Some(order) = ctx.data::<DataLoader<OrderLoader>>()?.load_one(id).await? else {
        return Ok(None);
    };
    if !principal.may_access(order.user_id) {
        return Err(forbidden());
    }
    Ok(Some(Order::new(order)))
}

/// A shop user (owned by the users service); this subgraph adds their orders.
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
    /// The user's orders, newest first, as a Relay connection (`first` up to 100, default
    /// 20). Only the user themself or an admin may read them (`FORBIDDEN` otherwise).
    #[graphql(directive = authenticated::apply())]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlainConnection<Order>> {
        if !require_user(ctx)?.may_access(self.user_id) {
            return Err(forbidden());
        }
        let page = PageRequest::parse(first, after.as_deref())
            .map_err(|e| shop_kernel::error::client_error(shop_kernel::ErrorCode::BadUserInput, e.to_string()))?;
        let orders = ctx.data::<Arc<Orders>>()?;
        let rows = orders
            .store
            .of_user(self.user_id, page.offset, page.fetch_limit())
            .await
            .map_err(|e| gql(OrdersError::from(e)))?;
        let nodes = rows.into_iter().map(Order::new).collect();
        Ok(relay::connection_from_rows(page, nodes, async_graphql::connection::EmptyFields))
    }
}

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `Order` references for the order's owner or an admin; unknown ids resolve to
    /// null.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        readable_order(ctx, &id).await
    }

    /// Resolves `User` references; a malformed id resolves to null. Their `orders` are for
    /// the user themself or an admin only.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        let user_id = Uuid::parse_str(id.as_str()).ok()?;
        Some(User::new(user_id))
    }
}
