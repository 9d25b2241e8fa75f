//! Carts in Redis: each cart is a JSON string under `{prefix}{cart id}` with a `PX` expiry,
//! and each owned cart has an index entry `{prefix}user:{user id}` → cart id with the same
//! expiry. Every write is a Lua script, so the version check and the writes are one atomic
//! step on the server.
//!
//! The scripts that follow the index read one key they compute (`{prefix}{indexed id}`):
//! fine on a single Redis server, not on a cluster (where the keys would need a common hash
//! tag).

use std::{collections::HashMap, time::Duration};

use ::redis::{AsyncCommands, RedisError, Script, aio::ConnectionManager};
use uuid::Uuid;

use super::{CartStore, MAX_TTL, MergeError, SaveError, StoreError};
use crate::domain::Cart;

/// Creates a cart unless its owner already has a live one, which it returns instead.
const CREATE: &str = r"
-- KEYS[1] cart, KEYS[2] owner's index (absent for a guest cart)
-- ARGV[1] cart JSON, ARGV[2] ttl ms, ARGV[3] cart id, ARGV[4] key prefix
if KEYS[2] then
  local indexed = redis.call('GET', KEYS[2])
  if indexed then
    local existing = redis.call('GET', ARGV[4] .. indexed)
    if existing then return existing end
  end
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
";

/// Replaces a cart if it is stored at the base version; refreshes the owner's index.
const REPLACE: &str = r"
-- KEYS[1] cart, KEYS[2] owner's index (absent for a guest cart)
-- ARGV[1] base version, ARGV[2] cart JSON, ARGV[3] ttl ms, ARGV[4] cart id
local stored = redis.call('GET', KEYS[1])
if not stored then return 'missing' end
if cjson.decode(stored)['version'] ~= tonumber(ARGV[1]) then return 'conflict' end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3]) end
return 'ok'
";

/// Writes the merged cart and its index entry and deletes the guest cart, if neither cart
/// changed since they were read.
const MERGE: &str = r"
-- KEYS[1] guest cart, KEYS[2] owner's cart, KEYS[3] owner's index
-- ARGV[1] guest version, ARGV[2] owner's cart base version ('' = no cart), ARGV[3] merged JSON,
-- ARGV[4] ttl ms, ARGV[5] merged cart id, ARGV[6] key prefix
local guest = redis.call('GET', KEYS[1])
if not guest then return 'guest_missing' end
if cjson.decode(guest)['version'] ~= tonumber(ARGV[1]) then return 'guest_changed' end
local indexed = redis.call('GET', KEYS[3])
local current = indexed and redis.call('GET', ARGV[6] .. indexed)
if ARGV[2] == '' then
  if current then return 'target_changed' end
elseif not current or indexed ~= ARGV[5] or cjson.decode(current)['version'] ~= tonumber(ARGV[2]) then
  return 'target_changed'
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[4])
redis.call('DEL', KEYS[1])
return 'ok'
";

/// Carts in Redis through a multiplexed, self-reconnecting connection.
pub struct RedisCartStore {
    connection: ConnectionManager,
    prefix: String,
    ttl_millis: u64,
    create: Script,
    replace: Script,
    merge: Script,
}

