//! Settings of the inventory service (see `shop_kernel::config` for how they are loaded).

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

/// Inventory settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InventoryConfig {
    /// Address to serve on. Default `0.0.0.0:4003`.
    pub listen: String,
    /// `postgres://…` for production, `sqlite://…` for embedded.
    /// Default `sqlite://data/inventory.db?mode=rwc`.
    pub database_url: String,
    /// Pool size. Default 16.
    pub max_connections: u32,
    /// How long a reservation holds stock before the sweeper releases it, in seconds.
    /// Default 900 (15 minutes).
    pub reservation_ttl_secs: u64,
    /// How often the sweeper looks for expired reservations, in seconds. Default 30.
    pub sweep_interval_secs: u64,
    /// RabbitMQ URL (`amqp://…`) of the saga's broker; required when the service runs on its
    /// own (the embedded launcher hands it an in-process bus instead).
    pub amqp_url: Option<String>,
    /// Topic exchange of the saga. Default `shop.events`.
    pub exchange: String,
    /// Prefix of exchange and queue names (lets tests share one broker). Default empty.
    pub queue_prefix: String,
    /// How access tokens are verified (admin operations need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4003".into(),
            database_url: "sqlite://data/inventory.db?mode=rwc".into(),
            max_connections: 16,
            reservation_ttl_secs: 900,
            sweep_interval_secs: 30,
            amqp_url: None,
            exchange: "shop.events".into(),
            queue_prefix: String::new(),
            auth: AuthConfig::default(),
        }
    }
}
