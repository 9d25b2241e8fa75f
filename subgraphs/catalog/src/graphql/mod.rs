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

/// Switches that change what the schema allows.
#[derive(Debug, Clone, Copy)]
pub struct SchemaSettings {
    /// Whether `productCreate`/`productUpdate`/`productArchive` are allowed (until identity
    /// lands, there is no ADMIN role to check, so they are off unless configured).
    pub admin_mutations_enabled: bool,
}

/// Builds the schema over `catalog`.
pub fn schema(catalog: Arc<Catalog>, settings: SchemaSettings) -> CatalogSchema {
    Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(DataLoader::new(entities::ProductLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::VariantLoader(catalog.clone()), tokio::spawn).max_batch_size(100))
        .data(DataLoader::new(entities::CategoryLoader(catalog.clone()), tokio::spawn))
        .data(catalog)
        .data(settings)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl(schema: &CatalogSchema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}
