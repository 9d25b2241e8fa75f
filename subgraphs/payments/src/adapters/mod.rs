//! What payments calls out to: the payment provider, behind a small trait so the service
//! never knows which one it talks to. A [`SimulatedProvider`] behaves like a real one (in this
//! process, or as its own process behind [`HttpProvider`]'s HTTP API), and a
//! [`ResilientProvider`] wrapper adds a timeout per call, bounded retries with the same
//! idempotency key, and a circuit breaker.
//!
//! Every call takes an idempotency key: the provider answers a repeated key with the first
//! answer instead of acting again, so a retried charge never charges twice.

mod http;
mod resilient;
mod simulated;

use shop_kernel::CurrencyCode;

pub use self::{
    http::{HttpProvider, simulated_routes},
    resilient::ResilientProvider,
    simulated::{LedgerEntry, SimulatedProvider, SimulatedSettings, tokens},
};
use crate::domain::FailureCode;

/// Why the provider did not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The issuer refused (also: an unknown token or reference, an amount beyond what is held).
    #[error("declined by the provider")]
    Declined,
    /// The payment method lacks the funds.
    #[error("insufficient funds")]
    InsufficientFunds,
    /// No answer in time; the provider may or may not have acted.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider could not be reached, or refused to work (or the breaker is open).
    #[error("the provider is unavailable")]
    Unavailable,
}

impl ProviderError {
    /// Whether trying again (with the same idempotency key) may succeed.
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::Timeout | Self::Unavailable)
    }

    /// The failure code a payment records for it.
    pub const fn failure_code(self) -> FailureCode {
        match self {
            Self::Declined => FailureCode::Declined,
            Self::InsufficientFunds => FailureCode::InsufficientFunds,
            Self::Timeout => FailureCode::Timeout,
            Self::Unavailable => FailureCode::ProviderUnavailable,
        }
    }

    /// The `outcome` label of metrics.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Declined => "declined",
            Self::InsufficientFunds => "insufficient_funds",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
        }
    }
}

/// A request to hold an amount on a payment method.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// The payment method token from the client (never a card number); passed through,
    /// never stored or logged.
    pub token: String,
    pub amount_minor: i64,
    pub currency: CurrencyCode,
}

impl std::fmt::Debug for AuthorizeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeRequest")
            .field("token", &"<redacted>")
            .field("amount_minor", &self.amount_minor)
            .field("currency", &self.currency)
            .finish()
    }
}

/// What the provider answered: its id of what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's reference (of the authorization, capture, void or refund).
    pub reference: String,
}

/// A payment provider. `authorization` is the reference returned by `authorize`.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Holds `request.amount_minor` on the payment method.
    async fn authorize(&self, request: &AuthorizeRequest, idempotency_key: &str) -> Result<Receipt, ProviderError>;
    /// Takes `amount_minor` of what the authorization holds.
    async fn capture(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError>;
    /// Releases an authorization that was not captured.
    async fn void(&self, authorization: &str, idempotency_key: &str) -> Result<Receipt, ProviderError>;
    /// Gives back `amount_minor` of what was captured.
    async fn refund(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError>;
}
