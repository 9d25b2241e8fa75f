//! A provider that behaves like a real one, driven by test card tokens.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use uuid::Uuid;

use super::{AuthorizeRequest, PaymentProvider, ProviderError, Receipt};
use crate::domain::Operation;

/// The test card tokens the simulated provider knows. Any other token is declined.
pub mod tokens {
    /// Authorizes at once.
    pub const VISA: &str = "tok_visa";
    /// Declined by the issuer.
    pub const DECLINED: &str = "tok_declined";
    /// Declined for insufficient funds.
    pub const INSUFFICIENT_FUNDS: &str = "tok_insufficient_funds";
    /// Never answers: the call sleeps far past any timeout.
    pub const TIMEOUT: &str = "tok_timeout";
    /// Authorizes after a delay (1 s by default).
    pub const SLOW: &str = "tok_slow";
    /// The provider answers "unavailable" (HTTP 503), every time.
    pub const UNAVAILABLE: &str = "tok_unavailable";
    /// Authorizes, but answers only after a long delay (5 s by default): past a caller's
    /// timeout, the way a real provider's timeout usually is, so the caller learns that the
    /// hold exists only when it asks again with the same idempotency key.
    pub const LATE: &str = "tok_late";
}

/// Timing of the simulated provider.
#[derive(Debug, Clone)]
pub struct SimulatedSettings {
    /// How long `tok_slow` takes. Default 1 s.
    pub slow: Duration,
    /// How long `tok_timeout` hangs before giving up. Default 1 hour.
    pub hang: Duration,
    /// How long `tok_late` takes to authorize. Default 5 s.
    pub late: Duration,
}

impl Default for SimulatedSettings {
    fn default() -> Self {
        Self { slow: Duration::from_secs(1), hang: Duration::from_secs(3600), late: Duration::from_secs(5) }
    }
}

/// What the provider holds for one authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub voided: bool,
}

type Answer = Result<Receipt, ProviderError>;
type Slot = Arc<tokio::sync::Mutex<Option<Answer>>>;

/// One authorization as the provider's books show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// The reference `authorize` returned.
    pub authorization: String,
    /// The idempotency key of the `authorize` call that made it.
    pub idempotency_key: String,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub voided: bool,
}

#[derive(Default)]
struct Ledger {
    holds: HashMap<String, Hold>,
    /// The idempotency key that made each hold.
    keys: HashMap<String, String>,
    /// Authorizations actually made, per idempotency key.
    charges: HashMap<String, usize>,
}

/// An in-process payment provider with the behaviour of a real one: test tokens decide the
/// outcome (see [`tokens`]), and an idempotency key seen before gets the first answer again
/// instead of a second charge. Like a real provider, it finishes what it started even when
/// the caller stops waiting (a timeout), and a call arriving while the first call with its
/// key is still being worked on waits for that first answer.
///
/// Only definite answers are remembered: a call that hung or met an outage did nothing, so
/// its retry runs anew.
pub struct SimulatedProvider {
    inner: Arc<Inner>,
}

struct Inner {
    settings: SimulatedSettings,
    answers: Mutex<HashMap<(Operation, String), Slot>>,
    ledger: Mutex<Ledger>,
    outage: AtomicBool,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn reference(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::now_v7().simple())
}

impl Default for SimulatedProvider {
    fn default() -> Self {
        Self::new(SimulatedSettings::default())
    }
}

impl SimulatedProvider {
    /// A provider with the given timing and no history.
    pub fn new(settings: SimulatedSettings) -> Self {
        let inner = Inner {
            settings,
            answers: Mutex::new(HashMap::new()),
            ledger: Mutex::new(Ledger::default()),
            outage: AtomicBool::new(false),
        };
        Self { inner: Arc::new(inner) }
    }

    /// How many authorizations were actually made under `idempotency_key` (a repeated key
    /// that replayed the first answer does not count).
    pub fn charges(&self, idempotency_key: &str) -> usize {
        locked(&self.inner.ledger).charges.get(idempotency_key).copied().unwrap_or(0)
    }

    /// Authorizations actually made, over all keys.
    pub fn total_charges(&self) -> usize {
        locked(&self.inner.ledger).charges.values().sum()
    }

    /// What the provider holds for an authorization.
    pub fn hold(&self, authorization: &str) -> Option<Hold> {
        locked(&self.inner.ledger).holds.get(authorization).copied()
    }

