//! The orders GraphQL schema: a Federation v2 subgraph that owns `Order @key(id)`, extends
//! the users service's `User` with `orders`, and serves the `orderUpdated` subscription.

mod entities;
mod mutation;
mod query;
mod subscription;
mod types;

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    entities::{OrderLoader, User},
    mutation::{CheckoutPayload, MutationRoot, OrderCancelPayload, OrderDeliverPayload, OrderShipPayload},
    query::QueryRoot,
    subscription::SubscriptionRoot,
    types::{CheckoutInput, CheckoutLineInput, Order, OrderEvent, OrderLine, ShippingAddress, ShippingAddressInput},
};
use crate::service::Orders;

/// The orders subgraph schema.
pub type OrdersSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, SubscriptionRoot)
        .enable_subscription_in_federation()
}

/// Builds the schema over `orders`.
pub fn schema(orders: Arc<Orders>) -> OrdersSchema {
    builder().data(DataLoader::new(OrderLoader(orders.clone()), tokio::spawn).max_batch_size(100)).data(orders).finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}
