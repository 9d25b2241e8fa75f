//! Read operations of the catalog.

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Object, Result, connection::Connection, dataloader::DataLoader};
use shop_kernel::{
    CurrencyCode, Money,
    relay::{self, PageRequest},
};

use super::{
    entities::{EntityRoot, ProductLoader, parse_id},
    inputs::{ProductFilterInput, ProductSortKey},
    types::{
        AttributeFacet, Category, CategoryFacet, FacetValue, PriceRangeFacet, Product, ProductFacets, ProductListInfo,
    },
};
use crate::{
    domain::{self, product::category_subtree},
    error::{CatalogError, gql},
    service::Catalog,
};

/// A page of products with the total count and facets of the whole filtered list.
pub type ProductConnection = Connection<String, Product, ProductListInfo>;

/// Every category (flat), read once per request.
pub(super) async fn all_categories(ctx: &Context<'_>) -> Result<Arc<Vec<domain::Category>>> {
    ctx.data::<Arc<Catalog>>()?.categories().await.map_err(gql)
}

/// Catalog reads.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// One product by `id` or by `slug` (give exactly one). Archived products are returned
    /// by id (past orders refer to them) but not by slug.
    async fn product(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> Result<Option<Product>> {
        match (id, slug) {
            (Some(id), None) => {
                let id = parse_id(&id, "id").map_err(gql)?;
                Ok(ctx.data::<DataLoader<ProductLoader>>()?.load_one(id).await?.map(Product))
            }
            (None, Some(slug)) => {
                let product = ctx.data::<Arc<Catalog>>()?.product_by_slug(&slug).await.map_err(gql)?;
                Ok(product.filter(|p| p.status == domain::ProductStatus::Active).map(|p| Product(Arc::new(p))))
            }
            _ => Err(gql(CatalogError::BadInput("give exactly one of `id` and `slug`".into()))),
        }
    }

    /// Products for sale, filtered and sorted, as a Relay connection (at most 100 a page),
    /// with the total count and facet counts of the whole filtered list.
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        filter: Option<ProductFilterInput>,
        #[graphql(default)] sort: ProductSortKey,
    ) -> Result<ProductConnection> {
        let page = PageRequest::parse(first, after.as_deref()).map_err(gql)?;
        let filter_input = filter.unwrap_or_default();
        let mut filter = filter_input.parse().map_err(gql)?;
        let catalog = ctx.data::<Arc<Catalog>>()?;
        if let Some(category_id) = filter_input.category_id().map_err(gql)? {
            let categories = all_categories(ctx).await?;
            if !categories.iter().any(|c| c.id == category_id) {
                return Err(gql(CatalogError::BadInput("`filter.categoryId` names no category".into())));
            }
            filter.category_ids = category_subtree(&categories, category_id);
        }
        let result = catalog.list(&filter, sort.into(), page).await.map_err(gql)?;
        let facets = result.facets.clone();
        let currency = facets.currency.as_deref().and_then(CurrencyCode::parse);
        let price_range = match (facets.price_min, facets.price_max, currency) {
            (Some(min), Some(max), Some(currency)) => Some(PriceRangeFacet {
                min: Money::from_minor(min, currency).into(),
                max: Money::from_minor(max, currency).into(),
            }),
            _ => None,
        };
        let info = ProductListInfo {
            total_count: facets.total,
            facets: ProductFacets {
                brands: facets.brands.into_iter().map(|f| FacetValue { value: f.value, count: f.count }).collect(),
                categories: facets
                    .categories
                    .into_iter()
                    .filter_map(|f| Some(CategoryFacet { category_id: f.value.parse().ok()?, count: f.count }))
                    .collect(),
                attributes: facets
                    .attributes
                    .into_iter()
                    .map(|a| AttributeFacet {
                        name: a.name,
                        values: a.values.into_iter().map(|v| FacetValue { value: v.value, count: v.count }).collect(),
                    })
                    .collect(),
                price_range,
            },
        };
        let products = result.products.iter().cloned().map(Product).collect();
        Ok(relay::connection_from_rows(page, products, info))
    }

    /// Top-level categories; walk down with `children`.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        Ok(all_categories(ctx).await?.iter().filter(|c| c.parent_id.is_none()).cloned().map(Category).collect())
    }

    /// One category by `id` or `slug` (give exactly one).
    async fn category(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> Result<Option<Category>> {
        let categories = all_categories(ctx).await?;
        let found = match (id, slug) {
            (Some(id), None) => {
                let id = parse_id(&id, "id").map_err(gql)?;
                categories.iter().find(|c| c.id == id).cloned()
            }
            (None, Some(slug)) => categories.iter().find(|c| c.slug == slug).cloned(),
            _ => return Err(gql(CatalogError::BadInput("give exactly one of `id` and `slug`".into()))),
        };
        Ok(found.map(Category))
    }
}

/// The query root: catalog reads plus federation entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(CatalogQuery, EntityRoot);
