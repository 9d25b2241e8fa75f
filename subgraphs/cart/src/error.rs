//! Failures of the cart service and their codes.

use crate::store::StoreError;

shop_kernel::coded_error! {
    /// What can go wrong serving carts, short of a business rule (those are `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum CartError {
        /// The store failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
    }
}

shop_kernel::user_errors! {
    /// Why a cart mutation did not happen.
    pub enum CartErrorCode {
        /// A field is missing or malformed.
        Invalid,
        /// A quantity is outside 1-99, or would be once added to what the cart holds.
        InvalidQuantity,
        /// The cart would hold more than 100 lines.
        TooManyLines,
        /// The cart has no such line.
        LineNotFound,
        /// The cart changed since the given `expectedVersion`.
        VersionConflict,
        /// No live cart has this id (it may have expired).
        CartNotFound,
    }
    /// A business reason a cart mutation was refused.
    pub struct CartUserError;
}

/// Converts a cart failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?` on a `CartError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<CartError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_cart_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::CartError>(env!("CARGO_MANIFEST_DIR"));
    }
}
