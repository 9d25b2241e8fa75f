//! Configuration: built-in defaults, then an optional YAML file, then environment variables.
//!
//! A service named `catalog` reads `config/catalog.yaml` (the folder can be moved with
//! `SHOP_CONFIG_DIR`) and then every `CATALOG__*` variable, where `__` separates nesting levels:
//! `CATALOG__DATABASE_URL=postgres://…` sets `database_url`, `NOTIFICATIONS__EMAIL__TRANSPORT`
//! sets `email.transport`. Defaults are the embedded mode, so a service with no file and no
//! variables runs without external servers.
//!
//! Mistakes stop the service at start, each one named: an unknown key (a misspelled variable
//! is not silently ignored), a value of the wrong type, and a value the rules refuse (the shared
//! sections' rules, then the service's own [`Settings::validate`]). URLs that may carry
//! passwords are [`Secret`]s, which never print.
//!
//! The sections most services share ([`ServiceConfig`], [`DatabaseConfig`], [`CacheConfig`],
//! [`BusConfig`]) are flattened into each service's settings, so their keys stay top-level
//! (`ORDERS__AMQP_URL`, not `ORDERS__BUS__AMQP_URL`).

use std::{
    collections::HashMap,
    fmt::{self, Display},
    net::SocketAddr,
    ops::RangeInclusive,
    path::PathBuf,
    sync::Arc,
};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

use crate::{
    auth::AuthConfig,
    cache::{CacheError, KvCache, MemoryCache, RedisCache},
};

/// Why configuration could not be loaded: every problem found, each naming its key.
#[derive(Debug, thiserror::Error)]
#[error("configuration of `{service}` is invalid: {}", problems.join("; "))]
pub struct ConfigError {
    service: String,
    problems: Vec<String>,
}

impl ConfigError {
    /// The problems found, one per refused key.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

/// A service's settings: what [`load`] fills in and checks.
///
/// `Serialize` is there so the defaults can be layered under the file and the environment;
/// every settings struct denies unknown fields so that a misspelled key is an error.
pub trait Settings: Serialize + DeserializeOwned + Default + Clone + fmt::Debug + Send + Sync + 'static {
    /// The sections every service may have, for the roots that point services at their
    /// servers (the launcher and the end-to-end stack) and for the shared checks.
    fn common(&mut self) -> Common<'_>;

    /// The service's own rules, beyond the shared sections' (which [`load`] checks for every
    /// service). Add one problem per refused key.
    fn validate(&self, problems: &mut Problems) {
        let _ = problems;
    }
}

/// The shared sections of one service's settings, borrowed for reading or changing them.
pub struct Common<'a> {
    /// Where it serves.
    pub service: &'a mut ServiceConfig,
    /// Its database, if it has one.
    pub database: Option<&'a mut DatabaseConfig>,
    /// The MongoDB database name, if the service can run on MongoDB.
    pub mongo_database: Option<&'a mut String>,
    /// Its Redis (cache, counters or carts), if it uses one.
    pub cache: Option<&'a mut CacheConfig>,
    /// Its message broker, if it publishes or consumes.
    pub bus: Option<&'a mut BusConfig>,
    /// How it verifies access tokens, if it verifies them against the users service's keys.
    pub auth: Option<&'a mut AuthConfig>,
    /// The neighbouring subgraphs it calls, by subgraph name, and their GraphQL URLs.
    pub neighbours: Vec<(&'static str, &'a mut String)>,
    /// Files and folders it writes outside its database (mail).
    pub files: Vec<&'a mut String>,
    /// The keys that sign access tokens, if this service issues them.
    pub token_keys: Option<TokenKeys<'a>>,
}

/// Where the service that issues access tokens keeps and publishes its keys.
pub struct TokenKeys<'a> {
    /// The path of its HTTP app where the public keys are published (a JWKS), which every
    /// verifier fetches.
    pub key_set_path: &'static str,
    /// The private key file it signs with.
    pub signing_key_file: &'a mut String,
}

