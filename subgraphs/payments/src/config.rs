//! Settings of the payments service (see `shop_kernel::config` for how they are loaded:
//! `config/payments.yaml`, then `PAYMENTS__*` variables, e.g. `PAYMENTS__PROVIDER__TIMEOUT_MS`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{BusConfig, Common, DatabaseConfig, Problems, ServiceConfig, Settings},
};

use shop_kernel::resilience::GuardSettings;

use crate::adapters::SimulatedSettings;

/// Payments settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsConfig {
    /// `listen`. Default `0.0.0.0:4006`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `postgres://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/payments.db?mode=rwc`); `max_connections` (default 16).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// `amqp_url`, `exchange` and `queue_prefix` of the saga's broker.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// How the payment provider is called.
    pub provider: ProviderConfig,
    /// How access tokens are verified (refunds need the `ADMIN` role).
    pub auth: AuthConfig,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4006),
            database: DatabaseConfig::embedded("payments.db", 16),
            bus: BusConfig::default(),
            provider: ProviderConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for PaymentsConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        let provider = &self.provider;
        problems.within("provider.timeout_ms", provider.timeout_ms, 1..=120_000);
        problems.within("provider.max_attempts", provider.max_attempts, 1..=20);
        problems.within("provider.initial_backoff_ms", provider.initial_backoff_ms, 0..=60_000);
        problems.within("provider.max_backoff_ms", provider.max_backoff_ms, provider.initial_backoff_ms..=600_000);
        problems.within("provider.breaker_failures", provider.breaker_failures, 1..=1_000);
        problems.within("provider.breaker_open_ms", provider.breaker_open_ms, 1..=3_600_000);
        problems.within(
            "provider.breaker_max_open_ms",
            provider.breaker_max_open_ms,
            provider.breaker_open_ms..=3_600_000,
        );
    }
}

/// Calls to the payment provider: the simulated one built in, or one over HTTP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// Base URL of a provider speaking the HTTP API of [`crate::adapters::HttpProvider`]
    /// (e.g. the `simulated-provider` program, which keeps its books across payments
    /// restarts the way a real provider does). Unset (the default): the simulated provider
    /// runs inside this process.
    pub url: Option<String>,
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
    /// How long the simulated `tok_late` takes, in milliseconds. Default 5000.
    pub simulated_late_ms: u64,
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
            simulated_late_ms: 5000,
            url: None,
        }
    }
}

impl ProviderConfig {
    /// The timeout, retry and breaker settings.
    pub fn resilience(&self) -> GuardSettings {
        GuardSettings {
            attempt_timeout: Duration::from_millis(self.timeout_ms),
            budget: None,
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
            late: Duration::from_millis(self.simulated_late_ms),
        }
    }
}
