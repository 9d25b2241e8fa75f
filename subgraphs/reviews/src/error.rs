//! Failures of the reviews service and their codes: business refusals are `userErrors`
//! ([`ReviewUserError`] with a [`ReviewErrorCode`]); everything else is a [`ReviewsError`],
//! sent as a top-level GraphQL error with `extensions.code`.

use crate::{
    domain::{InvalidCursor, InvalidField},
    service::WriteError,
    store::StoreError,
};

shop_kernel::coded_error! {
    /// What can go wrong serving reviews, short of a business rule.
    #[derive(Debug, thiserror::Error)]
    pub enum ReviewsError {
        /// Pagination arguments are out of range or the cursor is not ours.
        #[error("{0}")]
        BadInput(String) => BadUserInput,
        /// The store failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
    }
}

impl From<InvalidCursor> for ReviewsError {
    fn from(error: InvalidCursor) -> Self {
        Self::BadInput(error.to_string())
    }
}

/// Converts a failure into a GraphQL error with its code, masking internals. Use it instead
/// of `?`: async-graphql's blanket `From<Display>` would send the raw message without a code.
pub fn gql(error: impl Into<ReviewsError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

impl ReviewUserError {
    /// The user error of an invalid input field under `input`.
    pub fn invalid(error: InvalidField) -> Self {
        Self::new(&["input", error.field()], error.to_string(), ReviewErrorCode::Invalid)
    }
}

/// The outcome of a write as a payload: the result, or the user errors that refused it.
/// Store failures stay GraphQL errors.
pub fn refusals(error: WriteError, id_field: &[&str]) -> Result<Vec<ReviewUserError>, async_graphql::Error> {
    let refusal = |code| ReviewUserError::new(id_field, error.to_string(), code);
    Ok(match &error {
        WriteError::Invalid(fields) => fields.iter().map(|f| ReviewUserError::invalid(*f)).collect(),
        WriteError::AlreadyReviewed => {
            vec![ReviewUserError::new(&["input", "productId"], error.to_string(), ReviewErrorCode::AlreadyReviewed)]
        }
        WriteError::NotFound => vec![refusal(ReviewErrorCode::NotFound)],
        WriteError::Forbidden => vec![refusal(ReviewErrorCode::Forbidden)],
        WriteError::Store(store) => return Err(gql(store.clone())),
    })
}

shop_kernel::user_errors! {
    /// Why a review mutation did not happen.
    pub enum ReviewErrorCode {
        /// A field is missing, malformed or out of range.
        Invalid,
        /// You already reviewed this product: edit or delete that review instead.
        AlreadyReviewed,
        /// No review has this id.
        NotFound,
        /// Only the author (or, to delete, an admin) may change this review.
        Forbidden,
    }
    /// A business reason a review mutation was refused.
    pub struct ReviewUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_reviews_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::ReviewsError>(env!("CARGO_MANIFEST_DIR"));
    }
}
