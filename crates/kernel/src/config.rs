//! Configuration: built-in defaults, then an optional YAML file, then environment variables.
//!
//! A service named `catalog` reads `config/catalog.yaml` (the folder can be moved with
//! `SHOP_CONFIG_DIR`) and then every `CATALOG__*` variable, where `__` separates nesting levels:
//! `CATALOG__DATABASE_URL=postgres://…` sets `database_url`. Defaults are the embedded mode, so
//! a service with no file and no variables runs without external servers.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration of `{service}` is invalid: {source}")]
pub struct ConfigError {
    service: String,
    #[source]
    source: Box<config::ConfigError>,
}

/// Loads the configuration of `service` (see the module docs for the sources and their order).
pub fn load<T: DeserializeOwned>(service: &str) -> Result<T, ConfigError> {
    let dir = std::env::var_os("SHOP_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from);
    let file = dir.join(format!("{service}.yaml"));
    config::Config::builder()
        .add_source(config::File::from(file).required(false))
        .add_source(
            config::Environment::with_prefix(&service.to_ascii_uppercase())
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(|source| ConfigError { service: service.to_owned(), source: Box::new(source) })
}

/// Whether a URL names an embedded (in-process) store rather than a server.
pub fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}
