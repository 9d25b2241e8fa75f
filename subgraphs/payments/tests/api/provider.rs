//! The provider adapter: a repeated idempotency key never charges twice, timeouts are retried
//! with the same key and end as `Timeout`, declines are not retried, and a failing provider
//! opens the breaker (gauge `payments_provider_breaker_open` = 1) until it recovers.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use shop_kernel::{CurrencyCode, resilience::GuardSettings};
use shop_payments::adapters::{
    AuthorizeRequest, HttpProvider, PaymentProvider, ProviderError, Receipt, ResilientProvider, SimulatedProvider,
    SimulatedSettings, tokens,
};

use crate::{SLOW, quick_resilience};

fn request(token: &str) -> AuthorizeRequest {
    AuthorizeRequest { token: token.into(), amount_minor: 2500, currency: CurrencyCode::Usd }
}

fn simulated() -> Arc<SimulatedProvider> {
    Arc::new(SimulatedProvider::new(SimulatedSettings { slow: SLOW, ..SimulatedSettings::default() }))
}

/// Passes calls through and remembers the idempotency key of each.
struct Recording {
    inner: Arc<SimulatedProvider>,
    keys: Mutex<Vec<String>>,
}

impl Recording {
    fn new(inner: Arc<SimulatedProvider>) -> Arc<Self> {
        Arc::new(Self { inner, keys: Mutex::new(Vec::new()) })
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }

