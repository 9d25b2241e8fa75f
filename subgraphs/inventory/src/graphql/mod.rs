//! The inventory's GraphQL schema: it extends the catalog's `Product` and `ProductVariant`
//! with `stock`, and offers admin stock adjustments.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, EmptySubscription, ID, InputObject, MergedObject, Object, Result, Schema, SchemaBuilder,
    SimpleObject,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use shop_kernel::relay::{self, PageRequest, PlainConnection};

use crate::{
    domain::{Adjustment, StockLevel},
    error::{InventoryErrorCode, InventoryUserError, gql},
    store::{AdjustError, InventoryStore},
};

/// The inventory subgraph schema.
pub type InventorySchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `store`.
pub fn schema(store: Arc<InventoryStore>) -> InventorySchema {
    builder().data(DataLoader::new(StockLoader(store.clone()), tokio::spawn).max_batch_size(1_000)).data(store).finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}

/// Stock levels by SKU: every `stock` field in one operation is one query.
pub struct StockLoader(pub Arc<InventoryStore>);

impl Loader<String> for StockLoader {
    type Value = StockLevel;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, StockLevel>, Self::Error> {
        let levels = self.0.stock_levels(keys).await.map_err(gql)?;
        Ok(levels.into_iter().map(|l| (l.sku.clone(), l)).collect())
    }
}

async fn levels(ctx: &Context<'_>, skus: &[String]) -> Result<Vec<StockLevel>> {
    let found = ctx.data::<DataLoader<StockLoader>>()?.load_many(skus.iter().cloned()).await?;
    Ok(skus.iter().map(|sku| found.get(sku).cloned().unwrap_or_else(|| StockLevel::empty(sku))).collect())
}

/// What a shopper may know about stock.
#[derive(SimpleObject, Clone, Debug)]
pub struct Stock {
    /// Units that can be ordered now.
    pub available: i64,
    /// Whether at least one unit can be ordered.
    pub in_stock: bool,
}

impl Stock {
    fn of(available: i64) -> Self {
        Self { available: available.max(0), in_stock: available > 0 }
    }
}

/// A reference to a catalog variant, extended with its stock.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProductVariant {
    /// Stock keeping unit (the key shared with the catalog).
    pub sku: String,
}

#[ComplexObject]
impl ProductVariant {
    /// Stock of this variant.
    async fn stock(&self, ctx: &Context<'_>) -> Result<Stock> {
        let level = levels(ctx, std::slice::from_ref(&self.sku)).await?;
        Ok(Stock::of(level.first().map_or(0, StockLevel::available)))
    }
}

/// The SKU of a variant, as the router sends it for `Product.stock`.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "ProductVariantSkuRepresentation")]
pub struct VariantSkuInput {
    /// Stock keeping unit.
    pub sku: String,
}

/// A reference to a catalog product, extended with the stock of all its variants.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    /// Product id (the key shared with the catalog).
    pub id: ID,
    /// The product's variants, owned by the catalog.
    #[graphql(external)]
    pub variants: Vec<ProductVariant>,
}

#[ComplexObject]
impl Product {
    /// Stock summed over every variant.
    #[graphql(requires = "variants { sku }")]
    async fn stock(&self, ctx: &Context<'_>) -> Result<Stock> {
        let skus: Vec<String> = self.variants.iter().map(|v| v.sku.clone()).collect();
        let total = levels(ctx, &skus).await?.iter().map(|l| l.available().max(0)).sum();
        Ok(Stock::of(total))
    }
}

/// Stock of one SKU as the warehouse sees it (admin).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct StockLevelObject {
    /// Stock keeping unit.
    pub sku: String,
    /// Units in the warehouse.
    pub on_hand: i64,
    /// Units held for orders not yet paid.
    pub reserved: i64,
    /// Units that can still be sold.
    pub available: i64,
}

impl From<StockLevel> for StockLevelObject {
    fn from(level: StockLevel) -> Self {
        Self { available: level.available(), sku: level.sku, on_hand: level.on_hand, reserved: level.reserved }
    }
}

