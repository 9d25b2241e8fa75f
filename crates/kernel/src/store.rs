//! What every store's errors have in common: the store itself failed.
//!
//! Each context's `StoreError` names the outcomes that belong to its domain (a taken email, a
//! stale version) and wraps a [`StoreFailure`] for everything else; a context whose store has
//! no such outcomes uses [`StoreFailure`] as its `StoreError`.

use std::fmt::Display;

use crate::ErrorCode;

/// The store could not do what was asked, for a reason that is the store's, not the request's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFailure {
    /// The store is unreachable or failing; retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with something the code cannot use (malformed stored data, a refused
    /// command): a bug or a bad migration, which retrying will not fix.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreFailure {
    /// [`StoreFailure::Unavailable`] because of `error`.
    pub fn unavailable(error: impl Display) -> Self {
        Self::Unavailable(error.to_string())
    }

    /// [`StoreFailure::Corrupt`] because of `error`.
    pub fn corrupt(error: impl Display) -> Self {
        Self::Corrupt(error.to_string())
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// A request that met an unavailable store may succeed later; corrupt data is a bug.
impl crate::ServiceError for StoreFailure {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Corrupt(_) => ErrorCode::Internal,
        }
    }
}

/// A relational database that fails is unavailable: sea-orm reports connection loss, pool
/// timeouts and refused statements alike, and every store statement is one the code wrote, so
/// a refusal is retried like an outage rather than guessed to be permanent.
impl From<sea_orm::DbErr> for StoreFailure {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::unavailable(error)
    }
}
