//! Settings of the reviews service (see `shop_kernel::config` for how they are loaded:
//! `config/reviews.yaml`, then `REVIEWS__*` variables, e.g. `REVIEWS__DATABASE_URL`).

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{BusConfig, Common, DatabaseConfig, ServiceConfig, Settings},
};

/// Reviews settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewsConfig {
    /// `listen`. Default `0.0.0.0:4008`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `mongodb://…` (or `mongodb+srv://…`) in production; anything else is
    /// a sea-orm URL, `sqlite://…` when embedded (default
    /// `sqlite://data/reviews.db?mode=rwc`; `postgres://…` works too); `max_connections`
    /// (default 16).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// MongoDB database name. Default `reviews`.
    pub mongo_database: String,
    /// `amqp_url`, `exchange` and `queue_prefix` of the broker purchases come from.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// How access tokens are verified (moderation needs the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4008),
            database: DatabaseConfig::embedded("reviews.db", 16),
            mongo_database: "reviews".into(),
            bus: BusConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for ReviewsConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            mongo_database: Some(&mut self.mongo_database),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            ..Common::new(&mut self.service)
        }
    }
}
