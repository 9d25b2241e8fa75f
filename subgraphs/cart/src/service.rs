//! The cart's use cases: read a cart, then write the changed cart only if nobody wrote in
//! between. A caller who gave `expectedVersion` learns of a concurrent write as a conflict;
//! a caller who did not is retried transparently against the fresh cart.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use shop_kernel::auth::Viewer;
use uuid::Uuid;

use crate::{
    domain::{Cart, NewLine, RuleError},
    store::{CartStore, MergeError, SaveError, StoreError},
};

/// How many times a change without `expectedVersion` is tried under contention. Each failed
/// try means another write succeeded, so this many concurrent writers of one cart all succeed.
const ATTEMPTS: usize = 8;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No live cart has this id.
    #[error("no such cart")]
    NotFound,
    /// The caller may not change this cart.
    #[error("this cart belongs to someone else")]
    Forbidden,
    /// A cart rule refused the change.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Carts over a store.
pub struct Carts {
    store: Arc<dyn CartStore>,
    idle_ttl: Duration,
}

impl Carts {
    /// Use cases over `store`, whose carts expire `idle_ttl` after their last change.
    pub fn new(store: Arc<dyn CartStore>, idle_ttl: Duration) -> Self {
        Self { store, idle_ttl }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn CartStore> {
        &self.store
    }

    /// How long an unchanged cart lives.
    pub const fn idle_ttl(&self) -> Duration {
        self.idle_ttl
    }

    /// For an anonymous `viewer`, a new guest cart holding `lines`. For a signed-in one, their
    /// live cart (with `lines` added) if they have one, else a new cart owned by them.
    #[tracing::instrument(skip_all, fields(signed_in = viewer.principal().is_some(), lines = lines.len()))]
    pub async fn create(&self, viewer: &Viewer, lines: &[NewLine]) -> Result<Cart, ChangeError> {
        let owner = viewer.principal().map(|p| p.user_id);
        let fresh = Cart::with_lines(Uuid::new_v4(), owner, lines, Utc::now())?;
        let stored = self.store.create(&fresh).await?;
        if stored.id() == fresh.id() || lines.is_empty() {
            return Ok(stored);
        }
        self.change(stored.id(), viewer, None, |cart, now| cart.add_lines(lines, now)).await
    }

    /// Applies `operation` to the cart `id` on behalf of `viewer`, if the cart is at
    /// `expected_version` (when given).
    #[tracing::instrument(skip_all, fields(cart = %id))]
    pub async fn change(
        &self,
        id: Uuid,
        viewer: &Viewer,
        expected_version: Option<i64>,
        operation: impl Fn(&Cart, DateTime<Utc>) -> Result<Cart, RuleError> + Send + Sync,
    ) -> Result<Cart, ChangeError> {
        for _ in 0..ATTEMPTS {
            let current = self.store.get(id).await?.ok_or(ChangeError::NotFound)?;
            if !current.changeable_by(viewer) {
                return Err(ChangeError::Forbidden);
            }
            current.check_version(expected_version)?;
            let next = operation(&current, Utc::now())?;
            match self.store.replace(&next, current.version()).await {
                Ok(()) => return Ok(next),
                Err(SaveError::Missing) => return Err(ChangeError::NotFound),
                Err(SaveError::Conflict) if expected_version.is_none() => {}
                Err(SaveError::Conflict) => break,
                Err(SaveError::Store(error)) => return Err(error.into()),
            }
        }
        match self.store.get(id).await? {
            Some(cart) => Err(RuleError::VersionConflict { actual: cart.version() }.into()),
            None => Err(ChangeError::NotFound),
        }
    }

    /// Moves the guest cart's lines into `user`'s cart (created if missing) and deletes the
    /// guest cart, if the user's cart is at `expected_version` (when given).
    #[tracing::instrument(skip_all, fields(guest = %guest_id))]
    pub async fn merge(&self, user: Uuid, guest_id: Uuid, expected_version: Option<i64>) -> Result<Cart, ChangeError> {
        for _ in 0..ATTEMPTS {
            let guest = self.store.get(guest_id).await?.ok_or(ChangeError::NotFound)?;
            match guest.owner() {
                None => {}
                // Merging one's own cart into itself changes nothing.
                Some(owner) if owner == user => {
                    guest.check_version(expected_version)?;
                    return Ok(guest);
                }
                Some(_) => return Err(ChangeError::Forbidden),
            }
            let target = self.store.cart_of_user(user).await?;
            match (&target, expected_version) {
                (Some(target), expected) => target.check_version(expected)?,
                (None, Some(_)) => return Err(RuleError::VersionConflict { actual: 0 }.into()),
                (None, None) => {}
            }
            let merged = Cart::merge(target.as_ref(), &guest, user, Uuid::new_v4(), Utc::now())?;
            match self.store.merge(&merged, target.as_ref().map(Cart::version), &guest).await {
                Ok(()) => return Ok(merged),
                Err(MergeError::GuestMissing) => return Err(ChangeError::NotFound),
                Err(MergeError::GuestChanged) => {}
                Err(MergeError::TargetChanged) if expected_version.is_none() => {}
                Err(MergeError::TargetChanged) => break,
                Err(MergeError::Store(error)) => return Err(error.into()),
            }
        }
        let actual = self.store.cart_of_user(user).await?.map_or(0, |cart| cart.version());
        Err(RuleError::VersionConflict { actual }.into())
    }

    /// Takes what order `order_id` bought out of cart `cart_id`, once however often it is
    /// asked while it is among the cart's latest checkouts ([`Cart::without_ordered`]). A cart
    /// that is gone (expired, merged away) has nothing left to take.
    #[tracing::instrument(skip_all, fields(cart = %cart_id, order_id = %order_id))]
    pub async fn remove_ordered(
        &self,
        cart_id: Uuid,
        order_id: &str,
        taken: &[(String, i64)],
    ) -> Result<(), StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(current) = self.store.get(cart_id).await? else { return Ok(()) };
            let Some(next) = current.without_ordered(order_id, taken, Utc::now()) else { return Ok(()) };
            match self.store.replace(&next, current.version()).await {
                Ok(()) | Err(SaveError::Missing) => return Ok(()),
                Err(SaveError::Conflict) => {}
                Err(SaveError::Store(error)) => return Err(error),
            }
        }
        // The customer keeps changing the cart: the message is retried later.
        Err(StoreError::Unavailable(format!("cart {cart_id} kept changing while its ordered lines were removed")))
    }
}
