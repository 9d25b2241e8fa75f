//! Where products and categories live: a repository trait in catalog terms, with a MongoDB
//! adapter (production) and a sea-orm adapter (SQLite when embedded) that pass the same
//! contract tests.

pub mod mongo;
pub mod sql;

use shop_kernel::{relay::PageRequest, store::StoreFailure};
use uuid::Uuid;

use crate::domain::{Category, Product, ProductFilter, ProductPage, ProductSort};

/// A key no two products (or categories) may share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// A product's slug.
    Slug,
    /// A variant's SKU, unique across every product.
    Sku,
    /// A category's slug.
    CategorySlug,
    /// A product's id.
    Id,
}

impl std::fmt::Display for UniqueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Slug => "the slug",
            Self::Sku => "a SKU",
            Self::CategorySlug => "the category slug",
            Self::Id => "the id",
        })
    }
}

shop_kernel::coded_error! {
    /// Why a store operation failed.
    #[derive(Debug, thiserror::Error)]
    pub enum StoreError {
        /// A unique key is taken.
        #[error("{0} is already taken")]
        KeyTaken(UniqueKey) => Internal,
        /// The version the write was based on is not the stored one.
        #[error("the product was changed concurrently")]
        VersionMismatch => Internal,
        /// The store itself failed.
        #[error(transparent)]
        Failure(#[from] StoreFailure) => inner,
    }
}

/// The catalog's persistence.
#[async_trait::async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    /// Creates indexes/tables; safe to call on every start.
    async fn prepare(&self) -> Result<(), StoreError>;
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Products by id, in any order; unknown ids are absent.
    async fn products_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Product>, StoreError>;
    /// A product by slug.
    async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>, StoreError>;
    /// The products holding these SKUs, in any order.
    async fn products_by_skus(&self, skus: &[String]) -> Result<Vec<Product>, StoreError>;
    /// A page of active products matching `filter`, plus the facets of all matches.
    async fn list(
        &self,
        filter: &ProductFilter,
        sort: ProductSort,
        page: PageRequest,
    ) -> Result<ProductPage, StoreError>;

    /// Inserts a new product; `Conflict` if its slug or a SKU is taken.
    async fn insert(&self, product: &Product) -> Result<(), StoreError>;
    /// Replaces a product if its stored version is `expected_version`.
    async fn replace(&self, product: &Product, expected_version: i64) -> Result<(), StoreError>;
    /// Inserts or replaces by id (seeding).
    async fn upsert(&self, product: &Product) -> Result<(), StoreError>;

    /// Every category (the tree is small and read whole).
    async fn categories(&self) -> Result<Vec<Category>, StoreError>;
    /// Inserts or replaces a category by id.
    async fn upsert_category(&self, category: &Category) -> Result<(), StoreError>;
}
