//! The embedded twin of [`super::RedisCartStore`]: process memory with the same expiry and
//! the same atomic checks (one lock around each operation plays the part of a Lua script).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::{CartStore, MAX_TTL, MergeError, SaveError, StoreError};
use crate::domain::Cart;

/// How often expired entries are swept out (reads ignore them in between).
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

struct Expiring<T> {
    value: T,
    expires: Instant,
}

impl<T> Expiring<T> {
    fn live(&self, now: Instant) -> Option<&T> {
        (self.expires > now).then_some(&self.value)
    }
}

struct State {
    carts: HashMap<Uuid, Expiring<Cart>>,
    /// User id → id of the user's cart.
    owners: HashMap<Uuid, Expiring<Uuid>>,
    swept: Instant,
}

impl State {
    fn cart(&self, id: Uuid, now: Instant) -> Option<&Cart> {
        self.carts.get(&id).and_then(|entry| entry.live(now))
    }

    fn cart_of(&self, user: Uuid, now: Instant) -> Option<&Cart> {
        let id = self.owners.get(&user).and_then(|entry| entry.live(now))?;
        self.cart(*id, now).filter(|cart| cart.owner() == Some(user))
    }

    /// Stores `cart` for `ttl` from `now`, and its owner's index entry.
    fn put(&mut self, cart: &Cart, now: Instant, ttl: Duration) {
        let expires = now + ttl;
        if let Some(owner) = cart.owner() {
            self.owners.insert(owner, Expiring { value: cart.id(), expires });
        }
        self.carts.insert(cart.id(), Expiring { value: cart.clone(), expires });
    }

    fn sweep(&mut self, now: Instant) {
        if now.duration_since(self.swept) >= SWEEP_INTERVAL {
            self.carts.retain(|_, entry| entry.expires > now);
            self.owners.retain(|_, entry| entry.expires > now);
            self.swept = now;
        }
    }
}

/// Carts in process memory, expiring `ttl` after their last write.
pub struct MemoryCartStore {
    state: Mutex<State>,
    ttl: Duration,
}

impl MemoryCartStore {
    /// An empty store whose carts expire `ttl` after their last write.
    pub fn new(ttl: Duration) -> Self {
        let state = State { carts: HashMap::new(), owners: HashMap::new(), swept: Instant::now() };
        Self { state: Mutex::new(state), ttl: ttl.min(MAX_TTL) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No operation can leave the maps half-written, so a panic elsewhere is no reason to stop.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl CartStore for MemoryCartStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<Cart>, StoreError> {
        Ok(self.lock().cart(id, Instant::now()).cloned())
    }

    async fn carts_of_users(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Cart>, StoreError> {
        let state = self.lock();
        let now = Instant::now();
        Ok(users.iter().filter_map(|user| state.cart_of(*user, now).map(|cart| (*user, cart.clone()))).collect())
    }

    async fn create(&self, cart: &Cart) -> Result<Cart, StoreError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.sweep(now);
        if let Some(existing) = cart.owner().and_then(|owner| state.cart_of(owner, now)) {
            return Ok(existing.clone());
        }
        state.put(cart, now, self.ttl);
        Ok(cart.clone())
    }

    async fn replace(&self, cart: &Cart, base_version: i64) -> Result<(), SaveError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.sweep(now);
        match state.cart(cart.id(), now) {
            None => Err(SaveError::Missing),
            Some(stored) if stored.version() != base_version => Err(SaveError::Conflict),
            Some(_) => {
                state.put(cart, now, self.ttl);
                Ok(())
            }
        }
    }

    async fn merge(&self, merged: &Cart, base_version: Option<i64>, guest: &Cart) -> Result<(), MergeError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.sweep(now);
        match state.cart(guest.id(), now) {
            None => return Err(MergeError::GuestMissing),
            Some(stored) if stored.version() != guest.version() => return Err(MergeError::GuestChanged),
            Some(_) => {}
        }
        let current = merged.owner().and_then(|owner| state.cart_of(owner, now));
        let unchanged = match (current, base_version) {
            (None, None) => true,
            (Some(current), Some(base)) => current.id() == merged.id() && current.version() == base,
            _ => false,
        };
        if !unchanged {
            return Err(MergeError::TargetChanged);
        }
        state.put(merged, now, self.ttl);
        state.carts.remove(&guest.id());
        Ok(())
    }
}
