//! One guard for calls to something that can fail or hang (a neighbouring subgraph, the
//! payment provider): a time limit per attempt and for the whole call, retries with jittered
//! exponential backoff (backon) for failures that may pass, and a circuit breaker (failsafe)
//! that stops calling a dependency that keeps failing, whose state is a gauge.

use std::{
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
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

/// How hard a guard tries.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// How long one attempt may take before it counts as timed out.
    pub attempt_timeout: Duration,
    /// How long the whole call may take, retries included (unlimited when `None`).
    pub budget: Option<Duration>,
    /// Attempts per call, the first included, for calls that may be retried.
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles (with jitter) up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Consecutive failed attempts that open the breaker.
    pub breaker_failures: u32,
    /// How long the breaker first stays open before it lets a trial call through; it doubles
    /// up to `breaker_max_open` while trials keep failing.
    pub breaker_open: Duration,
    /// Longest the breaker stays open.
    pub breaker_max_open: Duration,
}

impl GuardSettings {
    /// The longest one guarded call can take: its budget, or every attempt timing out with the
    /// longest waits between them.
    pub fn longest_call(&self) -> Duration {
        self.budget.unwrap_or_else(|| {
            let attempts = self.max_attempts.max(1);
            self.attempt_timeout.saturating_mul(attempts).saturating_add(self.max_backoff.saturating_mul(attempts - 1))
        })
    }
}

/// The metrics a guard keeps: the gauge of its breaker (1 while open or half-open, that is
/// not yet proven healthy again; 0 while closed) and, if named, a counter of calls the open
/// breaker refused.
#[derive(Debug, Clone)]
pub struct GuardMetrics {
    /// Name of the breaker gauge.
    pub breaker_gauge: &'static str,
    /// Name of the counter of refused calls, if any.
    pub rejected_counter: Option<&'static str>,
    /// Labels of both, e.g. `[("upstream", "catalog")]`.
    pub labels: Vec<(&'static str, String)>,
}

/// What a guard needs to know about the errors of the calls it guards.
pub trait Failure: Clone + Send + Sync {
    /// Whether the failure may pass (so the attempt is retried, and counts against the
    /// breaker); an answer such as a declined card or a refused request is not one.
    fn is_transient(&self) -> bool;

    /// The failure of an attempt, or a call, that ran out of time.
    fn timed_out() -> Self;
}

/// Why a guarded call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<E> {
    /// The last attempt failed with this.
    Failed(E),
    /// The breaker is open, so the dependency was not called (again); `last` is how the
    /// call's previous attempt failed, if it made one.
    Rejected {
        /// The failure of the attempt before the breaker refused the next.
        last: Option<E>,
    },
}

#[derive(Clone)]
struct Gauge {
    metrics: Arc<GuardMetrics>,
    open: Arc<AtomicBool>,
}

impl Gauge {
    fn set(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
        metrics::gauge!(self.metrics.breaker_gauge, &self.metrics.labels).set(if open { 1.0 } else { 0.0 });
    }
}

impl Instrument for Gauge {
    fn on_call_rejected(&self) {
        if let Some(counter) = self.metrics.rejected_counter {
            metrics::counter!(counter, &self.metrics.labels).increment(1);
        }
    }

    fn on_open(&self) {
        tracing::warn!(breaker = self.metrics.breaker_gauge, labels = ?self.metrics.labels, "circuit breaker opened");
        self.set(true);
    }

    fn on_half_open(&self) {
        self.set(true);
    }

