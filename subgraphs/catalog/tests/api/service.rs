//! The catalog service: a read-aside cache in front of the store, invalidated by writes.
//!
//! Each scenario runs with the in-process cache and with Redis. To show that a read really
//! came from the cache, the tests write to the store behind the catalog's back: a cached read
//! does not see that write, a read after a write through the catalog does.

use std::{sync::Arc, time::Duration};

use shop_catalog::{
    domain::{Product, ProductFilter, ProductSort},
    service::Catalog,
    store::StoreError,
};
use shop_kernel::{
    cache::{KvCache, MemoryCache, RedisCache},
    relay::PageRequest,
};
use shop_testkit::{Backend, TempDir};
use uuid::Uuid;

use crate::simple_product;

/// A catalog over a fresh SQLite store, caching in a fresh cache on `backend` (memory or
/// Redis) under a prefix no other test uses.
async fn fresh_catalog(backend: Backend) -> (Catalog, Option<TempDir>) {
    let (store, guard) = crate::fresh_store(Backend::Sqlite).await;
    let cache: Arc<dyn KvCache> = match backend {
        Backend::Memory => Arc::new(MemoryCache::new(1000)),
        Backend::Redis => Arc::new(RedisCache::connect(&shop_testkit::redis_url()).await.expect("connect to Redis")),
        other => panic!("the catalog does not cache in {other:?}"),
    };
    let prefix = format!("{}:", shop_testkit::unique_name("shoptest"));
    (Catalog::new(store, cache, &prefix, Duration::from_secs(60)), guard)
}

shop_testkit::on_backends!(
    [memory => Memory, redis => Redis],
    [
        products_by_ids_keep_the_order_of_the_ids,
        reads_after_an_update_see_the_new_version,
        lists_are_cached_until_a_create,
    ]
);

fn first_page() -> PageRequest {
    PageRequest::parse(Some(10), None).expect("a valid page")
}

async fn listed(catalog: &Catalog, sort: ProductSort) -> Vec<Product> {
    plain(&catalog.list(&ProductFilter::default(), sort, first_page()).await.expect("list").products)
}

/// The products of a page as plain values, to compare with fixtures.
fn plain(products: &[std::sync::Arc<Product>]) -> Vec<Product> {
    products.iter().map(|p| Product::clone(p)).collect()
}

/// `products_by_ids` answers in the order of the ids, with `None` for unknown ids, whether
/// the products come from the store, the cache or both.
async fn products_by_ids_keep_the_order_of_the_ids(backend: Backend) {
    let (catalog, _guard) = fresh_catalog(backend).await;
    let alpha = simple_product("alpha-mug", "Alpha Mug", 1000, 1);
    let birch = simple_product("birch-mug", "Birch Mug", 1100, 2);
    let cobalt = simple_product("cobalt-mug", "Cobalt Mug", 1200, 3);
    for product in [&alpha, &birch, &cobalt] {
        catalog.create(product).await.expect("create");
    }
    let unknown = Uuid::new_v4();

    // Only alpha is cached before the mixed read: hits and misses are merged in order.
    assert_eq!(catalog.products_by_ids(&[alpha.id]).await.unwrap(), vec![Some(alpha.clone())]);
    let ids = [cobalt.id, unknown, alpha.id, birch.id];
    let expected = vec![Some(cobalt.clone()), None, Some(alpha.clone()), Some(birch.clone())];
    assert_eq!(catalog.products_by_ids(&ids).await.unwrap(), expected, "partly cached");
    assert_eq!(catalog.products_by_ids(&ids).await.unwrap(), expected, "all cached");
    let reversed: Vec<Uuid> = ids.iter().rev().copied().collect();
    let expected_reversed: Vec<Option<Product>> = expected.iter().rev().cloned().collect();
    assert_eq!(catalog.products_by_ids(&reversed).await.unwrap(), expected_reversed);
    assert_eq!(
        catalog.products_by_ids(&[birch.id, birch.id]).await.unwrap(),
        vec![Some(birch.clone()), Some(birch.clone())],
        "a repeated id is answered twice"
    );
    assert_eq!(catalog.products_by_ids(&[]).await.unwrap(), Vec::<Option<Product>>::new());

    // An unknown id is not remembered as missing: once created, the product is found.
    let late = simple_product("late-mug", "Late Mug", 1300, 4);
    assert_eq!(catalog.products_by_ids(&[late.id]).await.unwrap(), vec![None]);
    catalog.create(&late).await.expect("create late");
    assert_eq!(catalog.products_by_ids(&[late.id, alpha.id]).await.unwrap(), vec![Some(late), Some(alpha)]);
}

