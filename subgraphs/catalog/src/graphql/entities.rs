//! Batched loading: every `_entities` call and every nested lookup in one operation becomes
//! one store (or cache) round trip per kind, whatever the number of keys.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object, Result,
    dataloader::{DataLoader, Loader},
};
use uuid::Uuid;

use super::types::{Product, ProductVariant};
use crate::{
    domain,
    error::{CatalogError, gql},
    service::Catalog,
};

/// Products by id, through the cache.
pub struct ProductLoader(pub Arc<Catalog>);

impl Loader<Uuid> for ProductLoader {
    type Value = Arc<domain::Product>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let products = self.0.products_by_ids(keys).await.map_err(gql)?;
        Ok(products.into_iter().flatten().map(|p| (p.id, Arc::new(p))).collect())
    }
}

/// Variants (with their product) by SKU.
pub struct VariantLoader(pub Arc<Catalog>);

impl Loader<String> for VariantLoader {
    type Value = (Arc<domain::Product>, domain::Variant);
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let products: Vec<Arc<domain::Product>> =
            self.0.products_by_skus(keys).await.map_err(gql)?.into_iter().map(Arc::new).collect();
        Ok(products
            .iter()
            .flat_map(|p| p.variants.iter().map(move |v| (v.sku.clone(), (p.clone(), v.clone()))))
            .filter(|(sku, _)| keys.contains(sku))
            .collect())
    }
}

/// Categories by id (the tree is small: one query loads it whole).
pub struct CategoryLoader(pub Arc<Catalog>);

impl Loader<Uuid> for CategoryLoader {
    type Value = domain::Category;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let categories = self.0.categories().await.map_err(gql)?;
        Ok(categories.iter().filter(|c| keys.contains(&c.id)).map(|c| (c.id, c.clone())).collect())
    }
}

/// Parses an id argument, refusing what is not one of ours.
pub fn parse_id(id: &ID, field: &str) -> Result<Uuid, CatalogError> {
    Uuid::parse_str(id.as_str()).map_err(|_| CatalogError::BadInput(format!("`{field}` is not a valid id")))
}

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `Product` references by id; unknown or malformed ids resolve to null.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
        Ok(ctx.data::<DataLoader<ProductLoader>>()?.load_one(id).await?.map(Product))
    }

    /// Resolves `ProductVariant` references by SKU.
    #[graphql(entity)]
    async fn find_product_variant_by_sku(&self, ctx: &Context<'_>, sku: String) -> Result<Option<ProductVariant>> {
        let found = ctx.data::<DataLoader<VariantLoader>>()?.load_one(sku).await?;
        Ok(found.map(|(product, variant)| ProductVariant { product, variant }))
    }
}
