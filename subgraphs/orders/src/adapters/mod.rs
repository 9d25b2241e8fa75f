//! Outbound adapters: the clients of the catalog, inventory, users and cart subgraphs, which
//! checkout reads from.
//!
//! Each call goes over GraphQL/HTTP behind a time budget, retries of idempotent reads and a
//! circuit breaker (the kernel's guard), so a slow or dead neighbour costs a checkout at most
//! its budget and, once the breaker opens, nothing at all.
//!
//! The breaker's state is the gauge `orders_upstream_breaker_open{upstream}`: 1 while open or
//! half-open (not yet proven healthy again), 0 while closed.

mod cart;
mod catalog;
mod inventory;
mod users;

use std::time::Duration;

use serde_json::{Value, json};
use shop_kernel::resilience::{Failure, Guard, GuardMetrics, GuardSettings, Refusal};

pub use self::{
    cart::CartClient,
    catalog::{CatalogClient, CatalogVariant},
    inventory::InventoryClient,
    users::UsersClient,
};

/// Consecutive failed attempts that open a breaker.
const FAILURES_TO_OPEN: u32 = 5;
/// How long a breaker stays open at first (doubling up to [`MAX_OPEN`] while it keeps failing).
const MIN_OPEN: Duration = Duration::from_secs(5);
/// The longest a breaker stays open before it lets a trial call through.
const MAX_OPEN: Duration = Duration::from_secs(60);
/// Attempts of an idempotent read, the first included.
const READ_ATTEMPTS: u32 = 3;

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

impl Failure for UpstreamError {
    /// A neighbour that is down may be up at the next attempt; one that refused the request
    /// answered, which shows it is up.
    fn is_transient(&self) -> bool {
        self.is_unavailable()
    }

    fn timed_out() -> Self {
        Self::Unavailable { upstream: "upstream", reason: "timed out".into() }
    }
}

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
    guard: Guard,
}

impl GraphqlClient {
    /// A client of `url` whose calls take at most `budget` each, retries included.
    pub fn new(name: &'static str, url: &str, budget: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(budget)
            .connect_timeout(budget)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let guard = Guard::new(
            GuardSettings {
                attempt_timeout: budget,
                budget: Some(budget),
                max_attempts: READ_ATTEMPTS,
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(400),
                breaker_failures: FAILURES_TO_OPEN,
                breaker_open: MIN_OPEN,
                breaker_max_open: MAX_OPEN,
            },
            GuardMetrics {
                breaker_gauge: "orders_upstream_breaker_open",
                rejected_counter: Some("orders_upstream_rejected_total"),
                labels: vec![("upstream", name.to_owned())],
            },
        );
        Self { name, url: url.to_owned(), http, guard }
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
        let body = json!({ "query": query, "variables": variables });
        let attempt = || self.attempt(&body, authorization);
        let observe = |failure: Option<&UpstreamError>| {
            if let Some(error) = failure.filter(|error| error.is_unavailable()) {
                tracing::warn!(upstream = self.name, %error, "upstream call failed");
            }
        };
        self.guard.call(idempotent, attempt, observe).await.map_err(|refusal| match refusal {
            Refusal::Failed(UpstreamError::Unavailable { reason, .. }) => {
                UpstreamError::Unavailable { upstream: self.name, reason }
            }
            Refusal::Failed(error) => error,
            Refusal::Rejected { .. } => UpstreamError::CircuitOpen(self.name),
        })
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
