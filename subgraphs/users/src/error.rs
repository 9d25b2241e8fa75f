//! Failures of the users service and their codes.

use shop_kernel::{cache::CacheError, relay::PageError};

use crate::{
    credentials::{HashError, SignError},
    store::StoreError,
};

shop_kernel::coded_error! {
    /// Everything that can go wrong serving users, short of a business rule (those are
    /// `userErrors`).
    #[derive(Debug, thiserror::Error)]
    pub enum UsersError {
        /// Invalid pagination arguments.
        #[error(transparent)]
        Page(#[from] PageError) => BadUserInput,
        /// A malformed argument.
        #[error("{0}")]
        BadInput(String) => BadUserInput,
        /// The store failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
        /// The throttle counters are unreachable.
        #[error(transparent)]
        Throttle(#[from] CacheError) => ServiceUnavailable,
        /// Hashing a password failed.
        #[error(transparent)]
        Hash(#[from] HashError) => Internal,
        /// Signing a token failed.
        #[error(transparent)]
        Sign(#[from] SignError) => Internal,
        /// A blocking task died.
        #[error("worker failed: {0}")]
        Worker(String) => Internal,
        /// A message could not be encoded.
        #[error("cannot encode a message: {0}")]
        Encode(#[from] shop_messaging::envelope::EnvelopeError) => Internal,
    }
}

/// Converts a users failure into a GraphQL error with its code, masking internals.
///
/// Use it instead of `?`: async-graphql's blanket `From<Display>` would send the raw message
/// without a code.
pub fn gql(error: impl Into<UsersError>) -> async_graphql::Error {
    shop_kernel::error::to_graphql(&error.into())
}

shop_kernel::user_errors! {
    /// Why a mutation was refused, for programs.
    pub enum UsersErrorCode {
        /// A field is missing, malformed or out of range.
        Invalid,
        /// Another account already uses this email.
        EmailTaken,
        /// The email and password do not match an account. Deliberately says no more.
        InvalidCredentials,
        /// Too many failed attempts; try again later.
        TooManyAttempts,
        /// The refresh token is unknown, expired or revoked.
        InvalidRefreshToken,
        /// The refresh token was already used: the session is revoked, sign in again.
        RefreshTokenReused,
        /// No such user or address.
        NotFound,
        /// The user has as many addresses as allowed.
        TooManyAddresses,
    }
    /// A business reason a users mutation was refused.
    pub struct UsersUserError;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_users_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::UsersError>(env!("CARGO_MANIFEST_DIR"));
    }
}