fn unavailable(error: RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn encode(cart: &Cart) -> Result<String, StoreError> {
    serde_json::to_string(cart).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(json: &str) -> Result<Cart, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl RedisCartStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`); every key starts with `prefix`
    /// and carts expire `ttl` after their last write.
    pub async fn connect(url: &str, prefix: &str, ttl: Duration) -> Result<Self, StoreError> {
        let client = ::redis::Client::open(url).map_err(unavailable)?;
        let connection = ConnectionManager::new(client).await.map_err(unavailable)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            ttl_millis: u64::try_from(ttl.min(MAX_TTL).as_millis()).unwrap_or(u64::MAX).max(1),
            create: Script::new(CREATE),
            replace: Script::new(REPLACE),
            merge: Script::new(MERGE),
        })
    }

    fn cart_key(&self, id: Uuid) -> String {
        format!("{}{id}", self.prefix)
    }

    fn user_key(&self, user: Uuid) -> String {
        format!("{}user:{user}", self.prefix)
    }
}

#[async_trait::async_trait]
impl CartStore for RedisCartStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        ::redis::cmd("PING").query_async::<String>(&mut connection).await.map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<Cart>, StoreError> {
        let mut connection = self.connection.clone();
        let json: Option<String> = connection.get(self.cart_key(id)).await.map_err(unavailable)?;
        json.as_deref().map(decode).transpose()
    }

    async fn carts_of_users(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Cart>, StoreError> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let mut connection = self.connection.clone();
        let index_keys: Vec<String> = users.iter().map(|u| self.user_key(*u)).collect();
        let indexed: Vec<Option<String>> =
            ::redis::cmd("MGET").arg(&index_keys).query_async(&mut connection).await.map_err(unavailable)?;
        let owned: Vec<(Uuid, Uuid)> =
            users.iter().zip(indexed).filter_map(|(user, cart)| Some((*user, Uuid::parse_str(&cart?).ok()?))).collect();
        if owned.is_empty() {
            return Ok(HashMap::new());
        }
        let cart_keys: Vec<String> = owned.iter().map(|(_, cart)| self.cart_key(*cart)).collect();
        let carts: Vec<Option<String>> =
            ::redis::cmd("MGET").arg(&cart_keys).query_async(&mut connection).await.map_err(unavailable)?;
        let mut found = HashMap::with_capacity(owned.len());
        for ((user, _), json) in owned.into_iter().zip(carts) {
            let Some(json) = json else { continue };
            let cart = decode(&json)?;
            // The index is written with the cart, but a cart never changes hands: check anyway.
            if cart.owner() == Some(user) {
                found.insert(user, cart);
            }
        }
        Ok(found)
    }

    async fn create(&self, cart: &Cart) -> Result<Cart, StoreError> {
        let mut invocation = self.create.prepare_invoke();
        invocation.key(self.cart_key(cart.id()));
        if let Some(owner) = cart.owner() {
            invocation.key(self.user_key(owner));
        }
        invocation.arg(encode(cart)?).arg(self.ttl_millis).arg(cart.id().to_string()).arg(&self.prefix);
        let mut connection = self.connection.clone();
        let existing: Option<String> = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        match existing {
            Some(json) => decode(&json),
            None => Ok(cart.clone()),
        }
    }

    async fn replace(&self, cart: &Cart, base_version: i64) -> Result<(), SaveError> {
        let mut invocation = self.replace.prepare_invoke();
        invocation.key(self.cart_key(cart.id()));
        if let Some(owner) = cart.owner() {
            invocation.key(self.user_key(owner));
        }
        invocation.arg(base_version).arg(encode(cart)?).arg(self.ttl_millis).arg(cart.id().to_string());
        let mut connection = self.connection.clone();
        let outcome: String = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        match outcome.as_str() {
            "ok" => Ok(()),
            "missing" => Err(SaveError::Missing),
            "conflict" => Err(SaveError::Conflict),
            other => Err(StoreError::Unavailable(format!("unexpected script answer `{other}`")).into()),
        }
    }

    async fn merge(&self, merged: &Cart, base_version: Option<i64>, guest: &Cart) -> Result<(), MergeError> {
        let Some(owner) = merged.owner() else {
            return Err(StoreError::Corrupt("a merged cart must have an owner".into()).into());
        };
        let mut invocation = self.merge.prepare_invoke();
        invocation.key(self.cart_key(guest.id())).key(self.cart_key(merged.id())).key(self.user_key(owner));
        invocation
            .arg(guest.version())
            .arg(base_version.map(|v| v.to_string()).unwrap_or_default())
            .arg(encode(merged)?)
            .arg(self.ttl_millis)
            .arg(merged.id().to_string())
            .arg(&self.prefix);
        let mut connection = self.connection.clone();
        let outcome: String = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        match outcome.as_str() {
            "ok" => Ok(()),
            "guest_missing" => Err(MergeError::GuestMissing),
            "guest_changed" => Err(MergeError::GuestChanged),
            "target_changed" => Err(MergeError::TargetChanged),
            other => Err(StoreError::Unavailable(format!("unexpected script answer `{other}`")).into()),
        }
    }
}
