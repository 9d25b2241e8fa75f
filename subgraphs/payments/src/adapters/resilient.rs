//! Timeouts, retries and a circuit breaker around any provider (the kernel's guard).

use std::{future::Future, sync::Arc};

use shop_kernel::resilience::{Failure, Guard, GuardMetrics, GuardSettings, Refusal};

use super::{AuthorizeRequest, PaymentProvider, ProviderError, Receipt};
use crate::domain::Operation;

impl Failure for ProviderError {
    /// Timeouts and unavailability count against the provider; a declined card is a healthy
    /// answer.
    fn is_transient(&self) -> bool {
        ProviderError::is_transient(*self)
    }

    fn timed_out() -> Self {
        Self::Timeout
    }
}

const fn label(operation: Operation) -> &'static str {
    match operation {
        Operation::Authorize => "authorize",
        Operation::Capture => "capture",
        Operation::Void => "void",
        Operation::Refund => "refund",
    }
}

fn count(operation: Operation, outcome: &'static str) {
    metrics::counter!("payments_provider_calls_total", "operation" => label(operation), "outcome" => outcome)
        .increment(1);
}

/// Wraps a provider: every call gets a timeout, a timed-out or unavailable call is retried
/// with backoff under the same idempotency key (so it can never act twice), and a circuit
/// breaker stops calling a provider that keeps failing, answering `Unavailable` at once
/// until a trial call succeeds (the gauge `payments_provider_breaker_open`). Each attempt is
/// counted in `payments_provider_calls_total{operation,outcome}`.
pub struct ResilientProvider {
    inner: Arc<dyn PaymentProvider>,
    guard: Guard,
}

impl ResilientProvider {
    /// Wraps `inner`. The payment provider gets no budget for a whole call: each attempt has
    /// its own timeout, and retries reuse the idempotency key.
    pub fn new(inner: Arc<dyn PaymentProvider>, settings: GuardSettings) -> Self {
        let metrics = GuardMetrics {
            breaker_gauge: "payments_provider_breaker_open",
            rejected_counter: None,
            labels: Vec::new(),
        };
        Self { inner, guard: Guard::new(settings, metrics) }
    }

    /// Whether the breaker is open (calls are refused without reaching the provider).
    pub fn breaker_open(&self) -> bool {
        self.guard.is_open()
    }

    async fn call<F, Fut>(&self, operation: Operation, call: F) -> Result<Receipt, ProviderError>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<Receipt, ProviderError>> + Send,
    {
        let observe = |failure: Option<&ProviderError>| count(operation, failure.map_or("succeeded", |e| e.label()));
        self.guard.call(true, call, observe).await.map_err(|refusal| match refusal {
            Refusal::Failed(error) => error,
            // When the breaker refuses a retry, the call failed for the reason the provider
            // gave last (a timeout stays a timeout).
            Refusal::Rejected { last } => {
                count(operation, "rejected");
                last.unwrap_or(ProviderError::Unavailable)
            }
        })
    }
}

#[async_trait::async_trait]
impl PaymentProvider for ResilientProvider {
    async fn authorize(&self, request: &AuthorizeRequest, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        self.call(Operation::Authorize, || self.inner.authorize(request, idempotency_key)).await
    }

    async fn capture(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        self.call(Operation::Capture, || self.inner.capture(authorization, amount_minor, idempotency_key)).await
    }

    async fn void(&self, authorization: &str, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        self.call(Operation::Void, || self.inner.void(authorization, idempotency_key)).await
    }

    async fn refund(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        self.call(Operation::Refund, || self.inner.refund(authorization, amount_minor, idempotency_key)).await
    }
}
