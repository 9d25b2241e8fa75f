//! Failures of the payments service and their codes.

use shop_kernel::{ErrorCode, ServiceError};

use crate::{service::FlowError, store::StoreError};

/// What can go wrong serving payments, short of a business rule (those are `userErrors`).
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A step failed in a way no client can fix.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl ServiceError for PaymentsError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Store(StoreError::Unavailable(_)) | Self::Flow(FlowError::Store(StoreError::Unavailable(_))) => {
                ErrorCode::ServiceUnavailable
            }
            Self::Flow(FlowError::Contended) => ErrorCode::ServiceUnavailable,
            Self::Store(StoreError::Corrupt(_)) | Self::Flow(_) => ErrorCode::Internal,
        }
    }
}

/// Converts a payments failure into a coded GraphQL error (see `shop_kernel::error`).
///
/// Use it instead of `?` on a `PaymentsError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<PaymentsError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}
