//! Settings of the catalog service (see `shop_kernel::config` for how they are loaded).

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

/// Catalog settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CatalogConfig {
    /// Address to serve on. Default `0.0.0.0:4002`.
    pub listen: String,
    /// `mongodb://…` for production, `sqlite://…` for embedded.
    /// Default `sqlite://data/catalog.db?mode=rwc`.
    pub database_url: String,
    /// MongoDB database name. Default `catalog`.
    pub mongo_database: String,
    /// `redis://…` for a shared cache; unset means an in-process cache. Default unset.
    pub redis_url: Option<String>,
    /// Prefix of every cache key. Default `shop:`.
    pub cache_prefix: String,
    /// How long cached products and lists live, in seconds. Default 300.
    pub cache_ttl_secs: u64,
    /// How access tokens are verified (admin mutations need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4002".into(),
            database_url: "sqlite://data/catalog.db?mode=rwc".into(),
            mongo_database: "catalog".into(),
            redis_url: None,
            cache_prefix: "shop:".into(),
            cache_ttl_secs: 300,
            auth: AuthConfig::default(),
        }
    }
}
