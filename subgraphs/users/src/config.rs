//! Settings of the users service (see `shop_kernel::config` for how they are loaded).

use serde::Deserialize;

/// Users settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UsersConfig {
    /// Address to serve on. Default `0.0.0.0:4001`.
    pub listen: String,
    /// `mongodb://…` for production, `sqlite://…` for embedded.
    /// Default `sqlite://data/users.db?mode=rwc`.
    pub database_url: String,
    /// MongoDB database name. Default `users`.
    pub mongo_database: String,
    /// `redis://…` for login-failure counters shared by replicas; unset keeps them in
    /// process. Default unset.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key. Default `shop:users:`.
    pub key_prefix: String,
    /// PKCS#8 PEM file of the Ed25519 key that signs access tokens.
    /// Default `data/users-signing-key.pem`.
    pub signing_key_file: String,
    /// Whether to generate `signing_key_file` when it is missing (development). Default true;
    /// set false in production so a missing key is a startup error.
    pub generate_signing_key: bool,
    /// Keys being rotated out: still published in the JWKS, no longer signing. Default none.
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
    /// RabbitMQ, where `user.registered` is announced, e.g.
    /// `amqp://guest:guest@127.0.0.1:5672/%2f`. Default none: the embedded launcher hands in
    /// its in-process bus; `build` alone then uses a private in-process bus.
    pub amqp_url: Option<String>,
    /// The topic exchange of every message. Default `shop.events`.
    pub exchange: String,
    /// Prefix of exchange and queue names (tests use a random one). Default empty.
    pub queue_prefix: String,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4001".into(),
            database_url: "sqlite://data/users.db?mode=rwc".into(),
            mongo_database: "users".into(),
            redis_url: None,
            key_prefix: "shop:users:".into(),
            signing_key_file: "data/users-signing-key.pem".into(),
            generate_signing_key: true,
            previous_key_files: Vec::new(),
            issuer: shop_kernel::auth::DEFAULT_ISSUER.into(),
            audience: shop_kernel::auth::DEFAULT_AUDIENCE.into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_failures_per_account: 5,
            max_failures_per_ip: 50,
            lockout_secs: 900,
            amqp_url: None,
            exchange: "shop.events".into(),
            queue_prefix: String::new(),
        }
    }
}
