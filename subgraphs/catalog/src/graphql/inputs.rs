//! Input types of the catalog schema and their parsing into domain values.

use async_graphql::{Enum, ID, InputObject};
use shop_kernel::money::{MoneyError, MoneyInput};

use super::entities::parse_id;
use crate::{
    domain::{self, AttributeFilter, PriceRange, ProductSort},
    error::CatalogError,
};

/// Orders of a product list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ProductSortKey {
    /// By name, A to Z.
    #[default]
    NameAsc,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Newest first.
    Newest,
}

impl From<ProductSortKey> for ProductSort {
    fn from(key: ProductSortKey) -> Self {
        match key {
            ProductSortKey::NameAsc => Self::NameAsc,
            ProductSortKey::PriceAsc => Self::PriceAsc,
            ProductSortKey::PriceDesc => Self::PriceDesc,
            ProductSortKey::Newest => Self::Newest,
        }
    }
}

/// Products whose attribute `name` has any of `values`.
#[derive(InputObject, Clone, Debug)]
pub struct AttributeFilterInput {
    /// Attribute name, e.g. `colour` (case-insensitive).
    pub name: String,
    /// Accepted values (any of them), e.g. `["black", "navy"]`.
    pub values: Vec<String>,
}

/// Inclusive price bounds; both in the same currency.
#[derive(InputObject, Clone, Debug)]
pub struct PriceRangeInput {
    /// Lowest price, inclusive.
    pub min: Option<MoneyInput>,
    /// Highest price, inclusive.
    pub max: Option<MoneyInput>,
}

/// Narrows a product list; every given part must match.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ProductFilterInput {
    /// Only this category and the categories below it.
    pub category_id: Option<ID>,
    /// Only these brands (exact names).
    pub brands: Option<Vec<String>>,
    /// Only prices within this range.
    pub price_range: Option<PriceRangeInput>,
    /// Only products with these attribute values (names ANDed, values ORed).
    pub attributes: Option<Vec<AttributeFilterInput>>,
    /// Words to find in name, brand, description and attribute values (prefix match).
    pub search: Option<String>,
}

fn money_error(field: &str, error: &MoneyError) -> CatalogError {
    CatalogError::BadInput(format!("`{field}`: {error}"))
}

impl ProductFilterInput {
    /// Validates everything but the category (resolved against the tree by the caller).
    pub fn parse(&self) -> Result<domain::ProductFilter, CatalogError> {
        if self.brands.as_ref().is_some_and(|b| b.len() > 50) {
            return Err(CatalogError::BadInput("at most 50 brands".into()));
        }
        let attributes = self.attributes.clone().unwrap_or_default();
        if attributes.len() > 20 || attributes.iter().any(|a| a.values.len() > 50) {
            return Err(CatalogError::BadInput("at most 20 attribute filters of 50 values each".into()));
        }
        if self.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            return Err(CatalogError::BadInput("`search` must be at most 200 characters".into()));
        }
        let price = match &self.price_range {
            Some(range) => {
                let min = range
                    .min
                    .as_ref()
                    .map(MoneyInput::parse)
                    .transpose()
                    .map_err(|e| money_error("priceRange.min", &e))?;
                let max = range
                    .max
                    .as_ref()
                    .map(MoneyInput::parse)
                    .transpose()
                    .map_err(|e| money_error("priceRange.max", &e))?;
                if let (Some(min), Some(max)) = (min, max) {
                    if min.currency != max.currency {
                        return Err(CatalogError::BadInput("`priceRange` bounds must share a currency".into()));
                    }
                    if min.minor_units > max.minor_units {
                        return Err(CatalogError::BadInput("`priceRange.min` must not exceed `priceRange.max`".into()));
                    }
                }
                Some(PriceRange { min, max })
            }
            None => None,
        };
        let mut brands: Vec<String> =
            self.brands.clone().unwrap_or_default().into_iter().map(|b| b.trim().to_owned()).collect();
        brands.sort();
        brands.dedup();
        Ok(domain::ProductFilter {
            category_ids: Vec::new(),
            brands,
            price,
            attributes: domain::ProductFilter::normalize_attributes(
                attributes.into_iter().map(|a| AttributeFilter { name: a.name, values: a.values }).collect(),
            ),
            search_words: self.search.as_deref().map(domain::ProductFilter::search_words_of).unwrap_or_default(),
        })
    }

    /// The category id, if given, validated.
    pub fn category_id(&self) -> Result<Option<uuid::Uuid>, CatalogError> {
        self.category_id.as_ref().map(|id| parse_id(id, "filter.categoryId")).transpose()
    }
}

/// A named property to set on a product or variant.
#[derive(InputObject, Clone, Debug)]
pub struct AttributeInput {
    /// Property name (stored lower-case).
    pub name: String,
    /// Property value (stored lower-case).
    pub value: String,
}

/// A product picture to set.
#[derive(InputObject, Clone, Debug)]
pub struct ImageInput {
    /// An http(s) URL.
    pub url: String,
    /// Text alternative.
    #[graphql(default)]
    pub alt: String,
}

/// A variant to set on a product.
#[derive(InputObject, Clone, Debug)]
pub struct VariantInput {
    /// Unique SKU: 1-32 of A-Z, 0-9 and hyphens.
    pub sku: String,
    /// What distinguishes it, e.g. "Black / M".
    pub name: String,
    /// Unit price; all variants of a product share a currency.
    pub price: MoneyInput,
    /// Properties particular to this variant.
    #[graphql(default)]
    pub attributes: Vec<AttributeInput>,
}

/// A new product.
#[derive(InputObject, Clone, Debug)]
pub struct ProductCreateInput {
    /// URL-friendly unique name (lower-case words joined by hyphens).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Plain-text description.
    #[graphql(default)]
    pub description: String,
    /// Maker or label.
    pub brand: String,
    /// The category to file it under.
    pub category_id: ID,
    /// Pictures.
    #[graphql(default)]
    pub images: Vec<ImageInput>,
    /// Properties shared by every variant.
    #[graphql(default)]
    pub attributes: Vec<AttributeInput>,
    /// At least one purchasable variant.
    pub variants: Vec<VariantInput>,
}

/// Changes to a product; omitted fields stay as they are.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ProductUpdateInput {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New brand.
    pub brand: Option<String>,
    /// New category.
    pub category_id: Option<ID>,
    /// Replacement pictures.
    pub images: Option<Vec<ImageInput>>,
    /// Replacement product attributes.
    pub attributes: Option<Vec<AttributeInput>>,
    /// Replacement variants.
    pub variants: Option<Vec<VariantInput>>,
}

/// Converts input attributes.
pub fn attributes(input: Vec<AttributeInput>) -> Vec<domain::Attribute> {
    input.into_iter().map(|a| domain::Attribute { name: a.name, value: a.value }).collect()
}

/// Converts input images.
pub fn images(input: Vec<ImageInput>) -> Vec<domain::Image> {
    input.into_iter().map(|i| domain::Image { url: i.url, alt: i.alt }).collect()
}

/// Converts input variants; a malformed price is reported against its variant.
pub fn variants(input: Vec<VariantInput>) -> Result<Vec<domain::Variant>, (Vec<String>, String)> {
    input
        .into_iter()
        .map(|v| {
            let price = v.price.parse().map_err(|e| (vec!["variants".into(), "price".into()], e.to_string()))?;
            Ok(domain::Variant { sku: v.sku, name: v.name, price, attributes: attributes(v.attributes) })
        })
        .collect()
}