impl<'a> Common<'a> {
    /// Only the service section; add the others with struct update syntax.
    pub fn new(service: &'a mut ServiceConfig) -> Self {
        Self {
            service,
            database: None,
            mongo_database: None,
            cache: None,
            bus: None,
            auth: None,
            neighbours: Vec::new(),
            files: Vec::new(),
            token_keys: None,
        }
    }

    fn check(self, problems: &mut Problems) {
        self.service.check(problems);
        if let Some(database) = self.database {
            database.check(self.mongo_database.is_some(), problems);
        }
        if let Some(cache) = self.cache {
            cache.check(problems);
        }
        if let Some(bus) = self.bus {
            bus.check(problems);
        }
        if let Some(auth) = self.auth {
            problems.url("auth.jwks_url", &auth.jwks_url, &["http", "https"]);
        }
        for (name, url) in self.neighbours {
            problems.url(&format!("{name}_url"), url, &["http", "https"]);
        }
    }
}

/// The problems [`Settings::validate`] finds, each naming the key it refuses.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Refuses `key` because of `why`.
    pub fn refuse(&mut self, key: &str, why: impl Display) {
        self.0.push(format!("`{key}` {why}"));
    }

    /// Refuses `key` unless `value` lies in `range`.
    pub fn within<T: PartialOrd + Display>(&mut self, key: &str, value: T, range: RangeInclusive<T>) {
        if !range.contains(&value) {
            self.refuse(key, format_args!("is {value}, must be from {} to {}", range.start(), range.end()));
        }
    }

    /// Refuses `key` unless `value` is a URL with one of `schemes`. The URL itself is never
    /// repeated: it may carry a password.
    pub fn url(&mut self, key: &str, value: &str, schemes: &[&str]) {
        match url::Url::parse(value) {
            Ok(url) if schemes.contains(&url.scheme()) => {}
            Ok(url) => self.refuse(key, format_args!("has scheme `{}`, must be one of {schemes:?}", url.scheme())),
            Err(error) => self.refuse(key, format_args!("is not a URL ({error})")),
        }
    }

    fn into_result(self, service: &str) -> Result<(), ConfigError> {
        if self.0.is_empty() { Ok(()) } else { Err(ConfigError { service: service.to_owned(), problems: self.0 }) }
    }
}

/// Loads the settings of `service` from its defaults, `config/<service>.yaml` (if it exists)
/// and the `<SERVICE>__*` environment variables, and checks them.
pub fn load<T: Settings>(service: &str) -> Result<T, ConfigError> {
    let dir = std::env::var_os("SHOP_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from);
    let file = config::File::from(dir.join(format!("{service}.yaml"))).required(false);
    load_from(service, file, None)
}

/// [`load`] from YAML text and a set of variables instead of the file and the process
/// environment (for tests of the rules).
pub fn load_from_text<T: Settings>(service: &str, yaml: &str, env: HashMap<String, String>) -> Result<T, ConfigError> {
    load_from(service, config::File::from_str(yaml, config::FileFormat::Yaml), Some(env))
}

fn load_from<T, F>(service: &str, file: F, env: Option<HashMap<String, String>>) -> Result<T, ConfigError>
where
    T: Settings,
    F: config::Source + Send + Sync + 'static,
{
    let refused =
        |error: config::ConfigError| ConfigError { service: service.to_owned(), problems: vec![error.to_string()] };
    let defaults = config::Config::try_from(&T::default()).map_err(refused)?;
    let environment = config::Environment::with_prefix(&service.to_ascii_uppercase())
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .source(env);
    let defaults_tree = defaults.cache.clone();
    let merged = config::Config::builder()
        .add_source(defaults)
        .add_source(file)
        .add_source(environment)
        .build()
        .map_err(refused)?;
    let mut problems = Problems::default();
    // Flattened sections lose the key in serde's type errors; name it here instead.
    mistyped_keys(&defaults_tree, &merged.cache, "", &mut problems);
    problems.into_result(service)?;
    let mut settings: T = merged.try_deserialize().map_err(refused)?;
    let mut problems = Problems::default();
    settings.common().check(&mut problems);
    settings.validate(&mut problems);
    problems.into_result(service)?;
    Ok(settings)
}

/// Adds a problem for every key whose value cannot have the type of its default (a number
/// given as `many`). The value is not repeated: it may be a secret in the wrong place.
fn mistyped_keys(defaults: &config::Value, merged: &config::Value, path: &str, problems: &mut Problems) {
    use config::ValueKind;
    let (ValueKind::Table(defaults), ValueKind::Table(merged)) = (&defaults.kind, &merged.kind) else { return };
    for (key, default) in defaults {
        let Some(value) = merged.get(key) else { continue };
        let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        let ValueKind::String(text) = &value.kind else {
            mistyped_keys(default, value, &path, problems);
            continue;
        };
        let expected = match default.kind {
            ValueKind::I64(_) | ValueKind::I128(_) | ValueKind::U64(_) | ValueKind::U128(_) => {
                text.parse::<i128>().is_err().then_some("a whole number")
            }
            ValueKind::Float(_) => text.parse::<f64>().is_err().then_some("a number"),
            ValueKind::Boolean(_) => text.parse::<bool>().is_err().then_some("`true` or `false`"),
            _ => None,
        };
        if let Some(expected) = expected {
            problems.refuse(&path, format_args!("must be {expected}"));
        }
    }
}

/// Whether the process is a developer's or a deployment's: `SHOP_ENVIRONMENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// A developer's machine: a service alone may run on a private in-process bus.
    Development,
    /// A deployment (the default, so a forgotten setting fails safe): every dependency must
    /// be configured.
    #[default]
    Production,
}

