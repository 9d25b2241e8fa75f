//! The catalog's GraphQL schema: a Federation v2 subgraph.

mod entities;
mod inputs;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, dataloader::DataLoader};

pub use self::{mutation::MutationRoot, query::QueryRoot};
use crate::service::Catalog;

/// The catalog subgraph schema.
pub type CatalogSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema over `catalog`.
pub fn schema(catalog: Arc<Catalog>) -> CatalogSchema {
    Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(DataLoader::new(entities::ProductLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::VariantLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::CategoryLoader(catalog.clone()), tokio::spawn))
        .data(catalog)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl(schema: &CatalogSchema) -> String {
    shop_kernel::federation::subgraph_sdl(
        &schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive()),
    )
}
