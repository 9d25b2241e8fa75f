//! Settings of the inventory service (see `shop_kernel::config` for how they are loaded).

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{BusConfig, Common, DatabaseConfig, Problems, ServiceConfig, Settings},
};

/// Inventory settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryConfig {
    /// `listen`. Default `0.0.0.0:4003`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `postgres://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/inventory.db?mode=rwc`); `max_connections` (default 16).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// How long a reservation holds stock before the sweeper releases it, in seconds.
    /// Default 900 (15 minutes).
    pub reservation_ttl_secs: u64,
    /// How often the sweeper looks for expired reservations, in seconds. Default 30.
    pub sweep_interval_secs: u64,
    /// `amqp_url`, `exchange` and `queue_prefix` of the saga's broker.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// How access tokens are verified (admin operations need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4003),
            database: DatabaseConfig::embedded("inventory.db", 16),
            reservation_ttl_secs: 900,
            sweep_interval_secs: 30,
            bus: BusConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for InventoryConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        problems.within("reservation_ttl_secs", self.reservation_ttl_secs, 1..=7 * 24 * 3600);
        problems.within("sweep_interval_secs", self.sweep_interval_secs, 1..=3600);
    }
}