    /// Every authorization ever made, as the provider's books show it (for reconciliation).
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let ledger = locked(&self.inner.ledger);
        let mut entries: Vec<LedgerEntry> = ledger
            .holds
            .iter()
            .map(|(authorization, hold)| LedgerEntry {
                authorization: authorization.clone(),
                idempotency_key: ledger.keys.get(authorization).cloned().unwrap_or_default(),
                amount_minor: hold.amount_minor,
                captured_minor: hold.captured_minor,
                refunded_minor: hold.refunded_minor,
                voided: hold.voided,
            })
            .collect();
        entries.sort_by(|a, b| a.authorization.cmp(&b.authorization));
        entries
    }

    /// Starts (`true`) or ends an outage: meanwhile every call answers `Unavailable`.
    pub fn set_outage(&self, down: bool) {
        self.inner.outage.store(down, Ordering::SeqCst);
    }

    /// Runs `act` once per operation and key, to the end even if the caller stops waiting;
    /// later calls with the key get its answer.
    async fn once<F, Fut>(&self, operation: Operation, key: &str, act: F) -> Answer
    where
        F: FnOnce(Arc<Inner>) -> Fut + Send + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        if self.inner.outage.load(Ordering::SeqCst) {
            return Err(ProviderError::Unavailable);
        }
        let slot = locked(&self.inner.answers).entry((operation, key.to_owned())).or_default().clone();
        let inner = self.inner.clone();
        let work = tokio::spawn(async move {
            let mut answer = slot.lock_owned().await;
            if let Some(previous) = answer.as_ref() {
                return previous.clone();
            }
            let result = act(inner).await;
            if !matches!(&result, Err(error) if error.is_transient()) {
                *answer = Some(result.clone());
            }
            result
        });
        work.await.unwrap_or(Err(ProviderError::Unavailable))
    }
}

impl Inner {
    fn open_hold(&self, key: &str, amount_minor: i64) -> Answer {
        let mut ledger = locked(&self.ledger);
        let authorization = reference("auth");
        ledger
            .holds
            .insert(authorization.clone(), Hold { amount_minor, captured_minor: 0, refunded_minor: 0, voided: false });
        ledger.keys.insert(authorization.clone(), key.to_owned());
        *ledger.charges.entry(key.to_owned()).or_default() += 1;
        Ok(Receipt { reference: authorization })
    }

    /// Applies `change` to the hold of `authorization`; declined when there is none or the
    /// change does not apply.
    fn change_hold(&self, authorization: &str, prefix: &str, change: impl FnOnce(&mut Hold) -> bool) -> Answer {
        let mut ledger = locked(&self.ledger);
        let changed = ledger.holds.get_mut(authorization).is_some_and(change);
        if changed { Ok(Receipt { reference: reference(prefix) }) } else { Err(ProviderError::Declined) }
    }

    async fn authorize(&self, token: &str, amount_minor: i64, key: &str) -> Answer {
        if amount_minor <= 0 {
            return Err(ProviderError::Declined);
        }
        match token {
            tokens::VISA => self.open_hold(key, amount_minor),
            tokens::SLOW => {
                tokio::time::sleep(self.settings.slow).await;
                self.open_hold(key, amount_minor)
            }
            tokens::LATE => {
                tokio::time::sleep(self.settings.late).await;
                self.open_hold(key, amount_minor)
            }
            tokens::TIMEOUT => {
                tokio::time::sleep(self.settings.hang).await;
                Err(ProviderError::Timeout)
            }
            tokens::UNAVAILABLE => Err(ProviderError::Unavailable),
            tokens::INSUFFICIENT_FUNDS => Err(ProviderError::InsufficientFunds),
            _ => Err(ProviderError::Declined),
        }
    }
}

#[async_trait::async_trait]
impl PaymentProvider for SimulatedProvider {
    async fn authorize(&self, request: &AuthorizeRequest, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        let (token, amount, key) = (request.token.clone(), request.amount_minor, idempotency_key.to_owned());
        self.once(Operation::Authorize, idempotency_key, move |inner| async move {
            inner.authorize(&token, amount, &key).await
        })
        .await
    }

    async fn capture(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        let authorization = authorization.to_owned();
        self.once(Operation::Capture, idempotency_key, move |inner| async move {
            inner.change_hold(&authorization, "cap", |hold| {
                let fits =
                    !hold.voided && hold.captured_minor == 0 && amount_minor > 0 && amount_minor <= hold.amount_minor;
                if fits {
                    hold.captured_minor = amount_minor;
                }
                fits
            })
        })
        .await
    }

