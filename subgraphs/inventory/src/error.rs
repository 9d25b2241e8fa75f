//! Failures of the inventory service and their codes.

use shop_kernel::{ErrorCode, ServiceError, relay::PageError};

use crate::store::StoreError;

/// What can go wrong serving inventory, short of a business rule (those are `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// Invalid pagination arguments.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A malformed argument.
    #[error("{0}")]
    BadInput(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for InventoryError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Page(_) | Self::BadInput(_) => ErrorCode::BadUserInput,
            Self::Store(StoreError::Unavailable(_)) => ErrorCode::ServiceUnavailable,
            Self::Store(StoreError::Corrupt(_)) => ErrorCode::Internal,
        }
    }
}

/// Converts an inventory failure into a coded GraphQL error (see `shop_kernel::error`).
pub fn gql(error: impl Into<InventoryError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
