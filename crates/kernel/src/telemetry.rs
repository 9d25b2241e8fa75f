//! Structured logging for every process.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global `tracing` subscriber: JSON lines by default, human-readable when
/// `SHOP_LOG_FORMAT=pretty`. The filter comes from `RUST_LOG` (default `info`).
///
/// Does nothing when a subscriber is already installed: in the all-in-one launcher the
/// router owns the global subscriber and every subgraph logs through it.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("SHOP_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("pretty"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if pretty {
        registry.with(fmt::layer()).try_init()
    } else {
        registry.with(fmt::layer().json().flatten_event(true).with_current_span(false)).try_init()
    };
    // An existing subscriber is the expected case when embedded; nothing to report.
    let _ = result;
}
