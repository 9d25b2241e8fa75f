//! The catalog's GraphQL schema: a Federation v2 subgraph.

mod entities;
mod inputs;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{mutation::MutationRoot, query::QueryRoot};
use crate::service::Catalog;

/// The catalog subgraph schema.
pub type CatalogSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `catalog`.
pub fn schema(catalog: Arc<Catalog>) -> CatalogSchema {
    builder()
        .data(DataLoader::new(entities::ProductLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::VariantLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::CategoryLoader(catalog.clone()), tokio::spawn))
        .data(catalog)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}
