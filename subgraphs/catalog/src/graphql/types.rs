//! Output types of the catalog schema.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use shop_kernel::money::MoneyObject;

use super::entities::{CategoryLoader, ProductLoader};
use crate::domain::{self, ProductStatus as DomainStatus};

/// Whether a product is for sale.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProductStatus {
    /// Listed and for sale.
    Active,
    /// Withdrawn from sale; still resolvable by id for past orders, never listed.
    Archived,
}

impl From<DomainStatus> for ProductStatus {
    fn from(status: DomainStatus) -> Self {
        match status {
            DomainStatus::Active => Self::Active,
            DomainStatus::Archived => Self::Archived,
        }
    }
}

/// A named property such as `colour: black`; names and values are lower-case.
#[derive(SimpleObject, Clone, Debug)]
pub struct Attribute {
    /// Property name, e.g. `material`.
    pub name: String,
    /// Property value, e.g. `cotton`.
    pub value: String,
}

impl From<domain::Attribute> for Attribute {
    fn from(a: domain::Attribute) -> Self {
        Self { name: a.name, value: a.value }
    }
}

/// A product picture.
#[derive(SimpleObject, Clone, Debug)]
pub struct Image {
    /// Where the image is served from.
    pub url: String,
    /// Text alternative for screen readers.
    pub alt: String,
}

/// Something the shop sells. Buyers choose one of its variants.
#[derive(Clone, Debug)]
pub struct Product(pub Arc<domain::Product>);

#[async_graphql::Object]
impl Product {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-friendly unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Plain-text description (never HTML).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Maker or label.
    async fn brand(&self) -> &str {
        &self.0.brand
    }
    /// The category the product is filed under.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let loader = ctx.data::<DataLoader<CategoryLoader>>()?;
        Ok(loader.load_one(self.0.category_id).await?.map(Category))
    }
    /// Pictures, the first being the main one.
    async fn images(&self) -> Vec<Image> {
        self.0.images.iter().map(|i| Image { url: i.url.clone(), alt: i.alt.clone() }).collect()
    }
    /// The lowest price among the variants ("from" price).
    async fn price(&self) -> MoneyObject {
        self.0.price.into()
    }
    /// Properties shared by every variant.
    async fn attributes(&self) -> Vec<Attribute> {
        self.0.attributes.iter().cloned().map(Attribute::from).collect()
    }
    /// The purchasable versions of the product.
    async fn variants(&self) -> Vec<ProductVariant> {
        self.0.variants.iter().map(|v| ProductVariant { product: self.0.clone(), variant: v.clone() }).collect()
    }
    /// Whether it is for sale.
    async fn status(&self) -> ProductStatus {
        self.0.status.into()
    }
    /// Revision number; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A purchasable version of a product (a size, a colour), identified by its SKU.
#[derive(Clone, Debug)]
pub struct ProductVariant {
    pub product: Arc<domain::Product>,
    pub variant: domain::Variant,
}

#[async_graphql::Object]
impl ProductVariant {
    /// Stock keeping unit: unique across the catalog.
    async fn sku(&self) -> &str {
        &self.variant.sku
    }
    /// What distinguishes this variant, e.g. "Black / M".
    async fn name(&self) -> &str {
        &self.variant.name
    }
    /// Price of one unit.
    async fn price(&self) -> MoneyObject {
        self.variant.price.into()
    }
    /// Properties particular to this variant.
    async fn attributes(&self) -> Vec<Attribute> {
        self.variant.attributes.iter().cloned().map(Attribute::from).collect()
    }
    /// The product this is a variant of.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        let loader = ctx.data::<DataLoader<ProductLoader>>()?;
        Ok(loader.load_one(self.product.id).await?.map(Product))
    }
}

/// A node of the category tree.
#[derive(Clone, Debug)]
pub struct Category(pub domain::Category);

#[async_graphql::Object]
impl Category {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-friendly unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Plain-text description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The category above, if any.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(parent_id) = self.0.parent_id else { return Ok(None) };
        let loader = ctx.data::<DataLoader<CategoryLoader>>()?;
        Ok(loader.load_one(parent_id).await?.map(Category))
    }
    /// The categories directly below.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let all = super::query::all_categories(ctx).await?;
        Ok(all.iter().filter(|c| c.parent_id == Some(self.0.id)).cloned().map(Category).collect())
    }
}

/// How many listed products have a value.
#[derive(SimpleObject, Clone, Debug)]
pub struct FacetValue {
    /// The value.
    pub value: String,
    /// Products among the whole filtered list (not just this page) that have it.
    pub count: u64,
}

/// How many listed products are filed under a category.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CategoryFacet {
    #[graphql(skip)]
    pub category_id: uuid::Uuid,
    /// Products among the whole filtered list filed directly under the category.
    pub count: u64,
}

#[ComplexObject]
impl CategoryFacet {
    /// The category.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let loader = ctx.data::<DataLoader<CategoryLoader>>()?;
        Ok(loader.load_one(self.category_id).await?.map(Category))
    }
}

/// The values of one attribute across the filtered list.
#[derive(SimpleObject, Clone, Debug)]
pub struct AttributeFacet {
    /// Attribute name.
    pub name: String,
    /// Its values with counts, alphabetically.
    pub values: Vec<FacetValue>,
}

/// Lowest and highest price in the filtered list.
#[derive(SimpleObject, Clone, Debug)]
pub struct PriceRangeFacet {
    /// Lowest "from" price.
    pub min: MoneyObject,
    /// Highest "from" price.
    pub max: MoneyObject,
}

/// Counts that let a client build filter menus, computed over the whole filtered list.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductFacets {
    /// Brands, alphabetically.
    pub brands: Vec<FacetValue>,
    /// Categories with products in the list.
    pub categories: Vec<CategoryFacet>,
    /// Attributes and their values.
    pub attributes: Vec<AttributeFacet>,
    /// Price span; null when nothing matched.
    pub price_range: Option<PriceRangeFacet>,
}

/// Fields of a product list beyond its edges.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductListInfo {
    /// How many products match the filter in all.
    pub total_count: u64,
    /// Facet counts for the filter.
    pub facets: ProductFacets,
}
