//! Failures of the cart service and their codes.

use shop_kernel::{ErrorCode, ServiceError};

use crate::store::StoreError;

/// What can go wrong serving carts, short of a business rule (those are `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// The caller may not see or change this cart.
    #[error("this cart belongs to someone else")]
    Forbidden,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for CartError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Forbidden => ErrorCode::Forbidden,
            Self::Store(StoreError::Unavailable(_)) => ErrorCode::ServiceUnavailable,
            Self::Store(StoreError::Corrupt(_)) => ErrorCode::Internal,
        }
    }
}

/// Converts a cart failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?` on a `CartError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<CartError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