    async fn void(&self, authorization: &str, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        let authorization = authorization.to_owned();
        self.once(Operation::Void, idempotency_key, move |inner| async move {
            inner.change_hold(&authorization, "void", |hold| {
                let open = !hold.voided && hold.captured_minor == 0;
                if open {
                    hold.voided = true;
                }
                open
            })
        })
        .await
    }

    async fn refund(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        let authorization = authorization.to_owned();
        self.once(Operation::Refund, idempotency_key, move |inner| async move {
            inner.change_hold(&authorization, "re", |hold| {
                let fits = amount_minor > 0 && hold.refunded_minor + amount_minor <= hold.captured_minor;
                if fits {
                    hold.refunded_minor += amount_minor;
                }
                fits
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use shop_kernel::CurrencyCode;

    use super::*;

    fn request(token: &str) -> AuthorizeRequest {
        AuthorizeRequest { token: token.into(), amount_minor: 1000, currency: CurrencyCode::Usd }
    }

    #[tokio::test]
    async fn tokens_decide_the_outcome() {
        let provider = SimulatedProvider::default();
        assert!(provider.authorize(&request(tokens::VISA), "a").await.is_ok());
        assert_eq!(provider.authorize(&request(tokens::DECLINED), "b").await, Err(ProviderError::Declined));
        assert_eq!(
            provider.authorize(&request(tokens::INSUFFICIENT_FUNDS), "c").await,
            Err(ProviderError::InsufficientFunds)
        );
        assert_eq!(provider.authorize(&request("tok_nobody_knows"), "d").await, Err(ProviderError::Declined));
        assert_eq!(provider.authorize(&request(tokens::UNAVAILABLE), "e").await, Err(ProviderError::Unavailable));
        assert_eq!(provider.total_charges(), 1);
    }

    #[tokio::test]
    async fn a_repeated_key_replays_the_first_answer() {
        let provider = SimulatedProvider::default();
        let first = provider.authorize(&request(tokens::VISA), "order-1").await.unwrap();
        let again = provider.authorize(&request(tokens::VISA), "order-1").await.unwrap();
        assert_eq!(first, again);
        assert_eq!(provider.charges("order-1"), 1);
        let declined = provider.authorize(&request(tokens::DECLINED), "order-2").await;
        assert_eq!(provider.authorize(&request(tokens::VISA), "order-2").await, declined, "declines are answers too");
    }

    #[tokio::test]
    async fn captures_and_refunds_stay_within_the_hold() {
        let provider = SimulatedProvider::default();
        let auth = provider.authorize(&request(tokens::VISA), "o").await.unwrap().reference;
        assert_eq!(provider.refund(&auth, 1, "r0").await, Err(ProviderError::Declined), "nothing captured yet");
        assert_eq!(provider.capture(&auth, 1001, "c0").await, Err(ProviderError::Declined));
        provider.capture(&auth, 1000, "c1").await.unwrap();
        provider.refund(&auth, 600, "r1").await.unwrap();
        provider.refund(&auth, 600, "r1").await.unwrap();
        assert_eq!(provider.refund(&auth, 401, "r2").await, Err(ProviderError::Declined));
        assert_eq!(provider.hold(&auth).unwrap().refunded_minor, 600, "a replayed refund refunds once");
        assert_eq!(provider.void(&auth, "v").await, Err(ProviderError::Declined), "a capture cannot be voided");
    }

    #[tokio::test]
    async fn a_charge_finishes_after_the_caller_stops_waiting() {
        let provider = SimulatedProvider::new(SimulatedSettings {
            slow: Duration::from_millis(100),
            ..SimulatedSettings::default()
        });
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), provider.authorize(&request(tokens::SLOW), "o")).await;
        assert!(gave_up.is_err());
        let retried = provider.authorize(&request(tokens::SLOW), "o").await.unwrap();
        assert_eq!(provider.charges("o"), 1, "the retry waited for the first charge and got its answer");
        assert!(provider.hold(&retried.reference).is_some());
    }

    #[tokio::test]
    async fn an_outage_answers_unavailable_and_remembers_nothing() {
        let provider = SimulatedProvider::default();
        provider.set_outage(true);
        assert_eq!(provider.authorize(&request(tokens::VISA), "o").await, Err(ProviderError::Unavailable));
        provider.set_outage(false);
        assert!(provider.authorize(&request(tokens::VISA), "o").await.is_ok());
        assert_eq!(provider.charges("o"), 1);
    }
}
