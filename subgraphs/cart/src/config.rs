//! Settings of the cart service (see `shop_kernel::config` for how they are loaded).

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

/// Cart settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CartConfig {
    /// Address to serve on. Default `0.0.0.0:4004`.
    pub listen: String,
    /// `redis://…` to keep carts in Redis; unset keeps them in process memory. Default unset.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key. Default `shop:cart:`.
    pub key_prefix: String,
    /// How long a cart lives after its last change, in seconds. Default 604800 (7 days).
    pub idle_ttl_secs: u64,
    /// How access tokens are verified.
    pub auth: AuthConfig,
}

impl Default for CartConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4004".into(),
            redis_url: None,
            key_prefix: "shop:cart:".into(),
            idle_ttl_secs: 604_800,
            auth: AuthConfig::default(),
        }
    }
}
