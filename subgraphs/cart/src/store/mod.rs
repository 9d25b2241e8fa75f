//! Where carts live: a repository trait in cart terms, with a Redis adapter (production) and
//! an in-memory twin (embedded) that pass the same contract tests.
//!
//! Both keep a cart for a fixed idle time after its last write, keep a user → cart index
//! that expires with the cart, and write only if the stored version is the one the change was
//! based on (optimistic concurrency, checked atomically by the store itself).

pub mod memory;
pub mod redis;

use std::{collections::HashMap, time::Duration};

use uuid::Uuid;

pub use self::{memory::MemoryCartStore, redis::RedisCartStore};
use crate::domain::Cart;

/// The longest expiry a store applies (longer settings are cut to it): about ten years.
pub const MAX_TTL: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

/// This store has no outcomes of its own beyond the store failing.
pub type StoreError = shop_kernel::store::StoreFailure;

/// Why a cart was not replaced.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The cart does not exist (never did, expired, or was merged away).
    #[error("the cart does not exist")]
    Missing,
    /// The stored cart is not at the version the change was based on.
    #[error("the cart was changed concurrently")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a guest cart was not merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The guest cart does not exist (never did, expired, or was merged already).
    #[error("the guest cart does not exist")]
    GuestMissing,
    /// The guest cart changed since it was read.
    #[error("the guest cart was changed concurrently")]
    GuestChanged,
    /// The user's cart changed (or appeared, or expired) since it was read.
    #[error("the user's cart was changed concurrently")]
    TargetChanged,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cart's persistence.
#[async_trait::async_trait]
pub trait CartStore: Send + Sync + 'static {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// A live cart by id.
    async fn get(&self, id: Uuid) -> Result<Option<Cart>, StoreError>;

    /// The live carts of `users`, by user; users without one are absent.
    async fn carts_of_users(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Cart>, StoreError>;

    /// The live cart of `user`, if any.
    async fn cart_of_user(&self, user: Uuid) -> Result<Option<Cart>, StoreError> {
        Ok(self.carts_of_users(&[user]).await?.remove(&user))
    }

    /// Stores a new cart and returns it. A user has at most one cart: when `cart` has an owner
    /// who already has a live cart, nothing is written and that cart is returned instead.
    async fn create(&self, cart: &Cart) -> Result<Cart, StoreError>;

    /// Replaces a cart if the stored one is at `base_version`, restarting its expiry (and its
    /// owner's index entry).
    async fn replace(&self, cart: &Cart, base_version: i64) -> Result<(), SaveError>;

    /// In one atomic step: writes `merged` (the owner's cart, new or changed), points the
    /// owner's index at it and deletes `guest`. Refused unless the guest cart is stored at
    /// `guest.version()` and the owner's cart is stored at `base_version` (`None`: the owner
    /// has no live cart).
    async fn merge(&self, merged: &Cart, base_version: Option<i64>, guest: &Cart) -> Result<(), MergeError>;
}
