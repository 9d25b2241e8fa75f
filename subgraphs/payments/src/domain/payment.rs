//! A payment and the life of its status.

use chrono::{DateTime, Utc};
use shop_kernel::{CurrencyCode, Money};
use uuid::Uuid;

/// Where a payment is in its life.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// The provider holds the amount on the customer's payment method; nothing moved yet.
    Authorized,
    /// The authorized amount was taken.
    Captured,
    /// The authorization was released before capture; nothing was taken.
    Voided,
    /// The authorization was refused or did not complete; nothing was taken.
    Failed,
    /// Everything captured was given back.
    Refunded,
    /// Part of what was captured was given back.
    PartiallyRefunded,
}

impl PaymentStatus {
    const ALL: [Self; 6] =
        [Self::Authorized, Self::Captured, Self::Voided, Self::Failed, Self::Refunded, Self::PartiallyRefunded];

    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "AUTHORIZED",
            Self::Captured => "CAPTURED",
            Self::Voided => "VOIDED",
            Self::Failed => "FAILED",
            Self::Refunded => "REFUNDED",
            Self::PartiallyRefunded => "PARTIALLY_REFUNDED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The one transition table of payments: an authorization is captured or voided; a
    /// capture is refunded, in parts or at once; failed, voided and fully refunded payments
    /// are final.
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Authorized, Self::Captured | Self::Voided)
                | (Self::Captured | Self::PartiallyRefunded, Self::PartiallyRefunded | Self::Refunded)
        )
    }

    /// Whether money was taken (and so may be refunded).
    pub const fn is_captured(self) -> bool {
        matches!(self, Self::Captured | Self::PartiallyRefunded | Self::Refunded)
    }

    /// The status of a captured payment once `refunded` of its `captured` amount is given back.
    pub const fn after_refunds(captured: i64, refunded: i64) -> Self {
        if refunded <= 0 {
            Self::Captured
        } else if refunded >= captured {
            Self::Refunded
        } else {
            Self::PartiallyRefunded
        }
    }
}

/// Why an authorization failed: the `code` of `payment.failed` and `Payment.failureCode`.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(name = "PaymentFailureCode")]
pub enum FailureCode {
    /// The issuer refused the payment method.
    Declined,
    /// The payment method lacks the funds.
    InsufficientFunds,
    /// The provider did not answer in time, even after retries.
    Timeout,
    /// The provider could not be reached (or its circuit breaker is open).
    ProviderUnavailable,
}

impl FailureCode {
    const ALL: [Self; 4] = [Self::Declined, Self::InsufficientFunds, Self::Timeout, Self::ProviderUnavailable];

    /// The stored and published form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Declined => "DECLINED",
            Self::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Self::Timeout => "TIMEOUT",
            Self::ProviderUnavailable => "PROVIDER_UNAVAILABLE",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Words for people (the `reason` of `payment.failed`).
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Declined => "the payment method was declined",
            Self::InsufficientFunds => "the payment method has insufficient funds",
            Self::Timeout => "the payment provider did not answer in time",
            Self::ProviderUnavailable => "the payment provider is unavailable",
        }
    }
}

/// A call made to the provider for a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Authorize,
    Capture,
    Void,
    Refund,
}

impl Operation {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authorize => "AUTHORIZE",
            Self::Capture => "CAPTURE",
            Self::Void => "VOID",
            Self::Refund => "REFUND",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Authorize, Self::Capture, Self::Void, Self::Refund].into_iter().find(|op| op.as_str() == s)
    }

    /// The idempotency key the provider gets for this operation on `order_id`. The charge is
    /// keyed by the order id alone (the saga's contract); later operations get their own
    /// keys, since provider keys are global. `suffix` tells refunds of one order apart.
    pub fn provider_key(self, order_id: &str, suffix: Option<&str>) -> String {
        match (self, suffix) {
            (Self::Authorize, _) => order_id.to_owned(),
            (Self::Capture, _) => format!("{order_id}:capture"),
            (Self::Void, _) => format!("{order_id}:void"),
            (Self::Refund, Some(suffix)) => format!("{order_id}:refund:{suffix}"),
            (Self::Refund, None) => format!("{order_id}:refund"),
        }
    }
}

/// A payment for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: String,
    /// The paying user.
    pub user_id: String,
    pub currency: CurrencyCode,
    /// What the order asked for, in minor units.
    pub amount_minor: i64,
    /// What the provider holds (zero if the authorization failed).
    pub authorized_minor: i64,
    /// What was taken.
    pub captured_minor: i64,
    /// What was given back, or is being given back (pending refunds hold their amount).
    pub refunded_minor: i64,
    pub status: PaymentStatus,
    pub failure_code: Option<FailureCode>,
    /// The provider's id of the authorization; never card data.
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    /// What may still be refunded.
    pub const fn refundable_minor(&self) -> i64 {
        if self.status.is_captured() { self.captured_minor - self.refunded_minor } else { 0 }
    }

    /// An amount of this payment's currency.
    pub const fn money(&self, minor_units: i64) -> Money {
        Money::from_minor(minor_units, self.currency)
    }

    /// Whether `user_id` may read this payment (admins may read every payment).
    pub fn paid_by(&self, user_id: Uuid) -> bool {
        Uuid::parse_str(&self.user_id).is_ok_and(|payer| payer == user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        for code in FailureCode::ALL {
            assert_eq!(FailureCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(PaymentStatus::parse("authorized"), None);
    }

    #[test]
    fn only_the_transition_table_moves_a_payment() {
        use PaymentStatus::*;
        let allowed = [
            (Authorized, Captured),
            (Authorized, Voided),
            (Captured, PartiallyRefunded),
            (Captured, Refunded),
            (PartiallyRefunded, PartiallyRefunded),
            (PartiallyRefunded, Refunded),
        ];
        for from in PaymentStatus::ALL {
            for to in PaymentStatus::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn final_statuses_go_nowhere() {
        for status in [PaymentStatus::Failed, PaymentStatus::Voided, PaymentStatus::Refunded] {
            assert!(PaymentStatus::ALL.iter().all(|next| !status.can_become(*next)), "{status:?}");
        }
    }

    #[test]
    fn refunds_set_the_status() {
        assert_eq!(PaymentStatus::after_refunds(1000, 0), PaymentStatus::Captured);
        assert_eq!(PaymentStatus::after_refunds(1000, 1), PaymentStatus::PartiallyRefunded);
        assert_eq!(PaymentStatus::after_refunds(1000, 1000), PaymentStatus::Refunded);
    }

    #[test]
    fn provider_keys_differ_per_operation() {
        assert_eq!(Operation::Authorize.provider_key("o-1", None), "o-1");
        assert_eq!(Operation::Capture.provider_key("o-1", None), "o-1:capture");
        assert_eq!(Operation::Refund.provider_key("o-1", Some("k")), "o-1:refund:k");
    }
}
