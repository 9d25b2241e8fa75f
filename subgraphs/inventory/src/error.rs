//! Failures of the inventory service and their codes.

use shop_kernel::relay::PageError;

use crate::store::StoreError;

shop_kernel::coded_error! {
    /// What can go wrong serving inventory, short of a business rule (those are `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum InventoryError {
        /// Invalid pagination arguments.
        #[error(transparent)]
        Page(#[from] PageError) => BadUserInput,
        /// The database failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
    }
}

/// Converts an inventory failure into a coded GraphQL error (see `shop_kernel::error`).
pub fn gql(error: impl Into<InventoryError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

shop_kernel::user_errors! {
    /// Why an inventory mutation did not happen.
    pub enum InventoryErrorCode {
        /// A field is malformed or out of range.
        Invalid,
        /// Nothing is recorded for this SKU.
        NotFound,
        /// Removing this many units would leave less than is reserved for orders.
        InsufficientStock,
    }
    /// A business reason an inventory mutation was refused.
    pub struct InventoryUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_inventory_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::InventoryError>(env!("CARGO_MANIFEST_DIR"));
    }
}