    fn record(&self, key: &str) {
        self.keys.lock().unwrap().push(key.to_owned());
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Recording {
    async fn authorize(&self, request: &AuthorizeRequest, key: &str) -> Result<Receipt, ProviderError> {
        self.record(key);
        self.inner.authorize(request, key).await
    }

    async fn capture(&self, authorization: &str, amount: i64, key: &str) -> Result<Receipt, ProviderError> {
        self.record(key);
        self.inner.capture(authorization, amount, key).await
    }

    async fn void(&self, authorization: &str, key: &str) -> Result<Receipt, ProviderError> {
        self.record(key);
        self.inner.void(authorization, key).await
    }

    async fn refund(&self, authorization: &str, amount: i64, key: &str) -> Result<Receipt, ProviderError> {
        self.record(key);
        self.inner.refund(authorization, amount, key).await
    }
}

#[tokio::test]
async fn the_same_key_twice_charges_once() {
    let provider = simulated();
    let first = provider.authorize(&request(tokens::VISA), "order-1").await.unwrap();
    let second = provider.authorize(&request(tokens::VISA), "order-1").await.unwrap();
    assert_eq!(first, second, "the retry gets the first answer");
    assert_eq!(provider.charges("order-1"), 1);

    // Two calls with one key at once: the second waits for the first and replays it.
    let slow = request(tokens::SLOW);
    let (a, b) = tokio::join!(provider.authorize(&slow, "order-2"), provider.authorize(&slow, "order-2"));
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(provider.charges("order-2"), 1);
    assert_eq!(provider.total_charges(), 2);
}

#[tokio::test]
async fn a_slow_provider_answers_within_the_timeout() {
    let provider = simulated();
    let resilient =
        ResilientProvider::new(provider.clone(), GuardSettings { attempt_timeout: SLOW * 3, ..quick_resilience() });
    let started = Instant::now();
    resilient.authorize(&request(tokens::SLOW), "slow-order").await.unwrap();
    assert!(started.elapsed() >= SLOW, "tok_slow takes its time");
    assert_eq!(provider.charges("slow-order"), 1);
}

#[tokio::test]
async fn a_timeout_is_retried_with_the_same_key_then_reported() {
    let recording = Recording::new(simulated());
    let resilient = ResilientProvider::new(recording.clone(), quick_resilience());
    let started = Instant::now();
    let result = resilient.authorize(&request(tokens::TIMEOUT), "order-t").await;
    assert_eq!(result, Err(ProviderError::Timeout));
    assert_eq!(recording.keys(), vec!["order-t"; 3], "three attempts, one idempotency key");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the timeout, not the hang: {:?}",
        started.elapsed()
    );
    assert_eq!(recording.inner.charges("order-t"), 0);
}

#[tokio::test]
async fn a_slow_charge_retried_after_a_timeout_charges_once() {
    // The first attempt times out while the provider is still working on it; the retry with
    // the same key waits for that work and gets its answer: one charge.
    let recording = Recording::new(simulated());
    let settings = GuardSettings { attempt_timeout: SLOW * 2 / 3, max_attempts: 3, ..quick_resilience() };
    let resilient = ResilientProvider::new(recording.clone(), settings);
    resilient.authorize(&request(tokens::SLOW), "order-s").await.expect("the retry gets the first charge");
    assert_eq!(recording.keys(), vec!["order-s"; 2], "one timeout, one retry with the same key");
    assert_eq!(recording.inner.charges("order-s"), 1);
}

#[tokio::test]
async fn declines_are_answers_not_failures() {
    let recording = Recording::new(simulated());
    let resilient = ResilientProvider::new(recording.clone(), quick_resilience());
    assert_eq!(resilient.authorize(&request(tokens::DECLINED), "d").await, Err(ProviderError::Declined));
    assert_eq!(
        resilient.authorize(&request(tokens::INSUFFICIENT_FUNDS), "i").await,
        Err(ProviderError::InsufficientFunds)
    );
    assert_eq!(recording.keys(), vec!["d", "i"], "not retried");
}

#[tokio::test]
async fn an_outage_is_retried_until_it_ends() {
    let provider = simulated();
    let settings = GuardSettings {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(50),
        ..quick_resilience()
    };
    let resilient = Arc::new(ResilientProvider::new(provider.clone(), settings));
    provider.set_outage(true);
    let call = tokio::spawn({
        let resilient = resilient.clone();
        async move { resilient.authorize(&request(tokens::VISA), "order-o").await }
    });
    tokio::time::sleep(Duration::from_millis(120)).await;
    provider.set_outage(false);
    call.await.unwrap().expect("succeeds once the provider is back");
    assert_eq!(provider.charges("order-o"), 1);
}

fn breaker_gauge() -> Option<String> {
    let rendered = shop_kernel::metrics::handle()?.render();
    rendered.lines().find(|l| l.starts_with("payments_provider_breaker_open")).map(str::to_owned)
}

#[tokio::test]
async fn repeated_failures_open_the_breaker_and_a_recovery_closes_it() {
    let _ = shop_kernel::metrics::handle();
    let recording = Recording::new(simulated());
    let settings = GuardSettings {
        max_attempts: 1,
        breaker_failures: 3,
        breaker_open: Duration::from_millis(300),
        breaker_max_open: Duration::from_millis(300),
        ..quick_resilience()
    };
    let resilient = ResilientProvider::new(recording.clone(), settings);
    assert!(!resilient.breaker_open());
    assert_eq!(breaker_gauge().as_deref(), Some("payments_provider_breaker_open 0"));

    recording.inner.set_outage(true);
    for n in 0..3 {
        assert_eq!(
            resilient.authorize(&request(tokens::VISA), &format!("b{n}")).await,
            Err(ProviderError::Unavailable)
        );
    }
    assert!(resilient.breaker_open(), "three failures in a row open it");
    assert_eq!(breaker_gauge().as_deref(), Some("payments_provider_breaker_open 1"));

    // While open, calls fail fast without reaching the provider.
    let calls = recording.keys().len();
    assert_eq!(resilient.authorize(&request(tokens::VISA), "b-rejected").await, Err(ProviderError::Unavailable));
    assert_eq!(recording.keys().len(), calls, "the provider was not called");
    let rendered = shop_kernel::metrics::handle().unwrap().render();
    assert!(
        rendered.lines().any(|l| l.starts_with("payments_provider_calls_total") && l.contains("outcome=\"rejected\"")),
        "{rendered}"
    );

    // After the open period a trial call goes through; it succeeds and closes the breaker.
    recording.inner.set_outage(false);
    tokio::time::sleep(Duration::from_millis(400)).await;
    resilient.authorize(&request(tokens::VISA), "b-trial").await.unwrap();
    assert!(!resilient.breaker_open());
    assert_eq!(breaker_gauge().as_deref(), Some("payments_provider_breaker_open 0"));
}

#[tokio::test]
async fn timeouts_count_against_the_breaker() {
    let recording = Recording::new(simulated());
    let settings = GuardSettings { max_attempts: 2, breaker_failures: 3, ..quick_resilience() };
    let resilient = ResilientProvider::new(recording.clone(), settings);
    assert_eq!(resilient.authorize(&request(tokens::TIMEOUT), "t1").await, Err(ProviderError::Timeout));
    assert!(!resilient.breaker_open());
    // The third consecutive timeout opens the breaker, which then refuses the retry: the
    // call still ends as the timeout it was.
    assert_eq!(resilient.authorize(&request(tokens::TIMEOUT), "t2").await, Err(ProviderError::Timeout));
    assert!(resilient.breaker_open());
    assert_eq!(resilient.authorize(&request(tokens::VISA), "t3").await, Err(ProviderError::Unavailable));
    assert_eq!(recording.keys(), vec!["t1", "t1", "t2"]);
}

/// Serves `provider` over the simulated provider's HTTP API on a free port.
async fn served(provider: Arc<SimulatedProvider>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, shop_payments::adapters::simulated_routes(provider)).await });
    format!("http://{address}")
}

