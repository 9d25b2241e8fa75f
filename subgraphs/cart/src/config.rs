//! Settings of the cart service (see `shop_kernel::config` for how they are loaded).

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{BusConfig, CacheConfig, Common, Problems, ServiceConfig, Settings},
};

/// Cart settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartConfig {
    /// `listen`. Default `0.0.0.0:4004`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `redis_url` to keep carts in Redis (unset: in process memory) and `key_prefix`
    /// (default `shop:cart:`).
    #[serde(flatten)]
    pub cache: CacheConfig,
    /// How long a cart lives after its last change, in seconds. Default 604800 (7 days).
    pub idle_ttl_secs: u64,
    /// `amqp_url`, `exchange`, `queue_prefix`: where orders placed from a cart arrive.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// How access tokens are verified.
    pub auth: AuthConfig,
}

impl Default for CartConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4004),
            cache: CacheConfig::in_process("shop:cart:"),
            idle_ttl_secs: 604_800,
            bus: BusConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for CartConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            cache: Some(&mut self.cache),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        problems.within("idle_ttl_secs", self.idle_ttl_secs, 60..=365 * 24 * 3600);
    }
}
