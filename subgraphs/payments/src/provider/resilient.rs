//! Timeouts, retries and a circuit breaker around any provider.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use backon::{ExponentialBuilder, Retryable};
use failsafe::{
    Instrument, StateMachine,
    failure_policy::{ConsecutiveFailures, consecutive_failures},
    futures::CircuitBreaker,
};

use super::{AuthorizeRequest, PaymentProvider, ProviderError, Receipt};
use crate::domain::Operation;

/// How hard the wrapper tries.
#[derive(Debug, Clone)]
pub struct ResilienceSettings {
    /// How long one call may take before it counts as a timeout.
    pub timeout: Duration,
    /// Calls per operation, the first included (retries happen only after a timeout or an
    /// unavailable provider).
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles (with jitter) up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Consecutive timeouts or unavailable answers that open the breaker.
    pub breaker_failures: u32,
    /// How long the breaker first stays open before letting a trial call through; it
    /// doubles up to `breaker_max_open` while trials keep failing.
    pub breaker_open: Duration,
    /// Longest the breaker stays open.
    pub breaker_max_open: Duration,
}

/// Publishes the breaker's state as the gauge `payments_provider_breaker_open` (1 while
/// open, 0 otherwise).
#[derive(Clone)]
struct BreakerGauge(Arc<AtomicBool>);

impl BreakerGauge {
    fn set(&self, open: bool) {
        self.0.store(open, Ordering::SeqCst);
        metrics::gauge!("payments_provider_breaker_open").set(if open { 1.0 } else { 0.0 });
    }
}

impl Instrument for BreakerGauge {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        tracing::warn!("payment provider circuit breaker opened");
        self.set(true);
    }

    fn on_half_open(&self) {
        self.set(false);
    }

    fn on_closed(&self) {
        self.set(false);
    }
}

/// How long the breaker stays open each time it opens in a row: doubling from `next` up to
/// `max`. (failsafe's own backoffs count whole seconds only.)
#[derive(Debug, Clone)]
struct OpenPeriods {
    next: Duration,
    max: Duration,
}

impl Iterator for OpenPeriods {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let period = self.next.min(self.max);
        self.next = period.saturating_mul(2);
        Some(period)
    }
}

type Breaker = StateMachine<ConsecutiveFailures<OpenPeriods>, BreakerGauge>;

/// Why one attempt failed.
enum Attempt {
    /// The provider answered with an error or did not answer in time.
    Failed(ProviderError),
    /// The breaker is open: the provider was not called.
    Rejected,
}

/// Only timeouts and unavailability count against the provider; a declined card is a
/// healthy answer.
fn counts_as_failure(error: &ProviderError) -> bool {
    error.is_transient()
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
/// until a trial call succeeds. Each attempt is counted in
/// `payments_provider_calls_total{operation,outcome}`.
pub struct ResilientProvider {
    inner: Arc<dyn PaymentProvider>,
    settings: ResilienceSettings,
    breaker: Breaker,
    open: Arc<AtomicBool>,
}

impl ResilientProvider {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn PaymentProvider>, settings: ResilienceSettings) -> Self {
        let open = Arc::new(AtomicBool::new(false));
        let backoff =
            OpenPeriods { next: settings.breaker_open, max: settings.breaker_max_open.max(settings.breaker_open) };
        let breaker = failsafe::Config::new()
            .failure_policy(consecutive_failures(settings.breaker_failures.max(1), backoff))
            .instrument(BreakerGauge(open.clone()))
            .build();
        Self { inner, settings, breaker, open }
    }

    /// Whether the breaker is open (calls are refused without reaching the provider).
    pub fn breaker_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    async fn call<F, Fut>(&self, operation: Operation, call: F) -> Result<Receipt, ProviderError>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<Receipt, ProviderError>> + Send,
    {
        // The last answer of the provider itself: when the breaker refuses a retry, the call
        // failed for that reason (a timeout stays a timeout).
        let last = std::sync::Mutex::new(None);
        let (call, breaker, timeout, last_ref) = (&call, &self.breaker, self.settings.timeout, &last);
        let attempt = move || async move {
            let bounded =
                async move { tokio::time::timeout(timeout, call()).await.unwrap_or(Err(ProviderError::Timeout)) };
            match breaker.call_with(counts_as_failure, bounded).await {
                Ok(receipt) => {
                    count(operation, "succeeded");
                    Ok(receipt)
                }
                Err(failsafe::Error::Inner(error)) => {
                    count(operation, error.label());
                    *last_ref.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
                    Err(Attempt::Failed(error))
                }
                Err(failsafe::Error::Rejected) => {
                    count(operation, "rejected");
                    Err(Attempt::Rejected)
                }
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.initial_backoff)
            .with_max_delay(self.settings.max_backoff)
            .with_max_times(self.settings.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        attempt
            .retry(backoff)
            .when(|attempt| matches!(attempt, Attempt::Failed(error) if error.is_transient()))
            .notify(|attempt, wait| {
                if let Attempt::Failed(error) = attempt {
                    tracing::warn!(operation = label(operation), %error, ?wait, "payment provider call failed; retrying");
                }
            })
            .await
            .map_err(|attempt| match attempt {
                Attempt::Failed(error) => error,
                Attempt::Rejected => {
                    last.lock().unwrap_or_else(std::sync::PoisonError::into_inner).unwrap_or(ProviderError::Unavailable)
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
