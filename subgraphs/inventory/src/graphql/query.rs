//! The query root: the warehouse view of one SKU (admin), merged with the entity resolvers.

use async_graphql::{Context, MergedObject, Object, Result, dataloader::DataLoader};

use super::{
    entities::{EntityRoot, StockLoader},
    require_admin,
    types::StockLevelObject,
};

/// Inventory reads.
#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// Warehouse view of one SKU (admin); null if nothing was ever recorded for it.
    #[graphql(requires_scopes = "admin")]
    async fn stock_level(&self, ctx: &Context<'_>, sku: String) -> Result<Option<StockLevelObject>> {
        require_admin(ctx)?;
        let found = ctx.data::<DataLoader<StockLoader>>()?.load_one(sku).await?;
        Ok(found.map(StockLevelObject::from))
    }
}

/// The query root: inventory reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(InventoryQuery, EntityRoot);
