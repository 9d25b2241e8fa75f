//! Failures of the notifications service and their codes.

use shop_kernel::{ErrorCode, ServiceError};

use crate::store::StoreError;

/// What can go wrong serving notifications, short of a business rule (those are
/// `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for NotificationsError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Store(StoreError::Unavailable(_)) => ErrorCode::ServiceUnavailable,
            Self::Store(StoreError::Corrupt(_)) => ErrorCode::Internal,
        }
    }
}

/// Converts a notifications failure into a coded GraphQL error (see `shop_kernel::error`).
///
/// Use it instead of `?`: async-graphql's blanket `From<Display>` would send the raw message
/// without a code.
pub fn gql(error: impl Into<NotificationsError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
