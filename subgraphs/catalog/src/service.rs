//! The catalog's use cases: reads through a read-aside cache, writes that invalidate it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use shop_kernel::{cache::KvCache, relay::PageRequest};
use uuid::Uuid;

use crate::{
    domain::{Category, Product, ProductFilter, ProductPage, ProductSort},
    store::{CatalogStore, StoreError},
};

/// How long the generation counter lives without writes; far beyond any entry's ttl.
const GENERATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parsed list pages kept per process.
const PAGES_IN_PROCESS: u64 = 2_000;

/// The catalog: store plus cache.
pub struct Catalog {
    store: Arc<dyn CatalogStore>,
    cache: Arc<dyn KvCache>,
    /// Parsed pages of this process, keyed like the shared cache (so by generation too): a
    /// hit costs one shared-cache read (the generation) and no parsing.
    pages: moka::future::Cache<String, Arc<ProductPage>>,
    /// The category tree of this process, keyed by generation like `pages`.
    category_trees: moka::future::Cache<String, Arc<Vec<Category>>>,
    prefix: String,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Clone, Copy)]
enum CacheKind {
    Product,
    List,
    Categories,
}

impl CacheKind {
    const fn label(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::List => "list",
            Self::Categories => "categories",
        }
    }
}

impl Catalog {
    /// A catalog over `store`, caching in `cache` under `prefix` for `ttl`.
    pub fn new(store: Arc<dyn CatalogStore>, cache: Arc<dyn KvCache>, prefix: &str, ttl: Duration) -> Self {
        let pages = moka::future::Cache::builder().max_capacity(PAGES_IN_PROCESS).time_to_live(ttl).build();
        let category_trees = moka::future::Cache::builder().max_capacity(4).time_to_live(ttl).build();
        Self {
            store,
            cache,
            pages,
            category_trees,
            prefix: format!("{prefix}catalog:"),
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The store behind the cache.
    pub fn store(&self) -> &Arc<dyn CatalogStore> {
        &self.store
    }

    /// The cache in front of the store.
    pub fn cache(&self) -> &Arc<dyn KvCache> {
        &self.cache
    }

    fn record(&self, kind: CacheKind, hits: u64, misses: u64) {
        metrics::counter!("cache_requests_total", "service" => "catalog", "cache" => kind.label(), "result" => "hit")
            .increment(hits);
        metrics::counter!("cache_requests_total", "service" => "catalog", "cache" => kind.label(), "result" => "miss")
            .increment(misses);
        let hits = self.hits.fetch_add(hits, Ordering::Relaxed) + hits;
        let misses = self.misses.fetch_add(misses, Ordering::Relaxed) + misses;
        let total = hits + misses;
        if total > 0 {
            #[allow(clippy::cast_precision_loss)] // a ratio for a dashboard, not money
            let ratio = hits as f64 / total as f64;
            metrics::gauge!("cache_hit_ratio", "service" => "catalog").set(ratio);
        }
    }

    fn product_key(&self, generation: &str, id: Uuid) -> String {
        format!("{}product:{generation}:{id}", self.prefix)
    }

    fn generation_key(&self) -> String {
        format!("{}generation", self.prefix)
    }

    /// The current cache generation: every write moves to a new one, so nothing cached before
    /// a write is read after it. Keys embed the generation, which also closes the race where
    /// a reader caches what it read just before a concurrent write. `None` when the cache is
    /// unavailable (read the store).
    async fn generation(&self) -> Option<String> {
        match self.cache.get_many(&[self.generation_key()]).await {
            Ok(values) => match values.into_iter().next().flatten() {
                Some(generation) => Some(generation),
                // Missing (first start, or evicted): "0" could bring back lists cached under
                // an earlier "0".
                None => match self.start_fresh_generation().await {
                    Ok(fresh) => Some(fresh),
                    Err(error) => {
                        tracing::warn!(%error, "cache write failed");
                        None
                    }
                },
            },
            Err(error) => {
                tracing::warn!(%error, "cache read failed; reading the store");
                None
            }
        }
    }

    /// Products by id through the cache, in the order of `ids`; unknown ids are `None`.
    pub async fn products_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Option<Product>>, StoreError> {
        let Some(generation) = self.generation().await else {
            let loaded = self.store.products_by_ids(ids).await?;
            return Ok(ids.iter().map(|id| loaded.iter().find(|p| p.id == *id).cloned()).collect());
        };
        let keys: Vec<String> = ids.iter().map(|id| self.product_key(&generation, *id)).collect();
        let cached = self.cache.get_many(&keys).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "cache read failed; reading the store");
            vec![None; keys.len()]
        });
        let mut found: Vec<Option<Product>> =
            cached.iter().map(|v| v.as_deref().and_then(|json| serde_json::from_str(json).ok())).collect();
        let missing: Vec<Uuid> = ids.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(id, _)| *id).collect();
        let hits = u64::try_from(ids.len() - missing.len()).unwrap_or(0);
        self.record(CacheKind::Product, hits, u64::try_from(missing.len()).unwrap_or(0));
        if missing.is_empty() {
            return Ok(found);
        }
        let loaded = self.store.products_by_ids(&missing).await?;
        let entries: Vec<(String, String)> = loaded
            .iter()
            .filter_map(|p| Some((self.product_key(&generation, p.id), serde_json::to_string(p).ok()?)))
            .collect();
        if let Err(error) = self.cache.set_many(&entries, self.ttl).await {
            tracing::warn!(%error, "cache write failed");
        }
        for (slot, id) in found.iter_mut().zip(ids) {
            if slot.is_none() {
                *slot = loaded.iter().find(|p| p.id == *id).cloned();
            }
        }
        Ok(found)
    }

    /// A product by slug.
    pub async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>, StoreError> {
        self.store.product_by_slug(slug).await
    }

    /// Products holding `skus` (any order).
    pub async fn products_by_skus(&self, skus: &[String]) -> Result<Vec<Product>, StoreError> {
        self.store.products_by_skus(skus).await
    }

    /// A page of products with facets, cached per (filter, sort, page) until the next write.
    pub async fn list(
        &self,
        filter: &ProductFilter,
        sort: ProductSort,
        page: PageRequest,
    ) -> Result<Arc<ProductPage>, StoreError> {
        let Some(generation) = self.generation().await else {
            return self.store.list(filter, sort, page).await.map(Arc::new);
        };
        let fingerprint = serde_json::to_vec(&(filter, sort, page.offset, page.limit)).unwrap_or_default();
        let digest = Sha256::digest(&fingerprint);
        let key = format!("{}list:{generation}:{digest:x}", self.prefix);
        self.read_through(&self.pages, key, CacheKind::List, self.store.list(filter, sort, page)).await
    }

    /// The category tree, flat, cached until the next write (every filtered list needs it).
    pub async fn categories(&self) -> Result<Arc<Vec<Category>>, StoreError> {
        let Some(generation) = self.generation().await else {
            return self.store.categories().await.map(Arc::new);
        };
        let key = format!("{}categories:{generation}", self.prefix);
        self.read_through(&self.category_trees, key, CacheKind::Categories, self.store.categories()).await
    }

    /// Reads `key` from this process's cache, then the shared cache, then `load` (filling
    /// both on the way back).
    async fn read_through<T>(
        &self,
        local: &moka::future::Cache<String, Arc<T>>,
        key: String,
        kind: CacheKind,
        load: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<Arc<T>, StoreError>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        if let Some(value) = local.get(&key).await {
            self.record(kind, 1, 0);
            return Ok(value);
        }
        let shared = self
            .cache
            .get_many(std::slice::from_ref(&key))
            .await
            .ok()
            .and_then(|values| values.into_iter().next().flatten());
        if let Some(value) = shared.and_then(|json| serde_json::from_str::<T>(&json).ok()) {
            self.record(kind, 1, 0);
            let value = Arc::new(value);
            local.insert(key, value.clone()).await;
            return Ok(value);
        }
        self.record(kind, 0, 1);
        let value = Arc::new(load.await?);
        let stored = match serde_json::to_string(&*value) {
            Ok(json) => self.cache.set_many(&[(key.clone(), json)], self.ttl).await,
            Err(_) => Ok(()),
        };
        if let Err(error) = stored {
            tracing::warn!(%error, "cache write failed");
        }
        local.insert(key, value.clone()).await;
        Ok(value)
    }

    /// Inserts or replaces a category.
    pub async fn upsert_category(&self, category: &Category) -> Result<(), StoreError> {
        self.store.upsert_category(category).await?;
        self.invalidate().await;
        Ok(())
    }

    /// Sets the generation to one never used before (the clock, scaled so the increments of
    /// later writes cannot reach the next start) and returns it.
    async fn start_fresh_generation(&self) -> Result<String, shop_kernel::cache::CacheError> {
        let fresh = chrono::Utc::now().timestamp_micros().saturating_mul(1_000).to_string();
        self.cache.set_many(&[(self.generation_key(), fresh.clone())], GENERATION_TTL).await?;
        Ok(fresh)
    }

    /// Moves the cache to a new generation: every cached product and list is left behind.
    async fn invalidate(&self) {
        match self.cache.incr(&self.generation_key()).await {
            // The counter was missing (evicted): 1 may have been used before.
            Ok(1) => {
                if let Err(error) = self.start_fresh_generation().await {
                    tracing::error!(%error, "cache invalidation failed; stale reads until the ttl passes");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "cache invalidation failed; stale reads until the ttl passes"),
        }
    }

    /// Stores a new product.
    pub async fn create(&self, product: &Product) -> Result<(), StoreError> {
        self.store.insert(product).await?;
        self.invalidate().await;
        Ok(())
    }

    /// Replaces a product that is still at `expected_version`.
    pub async fn update(&self, product: &Product, expected_version: i64) -> Result<(), StoreError> {
        let result = self.store.replace(product, expected_version).await;
        // Invalidate even on failure: a concurrent writer may have changed it.
        self.invalidate().await;
        result
    }

    /// Seeds a product (insert or replace by id).
    pub async fn upsert(&self, product: &Product) -> Result<(), StoreError> {
        self.store.upsert(product).await?;
        self.invalidate().await;
        Ok(())
    }
}
