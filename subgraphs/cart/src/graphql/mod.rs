//! The cart's GraphQL schema: a Federation v2 subgraph. Carts reference the catalog's
//! `Product` and `ProductVariant` by key (the catalog resolves their fields, prices included)
//! and extend the users service's `User` with `cart`.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, dataloader::DataLoader};

pub use self::{
    mutation::{CartErrorCode, CartUserError, MutationRoot},
    query::QueryRoot,
    types::{Cart, CartLine, Product, ProductVariant},
};
use crate::service::Carts;

/// The cart subgraph schema.
pub type CartSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema over `carts`.
pub fn schema(carts: Arc<Carts>) -> CartSchema {
    Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(DataLoader::new(entities::UserCartLoader(carts.clone()), tokio::spawn).max_batch_size(100))
        .data(carts)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl(schema: &CartSchema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
