//! The simulated payment provider as a process of its own, serving the HTTP API that
//! payments' `HttpProvider` speaks (set `PAYMENTS__PROVIDER__URL` to its address). Its books
//! live here, not in payments, so a payments process killed mid-call leaves behind exactly
//! what a real provider would: the chaos suite (`scripts/chaos.sh`) reconciles against them
//! through `GET /v1/ledger`. For tests and demos only: it knows only test card tokens.
//!
//! Environment: `PROVIDER_LISTEN` (default `127.0.0.1:4090`), `PROVIDER_SLOW_MS` (how long
//! `tok_slow` takes, default 1000), `PROVIDER_LATE_MS` (`tok_late`, default 5000),
//! `PROVIDER_HANG_SECS` (`tok_timeout`, default 3600).

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use shop_payments::adapters::{SimulatedProvider, SimulatedSettings, simulated_routes};

/// The number in variable `name`, or `default` when it is unset.
fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(value) => value.parse().with_context(|| format!("{name} must be a whole number")),
        Err(_) => Ok(default),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let listen = std::env::var("PROVIDER_LISTEN").unwrap_or_else(|_| "127.0.0.1:4090".to_owned());
    let settings = SimulatedSettings {
        slow: Duration::from_millis(number("PROVIDER_SLOW_MS", 1000)?),
        late: Duration::from_millis(number("PROVIDER_LATE_MS", 5000)?),
        hang: Duration::from_secs(number("PROVIDER_HANG_SECS", 3600)?),
    };
    let provider = Arc::new(SimulatedProvider::new(settings));
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("simulated payment provider listening on {listen}");
    axum::serve(listener, simulated_routes(provider)).await.context("serving")?;
    Ok(())
}
