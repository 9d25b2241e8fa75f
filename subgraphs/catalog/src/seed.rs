//! Loads the demo catalog (`seed/catalog.json`) idempotently: ids derive from slugs, so
//! seeding again replaces the same products instead of adding copies.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use shop_kernel::{CurrencyCode, Money};

use crate::{
    domain::{Attribute, Category, Image, NewProduct, Variant, product::id_for_slug},
    service::Catalog,
    store::StoreError,
};

/// The seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedCatalog {
    pub currency: CurrencyCode,
    pub categories: Vec<SeedCategory>,
    pub products: Vec<SeedProduct>,
}

/// A category of the seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedCategory {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A product of the seed file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedProduct {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub images: Vec<Image>,
    pub attributes: Vec<Attribute>,
    pub variants: Vec<SeedVariant>,
}

/// A variant of the seed file (`stock` belongs to inventory and is ignored here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedVariant {
    pub sku: String,
    pub name: String,
    pub price_minor: i64,
    pub attributes: Vec<Attribute>,
}

/// Why the seed could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file breaks a catalog rule.
    #[error("seed product `{slug}` is invalid: {reasons}")]
    Invalid { slug: String, reasons: String },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Fixed creation time of seeded data, so reseeding changes nothing.
fn seed_time() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// Writes every category and product of `seed`; returns how many products it wrote.
pub async fn apply(catalog: &Catalog, seed: &SeedCatalog) -> Result<usize, SeedError> {
    for category in &seed.categories {
        let category = Category {
            id: id_for_slug("category", &category.slug),
            slug: category.slug.clone(),
            name: category.name.clone(),
            description: category.description.clone(),
            parent_id: category.parent.as_deref().map(|p| id_for_slug("category", p)),
        };
        catalog.upsert_category(&category).await?;
    }
    for (position, item) in seed.products.iter().enumerate() {
        let new_product = NewProduct {
            slug: item.slug.clone(),
            name: item.name.clone(),
            description: item.description.clone(),
            brand: item.brand.clone(),
            category_id: id_for_slug("category", &item.category),
            images: item.images.clone(),
            attributes: item.attributes.clone(),
            variants: item
                .variants
                .iter()
                .map(|v| Variant {
                    sku: v.sku.clone(),
                    name: v.name.clone(),
                    price: Money::from_minor(v.price_minor, seed.currency),
                    attributes: v.attributes.clone(),
                })
                .collect(),
        };
        // Spread creation times so "newest first" has a meaningful order in the demo.
        let created = seed_time() + chrono::Duration::minutes(i64::try_from(position).unwrap_or(0));
        let product = new_product.into_product(created).map_err(|errors| SeedError::Invalid {
            slug: item.slug.clone(),
            reasons: errors
                .iter()
                .map(|e| format!("{}: {}", e.field.join("."), e.message))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        catalog.upsert(&product).await?;
    }
    Ok(seed.products.len())
}
