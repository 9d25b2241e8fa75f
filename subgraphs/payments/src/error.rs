//! Failures of the payments service and their codes.

use crate::{service::FlowError, store::StoreError};

shop_kernel::coded_error! {
    /// What can go wrong serving payments, short of a business rule (those are `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum PaymentsError {
        /// The database failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
        /// A step failed in a way no client can fix.
        #[error(transparent)]
        Flow(#[from] FlowError) => inner,
    }
}

/// Converts a payments failure into a coded GraphQL error (see `shop_kernel::error`).
///
/// Use it instead of `?` on a `PaymentsError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<PaymentsError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

shop_kernel::user_errors! {
    /// Why a payment mutation did not happen.
    pub enum PaymentErrorCode {
        /// A field is missing or malformed.
        Invalid,
        /// The order has no payment.
        PaymentNotFound,
        /// The payment has nothing captured (it is authorized only, voided or failed).
        NotCaptured,
        /// The amount is more than was captured and not yet refunded.
        AmountExceedsRefundable,
        /// The amount is zero, negative, or more precise than the currency allows.
        InvalidAmount,
        /// The idempotency key was used for a refund with another amount or reason.
        IdempotencyKeyReused,
        /// The payment provider refused the refund; nothing was refunded.
        ProviderDeclined,
        /// The payment provider did not confirm the refund; its amount stays held. Send the same
        /// request with the same idempotency key again to finish it.
        ProviderUnavailable,
    }
    /// A business reason a payment mutation was refused.
    pub struct PaymentUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_payments_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::PaymentsError>(env!("CARGO_MANIFEST_DIR"));
    }
}
