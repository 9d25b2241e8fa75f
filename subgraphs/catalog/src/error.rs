//! Failures of the catalog and their codes.

use shop_kernel::relay::PageError;

use crate::store::StoreError;

shop_kernel::coded_error! {
    /// Everything that can go wrong serving the catalog, short of a business rule (those are
    /// `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum CatalogError {
        /// Invalid pagination arguments.
        #[error(transparent)]
        Page(#[from] PageError) => BadUserInput,
        /// A malformed argument (an id that is not a UUID, a negative price).
        #[error("{0}")]
        BadInput(String) => BadUserInput,
        /// The store failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
    }
}

/// Converts a catalog failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?` on a `CatalogError`: async-graphql's blanket `From<Display>` would
/// send the raw message without a code.
pub fn gql(error: impl Into<CatalogError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

shop_kernel::user_errors! {
    /// Why a catalog mutation did not happen.
    pub enum CatalogErrorCode {
        /// A field is missing, malformed or out of range.
        Invalid,
        /// Another product already has this slug.
        SlugTaken,
        /// Another product already has one of these SKUs.
        SkuTaken,
        /// No product or category with this id.
        NotFound,
        /// The product changed since the given `expectedVersion`.
        VersionConflict,
    }
    /// A business reason a catalog mutation was refused.
    pub struct CatalogUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_catalog_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::CatalogError>(env!("CARGO_MANIFEST_DIR"));
    }
}