#[tokio::test]
async fn the_http_provider_gets_the_same_answers_as_the_simulated_one_in_process() {
    let books = simulated();
    let provider = HttpProvider::new(&served(books.clone()).await, Duration::from_secs(5)).unwrap();
    let held = provider.authorize(&request(tokens::VISA), "order-h").await.unwrap();
    assert_eq!(provider.authorize(&request(tokens::VISA), "order-h").await.unwrap(), held, "a repeated key replays");
    assert_eq!(books.charges("order-h"), 1);
    assert_eq!(provider.authorize(&request(tokens::DECLINED), "order-d").await, Err(ProviderError::Declined));
    assert_eq!(
        provider.authorize(&request(tokens::INSUFFICIENT_FUNDS), "order-f").await,
        Err(ProviderError::InsufficientFunds)
    );
    assert_eq!(provider.authorize(&request(tokens::UNAVAILABLE), "order-u").await, Err(ProviderError::Unavailable));
    provider.capture(&held.reference, 2500, "cap-h").await.unwrap();
    assert_eq!(provider.void(&held.reference, "void-h").await, Err(ProviderError::Declined), "captured: no void");
    provider.refund(&held.reference, 1000, "re-h").await.unwrap();
    assert_eq!(provider.capture("auth_unknown", 1, "cap-x").await, Err(ProviderError::Declined));
    assert_eq!(provider.void("../ledger", "void-x").await, Err(ProviderError::Declined), "not sent");

    let ledger = provider.ledger().await.unwrap();
    assert_eq!(ledger.len(), 1, "one hold: {ledger:?}");
    let entry = &ledger[0];
    assert_eq!((entry.idempotency_key.as_str(), entry.amount_minor), ("order-h", 2500));
    assert_eq!((entry.captured_minor, entry.refunded_minor, entry.voided), (2500, 1000, false));
}

#[tokio::test]
async fn a_provider_nobody_answers_at_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let provider = HttpProvider::new(&format!("http://{address}"), Duration::from_secs(5)).unwrap();
    assert_eq!(provider.authorize(&request(tokens::VISA), "order-n").await, Err(ProviderError::Unavailable));
}
