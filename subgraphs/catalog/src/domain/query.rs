//! How product lists are asked for: filters, sort orders, pages and facet counts.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shop_kernel::Money;
use uuid::Uuid;

use super::product::{Product, tokenize};

/// At most this many words of a search are used; more only slow the query down.
pub const MAX_SEARCH_WORDS: usize = 8;

/// Products whose value of `name` is any of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttributeFilter {
    pub name: String,
    pub values: Vec<String>,
}

/// Inclusive price bounds in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PriceRange {
    pub min: Option<Money>,
    pub max: Option<Money>,
}

/// A validated, normalized product filter; every present part must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProductFilter {
    /// The category and its descendants; empty means every category.
    pub category_ids: Vec<Uuid>,
    /// Any of these brands (exact match); empty means every brand.
    pub brands: Vec<String>,
    pub price: Option<PriceRange>,
    /// For each name, any of its values; names are ANDed.
    pub attributes: Vec<AttributeFilter>,
    /// Lower-case words; each must prefix some keyword of the product.
    pub search_words: Vec<String>,
}

impl ProductFilter {
    /// Normalizes free-text search into words (lower-case, at most [`MAX_SEARCH_WORDS`]).
    pub fn search_words_of(text: &str) -> Vec<String> {
        let mut words: Vec<String> = tokenize(text).collect();
        words.truncate(MAX_SEARCH_WORDS * 4);
        // Order does not matter (every word must match); sorting gives stable cache keys.
        words.sort();
        words.dedup();
        words.truncate(MAX_SEARCH_WORDS);
        words
    }

    /// Normalizes attribute filters: lower-case, no empty value lists, sorted for stable cache keys.
    pub fn normalize_attributes(filters: Vec<AttributeFilter>) -> Vec<AttributeFilter> {
        let mut filters: Vec<AttributeFilter> = filters
            .into_iter()
            .map(|f| {
                let mut values: Vec<String> = f.values.iter().map(|v| v.trim().to_lowercase()).collect();
                values.sort();
                values.dedup();
                AttributeFilter { name: f.name.trim().to_lowercase(), values }
            })
            .filter(|f| !f.values.is_empty())
            .collect();
        filters.sort_by(|a, b| a.name.cmp(&b.name));
        filters
    }

    /// Whether `product` passes the filter (used by tests to check the stores).
    pub fn matches(&self, product: &Product) -> bool {
        let keywords = product.keywords();
        let pairs = product.attribute_pairs();
        (self.category_ids.is_empty() || self.category_ids.contains(&product.category_id))
            && (self.brands.is_empty() || self.brands.contains(&product.brand))
            && self.price.as_ref().is_none_or(|range| {
                range.min.is_none_or(|min| product.price.minor_units >= min.minor_units)
                    && range.max.is_none_or(|max| product.price.minor_units <= max.minor_units)
            })
            && self
                .attributes
                .iter()
                .all(|filter| pairs.iter().any(|pair| pair.name == filter.name && filter.values.contains(&pair.value)))
            && self.search_words.iter().all(|word| keywords.iter().any(|k| k.starts_with(word.as_str())))
    }
}

/// Orders of a product list; every order ends with the id so pages are stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProductSort {
    /// By name, A to Z.
    #[default]
    NameAsc,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Most recently created first.
    Newest,
}

/// How many listed products have a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// The values of one attribute across the listed products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeFacet {
    pub name: String,
    pub values: Vec<FacetValue>,
}

/// Counts over every product that matches a filter (not just the page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub total: u64,
    pub brands: Vec<FacetValue>,
    /// Category ids (as strings) with their product counts.
    pub categories: Vec<FacetValue>,
    pub attributes: Vec<AttributeFacet>,
    /// Lowest and highest price in minor units, when anything matched.
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    /// Currency of those prices (ISO code).
    pub currency: Option<String>,
}

impl Facets {
    /// Groups `(name, value, count)` rows into attribute facets, sorted by name then value.
    pub fn group_attributes(mut rows: Vec<(String, String, u64)>) -> Vec<AttributeFacet> {
        rows.sort();
        let mut facets: Vec<AttributeFacet> = Vec::new();
        for (name, value, count) in rows {
            match facets.last_mut() {
                Some(last) if last.name == name => last.values.push(FacetValue { value, count }),
                _ => facets.push(AttributeFacet { name, values: vec![FacetValue { value, count }] }),
            }
        }
        facets
    }
}

/// One page of products with the facets of the whole filtered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPage {
    /// Up to `limit + 1` products (the extra one tells that another page follows), shared
    /// so a cached page is served without copying.
    pub products: Vec<Arc<Product>>,
    pub facets: Facets,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_lower_case_and_bounded() {
        assert_eq!(ProductFilter::search_words_of("  Trail-RUNNER (v2) "), vec!["runner", "trail", "v2"]);
        assert_eq!(ProductFilter::search_words_of("wool cotton wool"), vec!["cotton", "wool"]);
        assert_eq!(ProductFilter::search_words_of(".*+?^$"), Vec::<String>::new());
        assert_eq!(ProductFilter::search_words_of(&"a ".repeat(50)).len(), 1);
        assert_eq!(ProductFilter::search_words_of("a b c d e f g h i j").len(), MAX_SEARCH_WORDS);
    }

    #[test]
    fn attribute_filters_normalize() {
        let filters = ProductFilter::normalize_attributes(vec![
            AttributeFilter { name: " Size ".into(), values: vec!["M".into(), "m".into(), "L".into()] },
            AttributeFilter { name: "colour".into(), values: vec![] },
        ]);
        assert_eq!(filters, vec![AttributeFilter { name: "size".into(), values: vec!["l".into(), "m".into()] }]);
    }

    #[test]
    fn attribute_rows_group_by_name() {
        let facets = Facets::group_attributes(vec![
            ("colour".into(), "black".into(), 3),
            ("colour".into(), "red".into(), 1),
            ("size".into(), "m".into(), 2),
        ]);
        assert_eq!(facets.len(), 2);
        assert_eq!(facets[0].values.len(), 2);
    }
}
