//! Failures of the catalog and their codes.

use shop_kernel::{ErrorCode, ServiceError, relay::PageError};

use crate::store::StoreError;

/// Everything that can go wrong serving the catalog, short of a business rule (those are
/// `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Invalid pagination arguments.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A malformed argument (an id that is not a UUID, a negative price).
    #[error("{0}")]
    BadInput(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for CatalogError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Page(_) | Self::BadInput(_) => ErrorCode::BadUserInput,
            Self::Store(StoreError::Failure(failure)) => failure.code(),
            Self::Store(_) => ErrorCode::Internal,
        }
    }
}

/// Converts a catalog failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?` on a `CatalogError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<CatalogError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
