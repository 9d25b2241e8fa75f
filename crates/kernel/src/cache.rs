//! A key-value cache with expiry: Redis in production, in process memory when embedded.
//!
//! Values are opaque strings (services serialize their own types); both adapters pass the
//! same contract tests. Keys are namespaced by a prefix so tests and tenants never collide.

use std::{sync::Arc, time::Duration};

use moka::{Expiry, future::Cache};

/// A cache operation that failed; callers treat a failing cache as a miss and go to the store.
#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(#[from] redis::RedisError);

/// The operations services need from a cache.
#[async_trait::async_trait]
pub trait KvCache: Send + Sync + 'static {
    /// The values of `keys`, in order; `None` for a missing or expired key.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, CacheError>;
    /// Stores each pair with the given time to live.
    async fn set_many(&self, entries: &[(String, String)], ttl: Duration) -> Result<(), CacheError>;
    /// Removes `keys`.
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError>;
    /// Increments the counter at `key` (starting from 0) and returns the new value.
    async fn incr(&self, key: &str) -> Result<i64, CacheError>;
    /// Increments the counter at `key` and (re)starts its expiry at `window`, so the counter
    /// lapses `window` after its last increment. For throttling repeated failures.
    async fn incr_within(&self, key: &str, window: Duration) -> Result<i64, CacheError>;
    /// Whether the cache answers.
    async fn ping(&self) -> Result<(), CacheError>;
}

/// Redis through a multiplexed, self-reconnecting connection.
#[derive(Clone)]
pub struct RedisCache {
    connection: redis::aio::ConnectionManager,
}

impl RedisCache {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`).
    pub async fn connect(url: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        let connection = redis::aio::ConnectionManager::new(client).await?;
        Ok(Self { connection })
    }
}

#[async_trait::async_trait]
impl KvCache for RedisCache {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection.clone();
        Ok(redis::cmd("MGET").arg(keys).query_async(&mut connection).await?)
    }

    async fn set_many(&self, entries: &[(String, String)], ttl: Duration) -> Result<(), CacheError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        for (key, value) in entries {
            pipe.cmd("SET").arg(key).arg(value).arg("PX").arg(millis).ignore();
        }
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection).await?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        redis::cmd("DEL").arg(keys).query_async::<()>(&mut connection).await?;
        Ok(())
    }

    async fn incr(&self, key: &str) -> Result<i64, CacheError> {
        let mut connection = self.connection.clone();
        Ok(redis::cmd("INCR").arg(key).query_async(&mut connection).await?)
    }

    async fn incr_within(&self, key: &str, window: Duration) -> Result<i64, CacheError> {
        let mut connection = self.connection.clone();
        let (count,): (i64,) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(key)
            .cmd("PEXPIRE")
            .arg(key)
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(count)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING").query_async::<String>(&mut connection).await?;
        Ok(())
    }
}

#[derive(Clone)]
struct Entry {
    value: Arc<str>,
    ttl: Option<Duration>,
}

struct EntryExpiry;

impl Expiry<String, Entry> for EntryExpiry {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: std::time::Instant) -> Option<Duration> {
        entry.ttl
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _now: std::time::Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        entry.ttl
    }
}

/// The embedded twin of [`RedisCache`]: bounded, per-entry expiry, process-local.
#[derive(Clone)]
pub struct MemoryCache {
    entries: Cache<String, Entry>,
}

impl MemoryCache {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: u64) -> Self {
        Self { entries: Cache::builder().max_capacity(capacity).expire_after(EntryExpiry).build() }
    }
}

#[async_trait::async_trait]
impl KvCache for MemoryCache {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, CacheError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.entries.get(key).await.map(|entry| entry.value.to_string()));
        }
        Ok(values)
    }

    async fn set_many(&self, entries: &[(String, String)], ttl: Duration) -> Result<(), CacheError> {
        for (key, value) in entries {
            self.entries.insert(key.clone(), Entry { value: Arc::from(value.as_str()), ttl: Some(ttl) }).await;
        }
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        for key in keys {
            self.entries.invalidate(key).await;
        }
        Ok(())
    }

    async fn incr(&self, key: &str) -> Result<i64, CacheError> {
        self.increment(key, None).await
    }

    async fn incr_within(&self, key: &str, window: Duration) -> Result<i64, CacheError> {
        self.increment(key, Some(window)).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

impl MemoryCache {
    async fn increment(&self, key: &str, ttl: Option<Duration>) -> Result<i64, CacheError> {
        // `and_compute_with` makes read-modify-write atomic per key, like Redis INCR.
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let next = current
                    .and_then(|entry| entry.into_value().value.parse::<i64>().ok())
                    .unwrap_or(0)
                    .saturating_add(1);
                std::future::ready(moka::ops::compute::Op::Put(Entry { value: Arc::from(next.to_string()), ttl }))
            })
            .await;
        Ok(result.into_entry().and_then(|entry| entry.into_value().value.parse().ok()).unwrap_or(0))
    }
}
