//! The cart's GraphQL schema: a Federation v2 subgraph. Carts reference the catalog's
//! `Product` and `ProductVariant` by key (the catalog resolves their fields, prices included)
//! and extend the users service's `User` with `cart`.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    mutation::MutationRoot,
    query::QueryRoot,
    types::{Cart, CartLine, Product, ProductVariant},
};
pub use crate::error::{CartErrorCode, CartUserError};
use crate::service::Carts;

/// The cart subgraph schema.
pub type CartSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `carts`.
pub fn schema(carts: Arc<Carts>) -> CartSchema {
    builder()
        .data(DataLoader::new(entities::UserCartLoader(carts.clone()), tokio::spawn).max_batch_size(100))
        .data(carts)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}
