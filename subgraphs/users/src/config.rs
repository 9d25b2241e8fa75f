//! Settings of the users service (see `shop_kernel::config` for how they are loaded).

use serde::{Deserialize, Serialize};
use shop_kernel::config::{
    BusConfig, CacheConfig, Common, DatabaseConfig, Problems, ServiceConfig, Settings, TokenKeys, data_path,
};

/// Users settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersConfig {
    /// `listen`. Default `0.0.0.0:4001`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `mongodb://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/users.db?mode=rwc`); `max_connections` of the SQL pool (default 8).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// MongoDB database name. Default `users`.
    pub mongo_database: String,
    /// `redis_url` for login-failure counters shared by replicas (unset: in process) and
    /// `key_prefix` (default `shop:users:`).
    #[serde(flatten)]
    pub cache: CacheConfig,
    /// PKCS#8 PEM file of the Ed25519 key that signs access tokens.
    /// Default `data/users-signing-key.pem`.
    pub signing_key_file: String,
    /// Whether to generate `signing_key_file` when it is missing (development). Default true;
    /// set false in production so a missing key is a startup error.
    pub generate_signing_key: bool,
    /// Keys being rotated out: still published in the JWKS, no longer signing. Default none.
    // An empty list does not survive the layered defaults; absent means none.
    #[serde(default)]
    pub previous_key_files: Vec<String>,
    /// `iss` of access tokens. Default `shop-users`.
    pub issuer: String,
    /// `aud` of access tokens. Default `shop`.
    pub audience: String,
    /// Access-token lifetime in seconds. Default 900 (15 minutes).
    pub access_token_ttl_secs: u64,
    /// Refresh-token lifetime in seconds. Default 2,592,000 (30 days).
    pub refresh_token_ttl_secs: u64,
    /// Failed logins per account before it is locked out for `lockout_secs`. Default 5.
    pub max_failures_per_account: i64,
    /// Failed logins per client address before it is locked out. Default 50.
    pub max_failures_per_ip: i64,
    /// How long a lockout lasts after the last failure, in seconds. Default 900.
    pub lockout_secs: u64,
    /// `amqp_url`, `exchange` and `queue_prefix` of the broker that carries
    /// `user.registered`.
    #[serde(flatten)]
    pub bus: BusConfig,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4001),
            database: DatabaseConfig::embedded("users.db", 8),
            mongo_database: "users".into(),
            cache: CacheConfig::in_process("shop:users:"),
            signing_key_file: data_path("users-signing-key.pem"),
            generate_signing_key: true,
            previous_key_files: Vec::new(),
            issuer: shop_kernel::auth::DEFAULT_ISSUER.into(),
            audience: shop_kernel::auth::DEFAULT_AUDIENCE.into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_failures_per_account: 5,
            max_failures_per_ip: 50,
            lockout_secs: 900,
            bus: BusConfig::default(),
        }
    }
}

impl Settings for UsersConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            mongo_database: Some(&mut self.mongo_database),
            cache: Some(&mut self.cache),
            bus: Some(&mut self.bus),
            token_keys: Some(TokenKeys {
                key_set_path: crate::JWKS_PATH,
                signing_key_file: &mut self.signing_key_file,
            }),
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        problems.within("access_token_ttl_secs", self.access_token_ttl_secs, 60..=24 * 3600);
        problems.within(
            "refresh_token_ttl_secs",
            self.refresh_token_ttl_secs,
            self.access_token_ttl_secs..=365 * 24 * 3600,
        );
        problems.within("max_failures_per_account", self.max_failures_per_account, 1..=1_000);
        problems.within("max_failures_per_ip", self.max_failures_per_ip, 1..=100_000);
        problems.within("lockout_secs", self.lockout_secs, 1..=7 * 24 * 3600);
        for (key, value) in
            [("issuer", &self.issuer), ("audience", &self.audience), ("signing_key_file", &self.signing_key_file)]
        {
            if value.is_empty() {
                problems.refuse(key, "is empty");
            }
        }
    }
}
