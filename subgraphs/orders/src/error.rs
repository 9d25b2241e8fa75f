//! Failures of the orders service and their codes: business refusals are `userErrors`
//! ([`OrderUserError`] with an [`OrderErrorCode`]); everything else is an [`OrdersError`],
//! sent as a top-level GraphQL error with `extensions.code`.

use async_graphql::{Enum, SimpleObject};
use shop_kernel::{ErrorCode, ServiceError};

use crate::{store::StoreError, upstream::UpstreamError};

/// What can go wrong serving orders, short of a business rule.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// The caller may not see or change this order.
    #[error("this order belongs to someone else")]
    Forbidden,
    /// No order has this id.
    #[error("no such order")]
    NotFound,
    /// A neighbour the request cannot do without (cart, users) is down.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A message could not be built.
    #[error("message encoding failed: {0}")]
    Message(String),
}

impl ServiceError for OrdersError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Forbidden => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            Self::Upstream(_) | Self::Store(StoreError::Unavailable(_)) => ErrorCode::ServiceUnavailable,
            Self::Store(StoreError::Corrupt(_)) | Self::Message(_) => ErrorCode::Internal,
        }
    }
}

/// Converts a failure into a GraphQL error with its code, masking internals. Use it instead
/// of `?`: async-graphql's blanket `From<Display>` would send the raw message without a code.
pub fn gql(error: impl Into<OrdersError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

/// Why an order mutation did not happen.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
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
}

/// A business reason an order mutation was refused.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct OrderUserError {
    /// Path to the argument or input field at fault, if one is.
    pub field: Option<Vec<String>>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: OrderErrorCode,
}

impl OrderUserError {
    /// A user error at `field` (none when empty).
    pub fn new(field: &[&str], message: impl Into<String>, code: OrderErrorCode) -> Self {
        let field: Vec<String> = field.iter().map(|f| (*f).to_owned()).collect();
        Self { field: (!field.is_empty()).then_some(field), message: message.into(), code }
    }

    /// A user error about line `index` of the order being placed (`["lines", "<index>"]`).
    pub fn line(index: usize, message: impl Into<String>, code: OrderErrorCode) -> Self {
        Self { field: Some(vec!["lines".to_owned(), index.to_string()]), message: message.into(), code }
    }
}

#[cfg(test)]
mod tests {
    /// Every code is used somewhere in the service (a test that fails on dead variants).
    #[test]
    fn every_user_error_code_is_produced() {
        let sources = [include_str!("checkout.rs"), include_str!("graphql/mutation.rs")].concat();
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
        ] {
            assert!(sources.contains(&format!("OrderErrorCode::{code}")), "{code} is never produced");
        }
    }
}