    fn on_closed(&self) {
        tracing::info!(breaker = self.metrics.breaker_gauge, labels = ?self.metrics.labels, "circuit breaker closed");
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

/// Why one attempt failed.
enum Attempt<E> {
    Failed(E),
    Rejected,
}

/// Guards the calls to one dependency.
pub struct Guard {
    settings: GuardSettings,
    breaker: StateMachine<ConsecutiveFailures<OpenPeriods>, Gauge>,
    open: Arc<AtomicBool>,
}

impl Guard {
    /// A guard with a closed breaker, its gauge set to 0.
    pub fn new(settings: GuardSettings, metrics: GuardMetrics) -> Self {
        let open = Arc::new(AtomicBool::new(false));
        let gauge = Gauge { metrics: Arc::new(metrics), open: open.clone() };
        gauge.set(false);
        let periods =
            OpenPeriods { next: settings.breaker_open, max: settings.breaker_max_open.max(settings.breaker_open) };
        let breaker = failsafe::Config::new()
            .failure_policy(consecutive_failures(settings.breaker_failures.max(1), periods))
            .instrument(gauge)
            .build();
        Self { settings, breaker, open }
    }

    /// Whether the breaker is open or half-open (calls are refused, or only a trial goes through).
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// Runs `attempt` under the guard, retrying transient failures up to the settings'
    /// attempts (one attempt only unless `retry`); `observe` sees how each attempt that ran
    /// ended (`None`: it succeeded).
    pub async fn call<T, E, F, Fut>(
        &self,
        retry: bool,
        attempt: F,
        observe: impl Fn(Option<&E>) + Sync,
    ) -> Result<T, Refusal<E>>
    where
        E: Failure,
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        let last = Mutex::new(None);
        // Whether an attempt is running: the budget may run out during one (which the breaker
        // must count) or while waiting to retry (which it already counted).
        let in_flight = AtomicBool::new(false);
        let (attempt, observe, last_ref, breaker, running) = (&attempt, &observe, &last, &self.breaker, &in_flight);
        let timeout = self.settings.attempt_timeout;
        let once = move || async move {
            let bounded = async move { tokio::time::timeout(timeout, attempt()).await.unwrap_or(Err(E::timed_out())) };
            running.store(true, Ordering::SeqCst);
            let outcome = breaker.call_with(E::is_transient, bounded).await;
            running.store(false, Ordering::SeqCst);
            match outcome {
                Ok(value) => {
                    observe(None);
                    Ok(value)
                }
                Err(failsafe::Error::Inner(error)) => {
                    observe(Some(&error));
                    *last_ref.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
                    Err(Attempt::Failed(error))
                }
                Err(failsafe::Error::Rejected) => Err(Attempt::Rejected),
            }
        };
        let retries = if retry { self.settings.max_attempts.saturating_sub(1) as usize } else { 0 };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.initial_backoff)
            .with_max_delay(self.settings.max_backoff)
            .with_max_times(retries)
            .with_jitter();
        let attempts = once
            .retry(backoff)
            .when(|attempt| matches!(attempt, Attempt::Failed(error) if error.is_transient()))
            .notify(|attempt, wait| {
                if let Attempt::Failed(error) = attempt {
                    tracing::debug!(?wait, transient = error.is_transient(), "guarded call failed; retrying");
                }
            });
        let outcome = match self.settings.budget {
            None => attempts.await,
            Some(budget) => match tokio::time::timeout(budget, attempts).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    if in_flight.load(Ordering::SeqCst) {
                        // The budget cut an attempt short, which the breaker never saw end.
                        self.breaker.on_error();
                    }
                    Err(Attempt::Failed(E::timed_out()))
                }
            },
        };
        outcome.map_err(|attempt| match attempt {
            Attempt::Failed(error) => Refusal::Failed(error),
            Attempt::Rejected => Refusal::Rejected { last: last.lock().unwrap_or_else(PoisonError::into_inner).take() },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum TestError {
        Down,
        Refused,
        TimedOut,
    }

    impl Failure for TestError {
        fn is_transient(&self) -> bool {
            !matches!(self, Self::Refused)
        }

        fn timed_out() -> Self {
            Self::TimedOut
        }
    }

    fn guard(budget: Option<Duration>) -> Guard {
        let settings = GuardSettings {
            attempt_timeout: Duration::from_millis(100),
            budget,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            breaker_failures: 4,
            breaker_open: Duration::from_secs(60),
            breaker_max_open: Duration::from_secs(60),
        };
        Guard::new(
            settings,
            GuardMetrics { breaker_gauge: "test_breaker_open", rejected_counter: None, labels: vec![] },
        )
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_answers_are_not() {
        let guard = guard(None);
        let calls = AtomicUsize::new(0);
        let down = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(TestError::Down)
        };
        assert_eq!(guard.call(true, down, |_| {}).await, Err(Refusal::Failed(TestError::Down)));
        assert_eq!(calls.swap(0, Ordering::SeqCst), 3, "three attempts");
        let refused = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(TestError::Refused)
        };
        assert_eq!(guard.call(true, refused, |_| {}).await, Err(Refusal::Failed(TestError::Refused)));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is an answer");
        assert!(!guard.is_open(), "an answer resets the count of failures");
    }

    #[tokio::test]
    async fn consecutive_failures_open_the_breaker_which_then_refuses_without_calling() {
        let guard = guard(None);
        let calls = AtomicUsize::new(0);
        let down = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(TestError::Down)
        };
        assert_eq!(guard.call(true, down, |_| {}).await, Err(Refusal::Failed(TestError::Down)));
        let refused = guard.call(true, down, |_| {}).await;
        assert_eq!(refused, Err(Refusal::Rejected { last: Some(TestError::Down) }), "the fourth failure opened it");
        assert!(guard.is_open());
        assert_eq!(calls.swap(0, Ordering::SeqCst), 4);
        assert_eq!(guard.call(true, down, |_| {}).await, Err(Refusal::Rejected { last: None }));
        assert_eq!(calls.load(Ordering::SeqCst), 0, "an open breaker does not call");
    }

    #[tokio::test]
    async fn a_hanging_dependency_costs_the_budget_at_most() {
        let guard = guard(Some(Duration::from_millis(150)));
        let hang = || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), TestError>(())
        };
        let started = tokio::time::Instant::now();
        assert_eq!(guard.call(true, hang, |_| {}).await, Err(Refusal::Failed(TestError::TimedOut)));
        assert!(started.elapsed() < Duration::from_secs(10), "bounded, never the hour");
    }
}
