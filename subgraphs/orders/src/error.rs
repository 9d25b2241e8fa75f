//! Failures of the orders service and their codes: business refusals are `userErrors`
//! ([`OrderUserError`] with an [`OrderErrorCode`]); everything else is an [`OrdersError`],
//! sent as a top-level GraphQL error with `extensions.code`.

use crate::{adapters::UpstreamError, store::StoreError};

shop_kernel::coded_error! {
    /// What can go wrong serving orders, short of a business rule.
    #[derive(Debug, thiserror::Error)]
    pub enum OrdersError {
        /// No order has this id.
        #[error("no such order")]
        NotFound => NotFound,
        /// A neighbour the request cannot do without (cart, users) is down.
        #[error(transparent)]
        Upstream(#[from] UpstreamError) => ServiceUnavailable,
        /// The database failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
        /// A message could not be built.
        #[error("message encoding failed: {0}")]
        Message(String) => Internal,
    }
}

/// Converts a failure into a GraphQL error with its code, masking internals. Use it instead
/// of `?`: async-graphql's blanket `From<Display>` would send the raw message without a code.
pub fn gql(error: impl Into<OrdersError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

impl OrderUserError {
    /// A user error about line `index` of the order being placed (`["lines", "<index>"]`).
    pub fn line(index: usize, message: impl Into<String>, code: OrderErrorCode) -> Self {
        Self::at(vec!["lines".to_owned(), index.to_string()], message, code)
    }
}

shop_kernel::user_errors! {
    /// Why an order mutation did not happen.
    pub enum OrderErrorCode {
        /// A field is missing, malformed or out of range.
        Invalid,
        /// No live cart has this id (or it is someone else's).
        CartNotFound,
        /// The cart has no lines.
        EmptyCart,
        /// The catalog does not know this SKU.
        UnknownSku,
        /// The product is not for sale.
        ProductUnavailable,
        /// Not enough stock for this line; the message names the SKU and what is available.
        OutOfStock,
        /// The catalog prices this variant in another currency than the shop's.
        CurrencyMismatch,
        /// The catalog is unreachable, so no authoritative price is known; try again shortly.
        CatalogUnavailable,
        /// The user has no saved address with this id.
        AddressNotFound,
        /// This idempotency key was used for a different checkout.
        IdempotencyKeyReused,
        /// No order has this id.
        OrderNotFound,
        /// The order's status does not allow this (e.g. cancelling a shipped order).
        InvalidTransition,
        /// The order's payment is not captured yet, so it may not ship.
        PaymentNotCaptured,
    }
    /// A business reason an order mutation was refused.
    pub struct OrderUserError;
}

#[cfg(test)]
mod tests {
    /// Every code is used somewhere in the service (a test that fails on dead variants).
    #[test]
    fn every_user_error_code_is_produced() {
        let sources = [include_str!("service/checkout.rs"), include_str!("graphql/mutation.rs")].concat();
        for code in [
            "Invalid",
            "CartNotFound",
            "EmptyCart",
            "UnknownSku",
            "ProductUnavailable",
            "OutOfStock",
            "CurrencyMismatch",
            "CatalogUnavailable",
            "AddressNotFound",
            "IdempotencyKeyReused",
            "OrderNotFound",
            "InvalidTransition",
            "PaymentNotCaptured",
        ] {
            assert!(sources.contains(&format!("OrderErrorCode::{code}")), "{code} is never produced");
        }
    }

    #[test]
    fn every_variant_of_orders_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::OrdersError>(env!("CARGO_MANIFEST_DIR"));
    }
}
