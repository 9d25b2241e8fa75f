//! Settings of the reviews service (see `shop_kernel::config` for how they are loaded:
//! `config/reviews.yaml`, then `REVIEWS__*` variables, e.g. `REVIEWS__DATABASE_URL`).

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

/// Reviews settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReviewsConfig {
    /// Address to serve on. Default `0.0.0.0:4008`.
    pub listen: String,
    /// `mongodb://…` (or `mongodb+srv://…`) for production; anything else is a sea-orm URL,
    /// `sqlite://…` when embedded (`postgres://…` works too).
    /// Default `sqlite://data/reviews.db?mode=rwc`.
    pub database_url: String,
    /// MongoDB database name. Default `reviews`.
    pub mongo_database: String,
    /// Pool size. Default 16.
    pub max_connections: u32,
    /// RabbitMQ, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`. Default none: the embedded
    /// launcher hands in its in-process bus (`from_parts`); `build` alone then uses a private
    /// in-process bus, which reaches no other service.
    pub amqp_url: Option<String>,
    /// The topic exchange of every message. Default `shop.events`.
    pub exchange: String,
    /// Prefix of exchange and queue names (tests use a random one). Default empty.
    pub queue_prefix: String,
    /// How access tokens are verified (moderation needs the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4008".into(),
            database_url: "sqlite://data/reviews.db?mode=rwc".into(),
            mongo_database: "reviews".into(),
            max_connections: 16,
            amqp_url: None,
            exchange: "shop.events".into(),
            queue_prefix: String::new(),
            auth: AuthConfig::default(),
        }
    }
}

/// Whether `url` names a MongoDB server (otherwise it is a sea-orm database URL).
pub fn is_mongo_url(url: &str) -> bool {
    url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")
}
