//! The cache contract, run against Redis and against the in-process twin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use shop_kernel::cache::{KvCache, MemoryCache, RedisCache};
use shop_testkit as testing;

async fn contract(cache: &dyn KvCache) {
    let prefix = testing::unique_name("shoptest");
    let key = |k: &str| format!("{prefix}:{k}");
    cache.ping().await.unwrap();

    assert_eq!(cache.get_many(&[key("a"), key("b")]).await.unwrap(), vec![None, None]);
    cache.set_many(&[(key("a"), "1".into()), (key("b"), "two".into())], Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        cache.get_many(&[key("b"), key("missing"), key("a")]).await.unwrap(),
        vec![Some("two".into()), None, Some("1".into())]
    );
    assert_eq!(cache.get_many(&[]).await.unwrap(), Vec::<Option<String>>::new());

    cache.delete(&[key("a")]).await.unwrap();
    assert_eq!(cache.get_many(&[key("a"), key("b")]).await.unwrap(), vec![None, Some("two".into())]);

    assert_eq!(cache.incr(&key("counter")).await.unwrap(), 1);
    assert_eq!(cache.incr(&key("counter")).await.unwrap(), 2);

    let window = Duration::from_millis(300);
    assert_eq!(cache.incr_within(&key("failures"), window).await.unwrap(), 1);
    assert_eq!(cache.incr_within(&key("failures"), window).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(cache.incr_within(&key("failures"), window).await.unwrap(), 1, "a windowed counter lapses");

    cache.set_many(&[(key("short"), "x".into())], Duration::from_millis(150)).await.unwrap();
    assert_eq!(cache.get_many(&[key("short")]).await.unwrap(), vec![Some("x".into())]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get_many(&[key("short")]).await.unwrap(), vec![None], "entries expire after their ttl");
}

#[tokio::test]
async fn redis_cache_keeps_the_contract() {
    let cache = RedisCache::connect(&testing::redis_url()).await.expect("redis");
    contract(&cache).await;
}

#[tokio::test]
async fn memory_cache_keeps_the_contract() {
    contract(&MemoryCache::new(1_000)).await;
}

#[tokio::test]
async fn concurrent_increments_are_not_lost() {
    for cache in [
        Box::new(MemoryCache::new(100)) as Box<dyn KvCache>,
        Box::new(RedisCache::connect(&testing::redis_url()).await.unwrap()),
    ] {
        let cache: std::sync::Arc<dyn KvCache> = cache.into();
        let key = testing::unique_name("shoptest");
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                let key = key.clone();
                tokio::spawn(async move { cache.incr(&key).await.unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(cache.incr(&key).await.unwrap(), 51);
    }
}
