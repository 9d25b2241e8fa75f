//! Refunds: what a refund request must look like and how much may be given back.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{FailureCode, Payment, PaymentStatus};

/// The longest idempotency key a client may send.
pub const MAX_KEY_LEN: usize = 100;
/// The longest refund reason.
pub const MAX_REASON_LEN: usize = 500;
/// The idempotency key of the refund the saga makes when it voids a captured payment. It
/// holds a `:`, which client keys may not, so the two never collide.
pub const SAGA_VOID_KEY: &str = "saga:void";

/// Where a refund is.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundStatus {
    /// Its amount is held against the payment while the provider is asked; retry with the
    /// same idempotency key to finish it.
    Pending,
    /// The money went back to the customer.
    Succeeded,
    /// The provider refused it; its amount is refundable again.
    Failed,
}

impl RefundStatus {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|st| st.as_str() == s)
    }
}

/// Money given back for a captured payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub order_id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub idempotency_key: String,
    pub status: RefundStatus,
    pub failure_code: Option<FailureCode>,
    /// The provider's id of the refund.
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a refund request is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundInputError {
    #[error("idempotency key must be 1 to {MAX_KEY_LEN} of A-Z, a-z, 0-9, `-`, `_`, `.`")]
    BadKey,
    #[error("reason must be 1 to {MAX_REASON_LEN} characters")]
    BadReason,
}

/// A client's idempotency key: short, and without `:` (keys with it belong to the saga).
pub fn parse_key(key: &str) -> Result<String, RefundInputError> {
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid { Ok(key.to_owned()) } else { Err(RefundInputError::BadKey) }
}

/// A refund reason, trimmed.
pub fn parse_reason(reason: &str) -> Result<String, RefundInputError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_LEN {
        return Err(RefundInputError::BadReason);
    }
    Ok(reason.to_owned())
}

/// Why a payment cannot give back an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    /// Nothing was taken, so nothing can be given back.
    #[error("the payment is {} and has nothing captured to refund", .0.as_str())]
    NotCaptured(PaymentStatus),
    /// Zero or negative.
    #[error("the amount must be greater than zero")]
    InvalidAmount,
    /// More than was captured and not yet refunded.
    #[error("at most {refundable} (minor units) can still be refunded")]
    ExceedsRefundable { refundable: i64 },
}

/// Checks that `payment` may give back `amount_minor` now.
pub fn check_refund(payment: &Payment, amount_minor: i64) -> Result<(), RefundRefusal> {
    if !payment.status.is_captured() {
        return Err(RefundRefusal::NotCaptured(payment.status));
    }
    if amount_minor <= 0 {
        return Err(RefundRefusal::InvalidAmount);
    }
    let refundable = payment.refundable_minor();
    if amount_minor > refundable {
        return Err(RefundRefusal::ExceedsRefundable { refundable });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use shop_kernel::CurrencyCode;

    use super::*;

    fn payment(status: PaymentStatus, captured: i64, refunded: i64) -> Payment {
        let now = Utc::now();
        Payment {
            id: Uuid::now_v7(),
            order_id: "o-1".into(),
            user_id: Uuid::nil().to_string(),
            currency: CurrencyCode::Usd,
            amount_minor: 1000,
            authorized_minor: 1000,
            captured_minor: captured,
            refunded_minor: refunded,
            status,
            failure_code: None,
            provider_reference: Some("auth_1".into()),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn refunds_never_exceed_what_was_captured() {
        let captured = payment(PaymentStatus::Captured, 1000, 0);
        assert_eq!(check_refund(&captured, 400), Ok(()));
        assert_eq!(check_refund(&captured, 1000), Ok(()));
        assert_eq!(check_refund(&captured, 1001), Err(RefundRefusal::ExceedsRefundable { refundable: 1000 }));
        let partly = payment(PaymentStatus::PartiallyRefunded, 1000, 600);
        assert_eq!(check_refund(&partly, 400), Ok(()));
        assert_eq!(check_refund(&partly, 401), Err(RefundRefusal::ExceedsRefundable { refundable: 400 }));
        let all = payment(PaymentStatus::Refunded, 1000, 1000);
        assert_eq!(check_refund(&all, 1), Err(RefundRefusal::ExceedsRefundable { refundable: 0 }));
    }

    #[test]
    fn only_captured_payments_refund_positive_amounts() {
        for status in [PaymentStatus::Authorized, PaymentStatus::Voided, PaymentStatus::Failed] {
            assert_eq!(check_refund(&payment(status, 0, 0), 1), Err(RefundRefusal::NotCaptured(status)));
        }
        let captured = payment(PaymentStatus::Captured, 1000, 0);
        assert_eq!(check_refund(&captured, 0), Err(RefundRefusal::InvalidAmount));
        assert_eq!(check_refund(&captured, -5), Err(RefundRefusal::InvalidAmount));
    }

    #[test]
    fn keys_and_reasons_are_checked() {
        assert_eq!(parse_key("refund-2024.01_a"), Ok("refund-2024.01_a".into()));
        assert_eq!(parse_key(""), Err(RefundInputError::BadKey));
        assert_eq!(parse_key(SAGA_VOID_KEY), Err(RefundInputError::BadKey), "saga keys are not client keys");
        assert_eq!(parse_key(&"k".repeat(MAX_KEY_LEN + 1)), Err(RefundInputError::BadKey));
        assert_eq!(parse_reason("  damaged  "), Ok("damaged".into()));
        assert_eq!(parse_reason("   "), Err(RefundInputError::BadReason));
    }

    #[test]
    fn refund_statuses_round_trip() {
        for status in [RefundStatus::Pending, RefundStatus::Succeeded, RefundStatus::Failed] {
            assert_eq!(RefundStatus::parse(status.as_str()), Some(status));
        }
    }
}
