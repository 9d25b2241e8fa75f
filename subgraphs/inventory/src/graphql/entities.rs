//! The catalog's `Product` and `ProductVariant`, extended with `stock`. Every `stock` field in
//! one operation (a whole `_entities` batch included) is one store read, through [`StockLoader`].

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject,
    dataloader::{DataLoader, Loader},
};

use super::types::Stock;
use crate::{domain::StockLevel, error::gql, service::Inventory};

/// Stock levels by SKU: every `stock` field in one operation is one query.
pub struct StockLoader(pub Arc<Inventory>);

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
