//! Where users and refresh tokens live: a trait in domain terms and two adapters,
//! [`mongo::MongoUserStore`] (production) and [`sql::SqlUserStore`] (sea-orm on SQLite, the
//! embedded twin). Both pass the same contract tests (`tests/api/store.rs`).

pub mod mongo;
pub mod sql;

use chrono::{DateTime, Utc};
use mongodb::Collection;
use sea_orm::DatabaseConnection;
use shop_kernel::store::StoreFailure;
use shop_messaging::{Envelope, mongo_outbox::OutboxDocument};
use uuid::Uuid;

use crate::domain::User;

shop_kernel::coded_error! {
    /// Why a store operation failed.
    #[derive(Debug, thiserror::Error)]
    pub enum StoreError {
        /// Another account already uses this email (compared case-insensitively).
        #[error("the email is already registered")]
        EmailTaken => Internal,
        /// The user changed since it was read (its `version` moved on).
        #[error("the user changed concurrently")]
        VersionMismatch => Internal,
        /// The store itself failed.
        #[error(transparent)]
        Failure(#[from] StoreFailure) => inner,
    }
}

/// A stored refresh token. Only its SHA-256 is kept; the token itself exists only on the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// Whose token it is.
    pub user_id: Uuid,
    /// The login session: every rotation stays in its family, and reuse revokes the family.
    pub family_id: Uuid,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The token was live and is now spent; issue its successor in the same family.
    Fresh(RefreshToken),
    /// The token was spent or revoked before: someone replayed it. Revoke its family.
    Reused(RefreshToken),
    /// The token has expired.
    Expired,
    /// No such token.
    Unknown,
}

/// Where a store keeps the announcements [`UserStore::insert_user`] commits, so the relay in
/// [`crate::events`] can publish them: each backend has its own outbox and its own relay.
#[derive(Clone)]
pub enum Outbox {
    /// The `outbox` collection beside the users (MongoDB).
    Mongo(Collection<OutboxDocument>),
    /// The database whose `outbox` table the users share transactions with (sea-orm).
    Sql(DatabaseConnection),
}

/// Users and refresh tokens, in domain terms.
#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates collections/tables and indexes if missing.
    async fn prepare(&self) -> Result<(), StoreError>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new user and, in the same transaction, the messages that announce it (the
    /// outbox); [`StoreError::EmailTaken`] if `email_key` is in use (nothing is written).
    async fn insert_user(&self, user: &User, announcements: &[Envelope]) -> Result<(), StoreError>;
    /// How many announcements wait in the outbox.
    async fn pending_announcements(&self) -> Result<u64, StoreError>;
    /// The outbox those announcements wait in.
    fn outbox(&self) -> Outbox;
    /// The users with these ids that exist, in any order.
    async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError>;
    /// The user whose `email_key` is `email_key`.
    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>, StoreError>;
    /// Replaces the stored user with `user` if the stored version is `user.version - 1`;
    /// [`StoreError::VersionMismatch`] otherwise (nothing is written).
    async fn update_user(&self, user: &User) -> Result<(), StoreError>;
    /// A page of users, oldest first, whose email or name starts with `search`
    /// (case-insensitive; `None` lists all), and the total that match.
    async fn list_users(&self, search: Option<&str>, offset: u64, limit: u64) -> Result<(Vec<User>, u64), StoreError>;

    /// Stores a new refresh token.
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError>;
    /// Spends the token with `hash` if it is live at `now`, atomically: of two concurrent
    /// calls with one token, exactly one gets [`Consumed::Fresh`].
    async fn consume_refresh_token(&self, hash: &str, now: DateTime<Utc>) -> Result<Consumed, StoreError>;
    /// Revokes every token of a login session.
    async fn revoke_family(&self, family_id: Uuid) -> Result<(), StoreError>;
    /// Revokes every token of a user (all sessions).
    async fn revoke_user_tokens(&self, user_id: Uuid) -> Result<(), StoreError>;
}