/// By-id reads and lists are cached, and an update through the catalog invalidates both.
async fn reads_after_an_update_see_the_new_version(backend: Backend) {
    let (catalog, _guard) = fresh_catalog(backend).await;
    let original = simple_product("steel-bottle", "Steel Bottle", 2500, 1);
    catalog.create(&original).await.expect("create");

    // Warm both caches.
    assert_eq!(catalog.products_by_ids(&[original.id]).await.unwrap(), vec![Some(original.clone())]);
    assert_eq!(listed(&catalog, ProductSort::NameAsc).await, vec![original.clone()]);

    // A write behind the catalog's back is not seen: both reads come from the cache.
    let mut behind = original.clone();
    behind.name = "Steel Bottle (written behind the cache)".into();
    behind.version = 2;
    catalog.store().replace(&behind, 1).await.expect("replace in the store");
    assert_eq!(catalog.products_by_ids(&[original.id]).await.unwrap(), vec![Some(original.clone())], "by id: cached");
    assert_eq!(listed(&catalog, ProductSort::NameAsc).await, vec![original.clone()], "list: cached");

    // A write through the catalog is seen by both.
    let mut updated = behind.clone();
    updated.name = "Steel Bottle 750".into();
    updated.version = 3;
    catalog.update(&updated, 2).await.expect("update");
    assert_eq!(
        catalog.products_by_ids(&[original.id]).await.unwrap(),
        vec![Some(updated.clone())],
        "by id after update"
    );
    assert_eq!(listed(&catalog, ProductSort::NameAsc).await, vec![updated.clone()], "list after update");
    assert_eq!(
        catalog.products_by_ids(&[original.id]).await.unwrap(),
        vec![Some(updated.clone())],
        "the fresh copy is cached again"
    );

    // A refused update changes nothing.
    let mut stale = updated.clone();
    stale.name = "Lost Update".into();
    stale.version = 4;
    let result = catalog.update(&stale, 1).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "stale update: {result:?}");
    assert_eq!(catalog.products_by_ids(&[original.id]).await.unwrap(), vec![Some(updated.clone())]);
    assert_eq!(listed(&catalog, ProductSort::NameAsc).await, vec![updated.clone()]);

    // Upserts invalidate too.
    let mut upserted = updated.clone();
    upserted.name = "Steel Bottle 1 l".into();
    upserted.version = 4;
    catalog.upsert(&upserted).await.expect("upsert");
    assert_eq!(catalog.products_by_ids(&[original.id]).await.unwrap(), vec![Some(upserted.clone())]);
    assert_eq!(listed(&catalog, ProductSort::NameAsc).await, vec![upserted]);
}

/// The same list twice is the same page (the second from the cache); a create through the
/// catalog starts a new generation, so the new product shows up.
async fn lists_are_cached_until_a_create(backend: Backend) {
    let (catalog, _guard) = fresh_catalog(backend).await;
    let alpha = simple_product("alpha-mug", "Alpha Mug", 1000, 1);
    let birch = simple_product("birch-mug", "Birch Mug", 1100, 2);
    catalog.create(&alpha).await.expect("create alpha");
    catalog.create(&birch).await.expect("create birch");

    let everything = ProductFilter::default();
    let first = catalog.list(&everything, ProductSort::NameAsc, first_page()).await.expect("first list");
    let second = catalog.list(&everything, ProductSort::NameAsc, first_page()).await.expect("second list");
    assert_eq!(first, second);
    assert_eq!(plain(&first.products), vec![alpha.clone(), birch.clone()]);
    assert_eq!(first.facets.total, 2);

    // Written behind the catalog's back: the cached page does not show it...
    let hidden = simple_product("hidden-mug", "Hidden Mug", 900, 3);
    catalog.store().insert(&hidden).await.expect("insert in the store");
    assert_eq!(
        catalog.list(&everything, ProductSort::NameAsc, first_page()).await.expect("cached list"),
        first,
        "the second read of a list comes from the cache"
    );
    // ...but another sort is another cache entry, read from the store.
    assert_eq!(listed(&catalog, ProductSort::PriceAsc).await, vec![hidden.clone(), alpha.clone(), birch.clone()]);

    // A create through the catalog invalidates every cached list.
    let cobalt = simple_product("cobalt-mug", "Cobalt Mug", 1200, 4);
    catalog.create(&cobalt).await.expect("create cobalt");
    let after = catalog.list(&everything, ProductSort::NameAsc, first_page()).await.expect("list after create");
    assert_eq!(plain(&after.products), vec![alpha.clone(), birch.clone(), cobalt.clone(), hidden.clone()]);
    assert_eq!(after.facets.total, 4);
    assert_eq!(listed(&catalog, ProductSort::PriceAsc).await, vec![hidden, alpha, birch, cobalt]);
}
