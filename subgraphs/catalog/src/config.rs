//! Settings of the catalog service (see `shop_kernel::config` for how they are loaded).

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{CacheConfig, Common, DatabaseConfig, Problems, ServiceConfig, Settings},
};

/// Catalog settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// `listen`. Default `0.0.0.0:4002`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `mongodb://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/catalog.db?mode=rwc`); `max_connections` of the SQL pool (default 8).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// MongoDB database name. Default `catalog`.
    pub mongo_database: String,
    /// `redis_url` for a shared cache (unset: in process) and `key_prefix` (default `shop:`).
    #[serde(flatten)]
    pub cache: CacheConfig,
    /// How long cached products and lists live, in seconds. Default 300.
    pub cache_ttl_secs: u64,
    /// How access tokens are verified (admin mutations need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4002),
            database: DatabaseConfig::embedded("catalog.db", 8),
            mongo_database: "catalog".into(),
            cache: CacheConfig::in_process("shop:"),
            cache_ttl_secs: 300,
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for CatalogConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            mongo_database: Some(&mut self.mongo_database),
            cache: Some(&mut self.cache),
            auth: Some(&mut self.auth),
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        problems.within("cache_ttl_secs", self.cache_ttl_secs, 1..=7 * 24 * 3600);
    }
}
