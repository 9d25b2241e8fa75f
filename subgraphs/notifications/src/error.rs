//! Failures of the notifications service and their codes.

use crate::store::StoreError;

shop_kernel::coded_error! {
    /// What can go wrong serving notifications, short of a business rule (those are
    /// `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum NotificationsError {
        /// The database failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
    }
}

/// Converts a notifications failure into a coded GraphQL error (see `shop_kernel::error`).
///
/// Use it instead of `?`: async-graphql's blanket `From<Display>` would send the raw message
/// without a code.
pub fn gql(error: impl Into<NotificationsError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

shop_kernel::user_errors! {
    /// Why a notifications mutation did not happen.
    pub enum NotificationErrorCode {
        /// A field is missing or malformed.
        Invalid,
    }
    /// A business reason a notifications mutation was refused.
    pub struct NotificationUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_notifications_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::NotificationsError>(env!("CARGO_MANIFEST_DIR"));
    }
}
