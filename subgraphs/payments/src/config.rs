//! Settings of the payments service (see `shop_kernel::config` for how they are loaded:
//! `config/payments.yaml`, then `PAYMENTS__*` variables, e.g. `PAYMENTS__PROVIDER__TIMEOUT_MS`).

use std::time::Duration;

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

use crate::provider::{ResilienceSettings, SimulatedSettings};

/// Payments settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PaymentsConfig {
    /// Address to serve on. Default `0.0.0.0:4006`.
    pub listen: String,
    /// `postgres://…` for production, `sqlite://…` for embedded.
    /// Default `sqlite://data/payments.db?mode=rwc`.
    pub database_url: String,
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
    /// How the payment provider is called.
    pub provider: ProviderConfig,
    /// How access tokens are verified (refunds need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:4006".into(),
            database_url: "sqlite://data/payments.db?mode=rwc".into(),
            max_connections: 16,
            amqp_url: None,
            exchange: "shop.events".into(),
            queue_prefix: String::new(),
            provider: ProviderConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

/// Calls to the payment provider (the built-in simulated one).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ProviderConfig {
    /// How long one call may take, in milliseconds. Default 2000.
    pub timeout_ms: u64,
    /// Calls per operation, the first included; only timeouts and an unavailable provider
    /// are retried, always with the same idempotency key. Default 3.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; it doubles with jitter. Default 100.
    pub initial_backoff_ms: u64,
    /// Longest wait between retries, in milliseconds. Default 1000.
    pub max_backoff_ms: u64,
    /// Consecutive timeouts or unavailable answers that open the circuit breaker. Default 5.
    pub breaker_failures: u32,
    /// How long the breaker first stays open, in milliseconds; doubles while trial calls
    /// fail. Default 10000.
    pub breaker_open_ms: u64,
    /// Longest the breaker stays open, in milliseconds. Default 60000.
    pub breaker_max_open_ms: u64,
    /// How long the simulated `tok_slow` takes, in milliseconds. Default 1000.
    pub simulated_slow_ms: u64,
    /// How long the simulated `tok_timeout` hangs, in seconds. Default 3600.
    pub simulated_hang_secs: u64,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 2000,
            max_attempts: 3,
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
            breaker_failures: 5,
            breaker_open_ms: 10_000,
            breaker_max_open_ms: 60_000,
            simulated_slow_ms: 1000,
            simulated_hang_secs: 3600,
        }
    }
}

impl ProviderConfig {
    /// The timeout, retry and breaker settings.
    pub fn resilience(&self) -> ResilienceSettings {
        ResilienceSettings {
            timeout: Duration::from_millis(self.timeout_ms),
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            max_backoff: Duration::from_millis(self.max_backoff_ms),
            breaker_failures: self.breaker_failures.max(1),
            breaker_open: Duration::from_millis(self.breaker_open_ms),
            breaker_max_open: Duration::from_millis(self.breaker_max_open_ms),
        }
    }

    /// The simulated provider's timing.
    pub fn simulated(&self) -> SimulatedSettings {
        SimulatedSettings {
            slow: Duration::from_millis(self.simulated_slow_ms),
            hang: Duration::from_secs(self.simulated_hang_secs),
        }
    }
}