impl Environment {
    /// `SHOP_ENVIRONMENT` (`development` or `production`; unset is production).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_or(Self::Production)
    }

    /// `SHOP_ENVIRONMENT`, or `default` when it is unset.
    pub fn from_env_or(default: Self) -> Result<Self, ConfigError> {
        Self::parse(std::env::var("SHOP_ENVIRONMENT").ok().as_deref(), default)
    }

    fn parse(value: Option<&str>, default: Self) -> Result<Self, ConfigError> {
        match value {
            None => Ok(default),
            Some("production") => Ok(Self::Production),
            Some("development") => Ok(Self::Development),
            Some(other) => Err(ConfigError {
                service: "shop".into(),
                problems: vec![format!("`SHOP_ENVIRONMENT` is `{other}`, must be `development` or `production`")],
            }),
        }
    }
}

/// The folder of the embedded stores and generated files: `SHOP_DATA_DIR`, default `data`
/// (relative to the working directory).
pub fn data_dir() -> PathBuf {
    std::env::var_os("SHOP_DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from)
}

/// `file` inside [`data_dir`], as a string for a setting's default.
pub fn data_path(file: &str) -> String {
    data_dir().join(file).display().to_string()
}

/// A setting that must never appear in logs or debug output: a URL that may carry a password.
///
/// It serializes as its value only so that defaults can be layered under the file and the
/// environment; `Debug` prints `[REDACTED]`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// The value, for the one place that uses it (a driver's connect call).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(SecretString::from(value))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(SecretString::from(value))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// Where a service serves HTTP.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceConfig {
    /// Address to serve on, `IP:port` (port 0 picks a free port).
    pub listen: String,
}

impl ServiceConfig {
    /// Every interface, on `port`.
    pub fn on_port(port: u16) -> Self {
        Self { listen: format!("0.0.0.0:{port}") }
    }

    fn check(&self, problems: &mut Problems) {
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.refuse("listen", format_args!("is `{}`, must be an IP:port address", self.listen));
        }
    }
}

/// A service's database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseConfig {
    /// `postgres://…` in production, `sqlite://…` when embedded, `mongodb://…` where the
    /// service runs on MongoDB.
    pub database_url: Secret,
    /// Most connections the pool opens.
    pub max_connections: u32,
}

impl DatabaseConfig {
    /// The embedded default: the SQLite file `file` in [`data_dir`].
    pub fn embedded(file: &str, max_connections: u32) -> Self {
        Self { database_url: format!("sqlite://{}?mode=rwc", data_path(file)).into(), max_connections }
    }

