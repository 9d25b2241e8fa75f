//! Prometheus metrics: one recorder per process, rendered at `/metrics`.
//!
//! Services record with the `metrics` macros and label by `service`, so the all-in-one
//! launcher, which runs several services in one process, still tells them apart.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Installs the process-wide recorder on first use and returns its handle.
///
/// Returns `None` only when another recorder was installed by someone else; metrics are then
/// recorded there and `/metrics` answers 503.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "prometheus recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

static UPKEEP: OnceLock<()> = OnceLock::new();

/// Starts, once per process, the task that drains histogram samples into their buckets. The
/// recorder keeps raw samples until upkeep runs, so without it memory grows with traffic
/// between scrapes. Must be called inside a Tokio runtime.
pub fn start_upkeep() {
    UPKEEP.get_or_init(|| {
        if let Some(handle) = handle() {
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    ticker.tick().await;
                    handle.run_upkeep();
                }
            });
        }
    });
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render() -> Response {
    match handle() {
        Some(handle) => handle.render().into_response(),
        None => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Records RED metrics (`http_requests_total`, `http_request_duration_seconds`) per route.
pub async fn record_http(State(service): State<&'static str>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("service", service.to_owned()), ("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
