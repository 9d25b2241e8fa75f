//! Calls to neighbouring subgraphs over GraphQL/HTTP, each behind a time budget, retries of
//! idempotent reads (backon) and a circuit breaker (failsafe), so a slow or dead neighbour
//! costs a checkout at most its budget and, once the breaker opens, nothing at all.
//!
//! The breaker's state is the gauge `orders_upstream_breaker_open{upstream}`: 1 while open or
//! half-open (not yet proven healthy again), 0 while closed.

mod cart;
mod catalog;
mod inventory;
mod users;

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use failsafe::{Config, StateMachine, backoff, failure_policy};
use serde_json::{Value, json};

pub use self::{
    cart::CartClient,
    catalog::{CatalogClient, CatalogVariant},
    inventory::InventoryClient,
    users::UsersClient,
};

/// Consecutive failed calls that open a breaker.
const FAILURES_TO_OPEN: u32 = 5;
/// How long a breaker stays open at first (doubling up to [`MAX_OPEN`] while it keeps failing).
const MIN_OPEN: Duration = Duration::from_secs(5);
/// The longest a breaker stays open before it lets a trial call through.
const MAX_OPEN: Duration = Duration::from_secs(60);

/// Why a neighbour did not answer usefully.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The breaker is open: the neighbour failed recently and is not called.
    #[error("{0} is unavailable (circuit open)")]
    CircuitOpen(&'static str),
    /// The neighbour did not answer within the budget, refused connections or failed (5xx).
    #[error("{upstream} is unavailable: {reason}")]
    Unavailable { upstream: &'static str, reason: String },
    /// The neighbour answered but refused the request (4xx, or GraphQL errors without data).
    #[error("{upstream} refused the request: {reason}")]
    Refused { upstream: &'static str, reason: String },
}

impl UpstreamError {
    /// Whether the neighbour is down (as opposed to refusing this request).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::CircuitOpen(_) | Self::Unavailable { .. })
    }
}

/// Keeps `orders_upstream_breaker_open{upstream}` in step with a breaker.
#[derive(Debug)]
struct BreakerGauge(&'static str);

impl BreakerGauge {
    fn set(&self, value: f64) {
        metrics::gauge!("orders_upstream_breaker_open", "upstream" => self.0).set(value);
    }
}

impl failsafe::Instrument for BreakerGauge {
    fn on_call_rejected(&self) {
        metrics::counter!("orders_upstream_rejected_total", "upstream" => self.0).increment(1);
    }

    fn on_open(&self) {
        tracing::warn!(upstream = self.0, "circuit breaker opened");
        self.set(1.0);
    }

    fn on_half_open(&self) {
        self.set(1.0);
    }

    fn on_closed(&self) {
        tracing::info!(upstream = self.0, "circuit breaker closed");
        self.set(0.0);
    }
}

type Breaker = StateMachine<failure_policy::ConsecutiveFailures<backoff::Exponential>, BreakerGauge>;

/// A GraphQL response: `data` (null when absent) and the `errors` list.
#[derive(Debug, Clone, Default)]
pub struct GraphqlResponse {
    /// The `data` member.
    pub data: Value,
    /// The `errors` member, empty when absent.
    pub errors: Vec<Value>,
}

impl GraphqlResponse {
    /// Whether some error has `extensions.code == code`.
    pub fn has_error_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| at(e, "/extensions/code") == code)
    }
}

/// A GraphQL endpoint of a neighbour, with its budget and breaker.
pub struct GraphqlClient {
    name: &'static str,
    url: String,
    http: reqwest::Client,
    budget: Duration,
    breaker: Breaker,
}

impl GraphqlClient {
    /// A client of `url` whose calls take at most `budget` each, retries included.
    pub fn new(name: &'static str, url: &str, budget: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(budget)
            .connect_timeout(budget)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let gauge = BreakerGauge(name);
        gauge.set(0.0);
        let breaker = Config::new()
            .failure_policy(failure_policy::consecutive_failures(
                FAILURES_TO_OPEN,
                backoff::exponential(MIN_OPEN, MAX_OPEN),
            ))
            .instrument(gauge)
            .build();
        Self { name, url: url.to_owned(), http, budget, breaker }
    }

    /// Runs an operation. `idempotent` reads are retried on transient failures (within the
    /// budget); writes are tried once. `authorization` is forwarded as is.
    pub async fn execute(
        &self,
        query: &str,
        variables: Value,
        authorization: Option<&str>,
        idempotent: bool,
    ) -> Result<GraphqlResponse, UpstreamError> {
        if !self.breaker.is_call_permitted() {
            return Err(UpstreamError::CircuitOpen(self.name));
        }
        let body = json!({ "query": query, "variables": variables });
        let attempt = || self.attempt(&body, authorization);
        let retries = if idempotent { 2 } else { 0 };
        let policy = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_millis(400))
            .with_max_times(retries)
            .with_jitter();
        let call = attempt.retry(policy).when(UpstreamError::is_unavailable);
        let result = match tokio::time::timeout(self.budget, call).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Unavailable { upstream: self.name, reason: "timed out".into() }),
        };
        match &result {
            Err(error) if error.is_unavailable() => {
                tracing::warn!(upstream = self.name, %error, "upstream call failed");
                self.breaker.on_error();
            }
            // An answer, even a refusal, shows the neighbour is up.
            _ => self.breaker.on_success(),
        }
        result
    }

    async fn attempt(&self, body: &Value, authorization: Option<&str>) -> Result<GraphqlResponse, UpstreamError> {
        let unavailable = |reason: String| UpstreamError::Unavailable { upstream: self.name, reason };
        let mut request = self.http.post(&self.url).json(body);
        if let Some(authorization) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let response = request.send().await.map_err(|e| unavailable(e.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(unavailable(format!("HTTP {status}")));
        }
        if status.is_client_error() && status != reqwest::StatusCode::BAD_REQUEST {
            return Err(UpstreamError::Refused { upstream: self.name, reason: format!("HTTP {status}") });
        }
        let mut body: Value = response.json().await.map_err(|e| unavailable(format!("unreadable response: {e}")))?;
        let errors = match body.get_mut("errors").map(Value::take) {
            Some(Value::Array(errors)) => errors,
            _ => Vec::new(),
        };
        let data = body.get_mut("data").map(Value::take).unwrap_or(Value::Null);
        if data.is_null() && !errors.is_empty() {
            let reason = errors.first().and_then(|e| at(e, "/message").as_str()).unwrap_or("error").to_owned();
            return Err(UpstreamError::Refused { upstream: self.name, reason });
        }
        Ok(GraphqlResponse { data, errors })
    }
}

/// The `_entities` representations of catalog variants by SKU.
fn variant_representations(skus: &[String]) -> Value {
    Value::Array(skus.iter().map(|sku| json!({ "__typename": "ProductVariant", "sku": sku })).collect())
}

/// The `_entities` list of a response, one entry per representation.
fn entities(response: &GraphqlResponse, expected: usize, upstream: &'static str) -> Result<Vec<Value>, UpstreamError> {
    match response.data.get("_entities") {
        Some(Value::Array(list)) if list.len() == expected => Ok(list.clone()),
        _ => Err(UpstreamError::Unavailable { upstream, reason: "malformed _entities response".into() }),
    }
}

/// The member of `value` at a JSON pointer, `null` when absent.
fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}
