//! `_entities` for N keys costs one store query, whatever N (the DataLoader batches them).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_graphql::{Request, Variables};
use serde_json::json;
use shop_catalog::{
    CatalogConfig, CatalogService,
    domain::{Category, Product, ProductFilter, ProductPage, ProductSort, product::id_for_slug},
    store::{CatalogStore, StoreError},
};
use shop_kernel::{cache::MemoryCache, relay::PageRequest};
use uuid::Uuid;

/// Counts the lookups that reach the store.
struct CountingStore {
    inner: Arc<dyn CatalogStore>,
    by_ids: AtomicUsize,
    by_skus: AtomicUsize,
}

#[async_trait::async_trait]
impl CatalogStore for CountingStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        self.inner.prepare().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn products_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Product>, StoreError> {
        self.by_ids.fetch_add(1, Ordering::SeqCst);
        self.inner.products_by_ids(ids).await
    }
    async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>, StoreError> {
        self.inner.product_by_slug(slug).await
    }
    async fn products_by_skus(&self, skus: &[String]) -> Result<Vec<Product>, StoreError> {
        self.by_skus.fetch_add(1, Ordering::SeqCst);
        self.inner.products_by_skus(skus).await
    }
    async fn list(
        &self,
        filter: &ProductFilter,
        sort: ProductSort,
        page: PageRequest,
    ) -> Result<ProductPage, StoreError> {
        self.inner.list(filter, sort, page).await
    }
    async fn insert(&self, product: &Product) -> Result<(), StoreError> {
        self.inner.insert(product).await
    }
    async fn replace(&self, product: &Product, expected_version: i64) -> Result<(), StoreError> {
        self.inner.replace(product, expected_version).await
    }
    async fn upsert(&self, product: &Product) -> Result<(), StoreError> {
        self.inner.upsert(product).await
    }
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.inner.categories().await
    }
    async fn upsert_category(&self, category: &Category) -> Result<(), StoreError> {
        self.inner.upsert_category(category).await
    }
}

#[tokio::test]
async fn entity_lookups_are_one_store_query_per_kind() {
    let (inner, _guard) = crate::fresh_store(shop_testkit::Backend::Sqlite).await;
    let seed: shop_catalog::seed::SeedCatalog =
        serde_json::from_str(include_str!("../../../../seed/catalog.json")).unwrap();
    let counting = Arc::new(CountingStore { inner, by_ids: AtomicUsize::new(0), by_skus: AtomicUsize::new(0) });
    let service =
        CatalogService::from_parts(counting.clone(), Arc::new(MemoryCache::new(1_000)), &CatalogConfig::default());
    shop_catalog::seed::apply(&service.catalog, &seed).await.unwrap();

    let products: Vec<_> = seed.products.iter().take(30).map(|p| id_for_slug("product", &p.slug).to_string()).collect();
    let skus: Vec<_> = seed.products.iter().take(30).map(|p| p.variants[0].sku.clone()).collect();
    let mut representations: Vec<_> = products.iter().map(|id| json!({ "__typename": "Product", "id": id })).collect();
    representations.extend(skus.iter().map(|sku| json!({ "__typename": "ProductVariant", "sku": sku })));
    let query = r"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { id name } ... on ProductVariant { sku } } }";

    let before = (counting.by_ids.load(Ordering::SeqCst), counting.by_skus.load(Ordering::SeqCst));
    let response = service
        .schema
        .execute(Request::new(query).variables(Variables::from_json(json!({ "r": representations }))))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 60);
    for (entity, id) in entities.iter().zip(&products) {
        assert_eq!(entity["id"], json!(id), "results come back in representation order");
    }
    for (entity, sku) in entities[30..].iter().zip(&skus) {
        assert_eq!(entity["sku"], json!(sku));
    }
    let after = (counting.by_ids.load(Ordering::SeqCst), counting.by_skus.load(Ordering::SeqCst));
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "30 products and 30 variants: one store query each");

    // A second identical request is served by the cache: no store query at all for products.
    let response = service
        .schema
        .execute(Request::new(query).variables(Variables::from_json(json!({ "r": representations }))))
        .await;
    assert!(response.errors.is_empty());
    assert_eq!(counting.by_ids.load(Ordering::SeqCst), after.0, "cached products skip the store");
}
