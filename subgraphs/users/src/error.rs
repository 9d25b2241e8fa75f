//! Failures of the users service and their codes.

use shop_kernel::{ErrorCode, ServiceError, cache::CacheError, relay::PageError};

use crate::{
    credentials::{HashError, SignError},
    store::StoreError,
};

/// Everything that can go wrong serving users, short of a business rule (those are
/// `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// Invalid pagination arguments.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A malformed argument.
    #[error("{0}")]
    BadInput(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The throttle counters are unreachable.
    #[error(transparent)]
    Throttle(#[from] CacheError),
    /// Hashing a password failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Signing a token failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A blocking task died.
    #[error("worker failed: {0}")]
    Worker(String),
    /// A message could not be encoded.
    #[error("cannot encode a message: {0}")]
    Encode(#[from] shop_messaging::envelope::EnvelopeError),
}

impl ServiceError for UsersError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Page(_) | Self::BadInput(_) => ErrorCode::BadUserInput,
            Self::Store(StoreError::Failure(failure)) => failure.code(),
            Self::Throttle(_) => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::Internal,
        }
    }
}

/// Converts a users failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?`: async-graphql's blanket `From<Display>` would send the raw message
/// without a code.
pub fn gql(error: impl Into<UsersError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
