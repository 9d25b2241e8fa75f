//! The public entry point of the shop: hive-router (federated query planning and execution,
//! GraphiQL, CORS, limits, metrics, hot reload) with our plugins registered.
//!
//! Configuration is `router/router.yaml` (path in `ROUTER_CONFIG_FILE_PATH`), with
//! hive-router's environment overrides (`PORT`, `SUPERGRAPH_FILE_PATH`, `LOG_LEVEL`, …).

// ntex's service types nest deeply; computing their layout needs a higher limit.
#![recursion_limit = "256"]

pub mod rate_limit;
pub mod strict_jwt;

use hive_router::{PluginRegistry, error::RouterInitError, init_rustls_crypto_provider, router_entrypoint};

/// Every plugin of ours, registered by name; `router.yaml` enables and configures them.
pub fn plugins() -> PluginRegistry {
    PluginRegistry::new().register::<rate_limit::RateLimitPlugin>().register::<strict_jwt::StrictJwtPlugin>()
}

/// Runs the router until it is told to stop (Ctrl-C or SIGTERM). Must run on an ntex
/// runtime: `#[hive_router::main]`, or [`run_in_thread`].
pub async fn run() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    router_entrypoint(plugins()).await
}

/// Runs the router on its own thread and runtime (for the all-in-one launcher).
pub fn run_in_thread() -> std::io::Result<std::thread::JoinHandle<Result<(), String>>> {
    std::thread::Builder::new().name("router".into()).spawn(|| {
        hive_router::ntex::rt::System::new("router", hive_router::ntex::rt::DefaultRuntime)
            .block_on(async { run().await.map_err(|e| e.to_string()) })
    })
}