/// One audited change of stock.
#[derive(SimpleObject, Clone, Debug)]
pub struct StockAdjustment {
    /// Change of on-hand units (negative removes).
    pub delta: i64,
    /// Why it was made.
    pub reason: String,
    /// On-hand units right after.
    pub on_hand_after: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

#[ComplexObject]
impl StockLevelObject {
    /// The audit trail of this SKU, newest first.
    async fn adjustments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlainConnection<StockAdjustment>> {
        let page = PageRequest::parse(first, after.as_deref()).map_err(gql)?;
        let rows = ctx
            .data::<Arc<InventoryStore>>()?
            .adjustments(&self.sku, page.offset, page.fetch_limit())
            .await
            .map_err(gql)?;
        let rows = rows
            .into_iter()
            .map(|r| StockAdjustment {
                delta: r.delta,
                reason: r.reason,
                on_hand_after: r.on_hand_after,
                created_at: r.created_at,
            })
            .collect();
        Ok(relay::connection_from_rows(page, rows, async_graphql::connection::EmptyFields))
    }
}

fn require_admin(ctx: &Context<'_>) -> Result<()> {
    shop_kernel::auth::require_admin(ctx).map(|_| ())
}

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

/// Federation entry points.
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `ProductVariant` references by SKU (every SKU has a stock, possibly zero).
    #[graphql(entity)]
    async fn find_product_variant_by_sku(&self, sku: String) -> ProductVariant {
        ProductVariant { sku }
    }

    /// Resolves `Product` references; `variants` arrives when `stock` is selected.
    #[graphql(entity)]
    async fn find_product_by_id(&self, #[graphql(key)] id: ID, variants: Option<Vec<VariantSkuInput>>) -> Product {
        let variants = variants.unwrap_or_default().into_iter().map(|v| ProductVariant { sku: v.sku }).collect();
        Product { id, variants }
    }
}

/// The query root: inventory reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(InventoryQuery, EntityRoot);

/// A stock correction.
#[derive(InputObject, Clone, Debug)]
pub struct StockAdjustInput {
    /// The SKU to correct.
    pub sku: String,
    /// Units to add (positive) or remove (negative); never zero.
    pub delta: i64,
    /// Why, for the audit trail (1-200 characters).
    pub reason: String,
}

/// Result of `stockAdjust`.
#[derive(SimpleObject, Clone, Debug)]
pub struct StockAdjustPayload {
    /// Stock after the change, if it was made.
    pub stock_level: Option<StockLevelObject>,
    /// Why it was not, if it was not.
    pub user_errors: Vec<InventoryUserError>,
}

/// Inventory writes (admin).
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Corrects the on-hand stock of a SKU and records why. Never takes stock below what
    /// is reserved for orders.
    #[graphql(requires_scopes = "admin")]
    async fn stock_adjust(&self, ctx: &Context<'_>, input: StockAdjustInput) -> Result<StockAdjustPayload> {
        require_admin(ctx)?;
        let refuse = |field: &str, message: String, code| {
            Ok(StockAdjustPayload {
                stock_level: None,
                user_errors: vec![InventoryUserError::new(&["input", field], message, code)],
            })
        };
        let adjustment = match Adjustment::new(&input.sku, input.delta, &input.reason) {
            Ok(a) => a,
            Err(error) => {
                let field = match error {
                    crate::domain::AdjustmentError::BadDelta => "delta",
                    crate::domain::AdjustmentError::BadReason => "reason",
                    crate::domain::AdjustmentError::BadSku(_) => "sku",
                };
                return refuse(field, error.to_string(), InventoryErrorCode::Invalid);
            }
        };
        match ctx.data::<Arc<InventoryStore>>()?.adjust(&adjustment).await {
            Ok(level) => Ok(StockAdjustPayload { stock_level: Some(level.into()), user_errors: vec![] }),
            Err(AdjustError::UnknownSku) => {
                refuse("sku", "no stock recorded for this SKU".into(), InventoryErrorCode::NotFound)
            }
            Err(error @ AdjustError::WouldGoBelowReserved { .. }) => {
                refuse("delta", error.to_string(), InventoryErrorCode::InsufficientStock)
            }
            Err(AdjustError::Store(error)) => Err(gql(error)),
        }
    }
}