    /// The URL, for the store's connect call.
    pub fn url(&self) -> &str {
        self.database_url.expose()
    }

    /// Whether the URL names a MongoDB server.
    pub fn is_mongodb(&self) -> bool {
        let url = self.url();
        url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")
    }

    fn check(&self, mongodb_allowed: bool, problems: &mut Problems) {
        let schemes: &[&str] = if mongodb_allowed {
            &["sqlite", "postgres", "postgresql", "mongodb", "mongodb+srv"]
        } else {
            &["sqlite", "postgres", "postgresql"]
        };
        problems.url("database_url", self.url(), schemes);
        problems.within("max_connections", self.max_connections, 1..=1_000);
    }
}

/// A service's Redis: a shared cache, counters or carts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheConfig {
    /// `redis://…`; unset keeps the data in process memory (one replica only).
    pub redis_url: Option<Secret>,
    /// Prefix of every key, so services and tests sharing a Redis never collide.
    pub key_prefix: String,
}

impl CacheConfig {
    /// In process memory, keys prefixed with `key_prefix`.
    pub fn in_process(key_prefix: &str) -> Self {
        Self { redis_url: None, key_prefix: key_prefix.to_owned() }
    }

    /// Redis when a URL is set, else an in-process cache of at most `capacity` entries.
    pub async fn connect(&self, capacity: u64) -> Result<Arc<dyn KvCache>, CacheError> {
        Ok(match &self.redis_url {
            Some(url) => Arc::new(RedisCache::connect(url.expose()).await?),
            None => Arc::new(MemoryCache::new(capacity)),
        })
    }

    fn check(&self, problems: &mut Problems) {
        if let Some(url) = &self.redis_url {
            problems.url("redis_url", url.expose(), &["redis", "rediss"]);
        }
    }
}

/// A service's message broker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusConfig {
    /// RabbitMQ, e.g. `amqp://user:pass@host:5672/%2f`. Unset: the bus the process provides
    /// (the embedded launcher's in-process bus) or, in development only, a private
    /// in-process bus that reaches no other service.
    pub amqp_url: Option<Secret>,
    /// The topic exchange of every message. Default `shop.events`.
    pub exchange: String,
    /// Prefix of exchange and queue names (several stacks on one broker). Default empty.
    pub queue_prefix: String,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self { amqp_url: None, exchange: "shop.events".into(), queue_prefix: String::new() }
    }
}

