//! The inventory's GraphQL schema: it extends the catalog's `Product` and `ProductVariant`
//! with `stock`, and offers admin stock adjustments.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Result, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    entities::{EntityRoot, Product, ProductVariant, StockLoader, VariantSkuInput},
    mutation::MutationRoot,
    query::{InventoryQuery, QueryRoot},
    types::{Stock, StockAdjustInput, StockAdjustPayload, StockAdjustment, StockLevelObject},
};
use crate::service::Inventory;

/// The inventory subgraph schema.
pub type InventorySchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `inventory`.
pub fn schema(inventory: Arc<Inventory>) -> InventorySchema {
    builder()
        .data(DataLoader::new(StockLoader(inventory.clone()), tokio::spawn).max_batch_size(1_000))
        .data(inventory)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}

/// The subgraph checks the role itself rather than trusting the router to enforce
/// `@requiresScopes`.
fn require_admin(ctx: &Context<'_>) -> Result<()> {
    shop_kernel::auth::require_admin(ctx).map(|_| ())
}