impl BusConfig {
    fn check(&self, problems: &mut Problems) {
        if let Some(url) = &self.amqp_url {
            problems.url("amqp_url", url.expose(), &["amqp", "amqps"]);
        }
        if self.exchange.is_empty() {
            problems.refuse("exchange", "is empty");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings shaped like a service's: flattened shared sections, a nested section, a map.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(flatten)]
        service: ServiceConfig,
        #[serde(flatten)]
        database: DatabaseConfig,
        #[serde(flatten)]
        bus: BusConfig,
        auth: AuthConfig,
        ttl_secs: u64,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                service: ServiceConfig::on_port(4100),
                database: DatabaseConfig::embedded("sample.db", 4),
                bus: BusConfig::default(),
                auth: AuthConfig::default(),
                ttl_secs: 60,
            }
        }
    }

    impl Settings for Sample {
        fn common(&mut self) -> Common<'_> {
            Common {
                database: Some(&mut self.database),
                bus: Some(&mut self.bus),
                auth: Some(&mut self.auth),
                ..Common::new(&mut self.service)
            }
        }

        fn validate(&self, problems: &mut Problems) {
            problems.within("ttl_secs", self.ttl_secs, 1..=3_600);
        }
    }

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<Sample, ConfigError> {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        load_from_text("sample", yaml, env)
    }

    fn refused(yaml: &str, env: &[(&str, &str)]) -> String {
        match load(yaml, env) {
            Ok(settings) => panic!("accepted {settings:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn defaults_need_no_file_and_no_variables() {
        let settings = load("", &[]).unwrap();
        assert_eq!(settings.service.listen, "0.0.0.0:4100");
        assert!(settings.database.url().ends_with("sample.db?mode=rwc"));
        assert_eq!(settings.bus.exchange, "shop.events");
        assert_eq!(settings.ttl_secs, 60);
    }

    #[test]
    fn variables_override_the_file_and_the_defaults_of_flattened_sections() {
        let settings = load(
            "max_connections: 9\nqueue_prefix: from-file\n",
            &[("SAMPLE__QUEUE_PREFIX", "from-env"), ("SAMPLE__AMQP_URL", "amqp://u:p@broker:5672/%2f")],
        )
        .unwrap();
        assert_eq!(settings.database.max_connections, 9);
        assert_eq!(settings.bus.queue_prefix, "from-env");
        assert_eq!(settings.bus.amqp_url.as_ref().map(Secret::expose), Some("amqp://u:p@broker:5672/%2f"));
        assert_eq!(settings.service.listen, "0.0.0.0:4100", "a section's other keys keep their defaults");
    }

    #[test]
    fn a_misspelled_variable_is_refused() {
        assert!(refused("", &[("SAMPLE__AMQP_ULR", "amqp://x")]).contains("amqp_ulr"));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        assert!(refused("listen_address: 0.0.0.0:1\n", &[]).contains("listen_address"));
    }

    #[test]
    fn an_unknown_key_in_a_nested_section_is_refused() {
        assert!(refused("", &[("SAMPLE__AUTH__JWKS", "http://x")]).contains("jwks"));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        let error = refused("", &[("SAMPLE__MAX_CONNECTIONS", "many")]);
        assert!(error.contains("max_connections"), "{error}");
    }

    #[test]
    fn a_listen_address_must_be_ip_and_port() {
        assert!(refused("listen: localhost\n", &[]).contains("`listen`"));
    }

    #[test]
    fn a_database_url_must_name_a_supported_database() {
        let error = refused("", &[("SAMPLE__DATABASE_URL", "mysql://u:hunter2@db/shop")]);
        assert!(error.contains("`database_url` has scheme `mysql`"), "{error}");
        assert!(!error.contains("hunter2"), "the URL's password must not be repeated: {error}");
    }

    #[test]
    fn mongodb_is_refused_where_the_service_cannot_run_on_it() {
        assert!(refused("", &[("SAMPLE__DATABASE_URL", "mongodb://db:27017")]).contains("`database_url`"));
    }

    #[test]
    fn a_pool_needs_at_least_one_connection() {
        assert!(refused("max_connections: 0\n", &[]).contains("`max_connections` is 0"));
    }

    #[test]
    fn a_broker_url_must_be_amqp() {
        assert!(refused("", &[("SAMPLE__AMQP_URL", "http://broker")]).contains("`amqp_url`"));
    }

    #[test]
    fn the_exchange_must_be_named() {
        assert!(refused("exchange: ''\n", &[]).contains("`exchange` is empty"));
    }

    #[test]
    fn the_key_set_url_must_be_http() {
        assert!(refused("", &[("SAMPLE__AUTH__JWKS_URL", "not a url")]).contains("`auth.jwks_url`"));
    }

    #[test]
    fn a_service_rule_is_applied() {
        assert!(refused("ttl_secs: 0\n", &[]).contains("`ttl_secs` is 0, must be from 1 to 3600"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = load("max_connections: 0\nttl_secs: 0\n", &[]).unwrap_err();
        assert_eq!(error.problems().len(), 2, "{error}");
    }

    #[test]
    fn the_environment_is_development_or_production() {
        assert_eq!(Environment::parse(None, Environment::Production).unwrap(), Environment::Production);
        assert_eq!(Environment::parse(Some("development"), Environment::Production).unwrap(), Environment::Development);
        assert!(
            Environment::parse(Some("staging"), Environment::Development)
                .unwrap_err()
                .to_string()
                .contains("SHOP_ENVIRONMENT")
        );
    }

    #[test]
    fn secrets_never_print() {
        let settings = load("", &[("SAMPLE__AMQP_URL", "amqp://u:hunter2@broker/%2f")]).unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
