//! The embedded user store on sea-orm (SQLite; PostgreSQL works too).
//!
//! Users live in `users_accounts` (the whole user as JSON beside indexed columns), refresh
//! tokens in `users_refresh_tokens`. Optimistic updates and spending a refresh token are single
//! conditional `UPDATE`s whose affected-row count says whether they won.

mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Schema, TransactionTrait,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use shop_kernel::{db, literal::like_literal};
use shop_messaging::{Envelope, migration::CreateOutbox, outbox};
use uuid::Uuid;

use self::entity::{account, refresh_token};
use shop_kernel::store::StoreFailure;

use super::{Consumed, Outbox, RefreshToken, StoreError, UserStore};
use crate::domain::User;

/// User tables in a relational database.
#[derive(Clone)]
pub struct SqlUserStore {
    db: DatabaseConnection,
}

fn unavailable(error: DbErr) -> StoreError {
    StoreFailure::from(error).into()
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreFailure::corrupt(error).into()
}

/// A write error: a taken email (or id) is [`StoreError::EmailTaken`].
fn write_error(error: DbErr) -> StoreError {
    if db::is_unique_violation(&error) { StoreError::EmailTaken } else { unavailable(error) }
}

fn parse_user(document: &str) -> Result<User, StoreError> {
    serde_json::from_str(document).map_err(corrupt)
}

fn time_of(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(format_args!("time out of range: {millis}")))
}

fn token_from(row: &refresh_token::Model) -> Result<RefreshToken, StoreError> {
    Ok(RefreshToken {
        hash: row.hash.clone(),
        user_id: Uuid::parse_str(&row.user_id).map_err(corrupt)?,
        family_id: Uuid::parse_str(&row.family_id).map_err(corrupt)?,
        issued_at: time_of(row.issued_at_ms)?,
        expires_at: time_of(row.expires_at_ms)?,
    })
}

/// The condition of [`UserStore::list_users`]: everyone, or an email or name starting with `search`.
fn search_condition(search: Option<&str>) -> Condition {
    match search {
        None => Condition::all(),
        Some(search) => {
            let pattern = format!("{}%", like_literal(&search.to_lowercase()));
            Condition::any()
                .add(Expr::col(account::Column::EmailKey).like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(Expr::col(account::Column::NameKey).like(LikeExpr::new(pattern).escape('\\')))
        }
    }
}

impl SqlUserStore {
    /// Opens the database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self { db: db::connect(url, max_connections).await.map_err(unavailable)? })
    }

    fn account_row(user: &User) -> Result<account::ActiveModel, StoreError> {
        Ok(account::ActiveModel {
            id: Set(user.id.to_string()),
            email_key: Set(user.email_key.clone()),
            name_key: Set(user.name.to_lowercase()),
            created_at_ms: Set(user.created_at.timestamp_millis()),
            version: Set(user.version),
            document: Set(serde_json::to_string(user).map_err(corrupt)?),
        })
    }

    /// Revokes the tokens that `column` equals `value` for.
    async fn revoke_where(&self, column: refresh_token::Column, value: Uuid) -> Result<(), StoreError> {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Revoked, Expr::value(true))
            .filter(column.eq(value.to_string()))
            .exec(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl UserStore for SqlUserStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        let schema = Schema::new(self.db.get_database_backend());
        let statements = [
            schema.create_table_from_entity(account::Entity).if_not_exists().to_owned(),
            schema.create_table_from_entity(refresh_token::Entity).if_not_exists().to_owned(),
        ];
        for statement in statements {
            self.db.execute(&statement).await.map_err(unavailable)?;
        }
        for index in [
            "CREATE INDEX IF NOT EXISTS users_accounts_created ON users_accounts (created_at_ms, id)",
            "CREATE INDEX IF NOT EXISTS users_accounts_name ON users_accounts (name_key)",
            "CREATE INDEX IF NOT EXISTS users_refresh_tokens_family ON users_refresh_tokens (family_id)",
            "CREATE INDEX IF NOT EXISTS users_refresh_tokens_user ON users_refresh_tokens (user_id)",
        ] {
            self.db.execute_unprepared(index).await.map_err(unavailable)?;
        }
        CreateOutbox.up(&SchemaManager::new(&self.db)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(unavailable)
    }

    async fn insert_user(&self, user: &User, announcements: &[Envelope]) -> Result<(), StoreError> {
        let row = Self::account_row(user)?;
        let tx = self.db.begin().await.map_err(unavailable)?;
        account::Entity::insert(row).exec(&tx).await.map_err(write_error)?;
        outbox::enqueue(&tx, announcements).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(())
    }

    async fn pending_announcements(&self) -> Result<u64, StoreError> {
        outbox::pending_count(&self.db).await.map_err(unavailable)
    }

    fn outbox(&self) -> Outbox {
        Outbox::Sql(self.db.clone())
    }

    async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = account::Entity::find()
            .filter(account::Column::Id.is_in(ids.iter().map(Uuid::to_string)))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| parse_user(&r.document)).collect()
    }

    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>, StoreError> {
        let row = account::Entity::find()
            .filter(account::Column::EmailKey.eq(email_key))
            .one(&self.db)
            .await
            .map_err(unavailable)?;
        row.map(|r| parse_user(&r.document)).transpose()
    }

    async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        let updated = account::Entity::update_many()
            .set(Self::account_row(user)?)
            .filter(account::Column::Id.eq(user.id.to_string()))
            .filter(account::Column::Version.eq(user.version - 1))
            .exec(&self.db)
            .await
            .map_err(write_error)?;
        if updated.rows_affected == 1 { Ok(()) } else { Err(StoreError::VersionMismatch) }
    }

    async fn list_users(&self, search: Option<&str>, offset: u64, limit: u64) -> Result<(Vec<User>, u64), StoreError> {
        let condition = search_condition(search);
        let total = account::Entity::find().filter(condition.clone()).count(&self.db).await.map_err(unavailable)?;
        if limit == 0 || offset >= total {
            return Ok((Vec::new(), total));
        }
        let rows = account::Entity::find()
            .filter(condition)
            .order_by_asc(account::Column::CreatedAtMs)
            .order_by_asc(account::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        let users = rows.iter().map(|r| parse_user(&r.document)).collect::<Result<_, _>>()?;
        Ok((users, total))
    }

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        let row = refresh_token::ActiveModel {
            hash: Set(token.hash.clone()),
            user_id: Set(token.user_id.to_string()),
            family_id: Set(token.family_id.to_string()),
            issued_at_ms: Set(token.issued_at.timestamp_millis()),
            expires_at_ms: Set(token.expires_at.timestamp_millis()),
            spent: Set(false),
            revoked: Set(false),
        };
        refresh_token::Entity::insert(row).exec(&self.db).await.map_err(|error| {
            if db::is_unique_violation(&error) {
                corrupt("a refresh token with this hash exists")
            } else {
                unavailable(error)
            }
        })?;
        Ok(())
    }

    async fn consume_refresh_token(&self, hash: &str, now: DateTime<Utc>) -> Result<Consumed, StoreError> {
        // The conditional UPDATE decides who wins; the read beside it in the same write
        // transaction sees the row as that UPDATE left it.
        let tx = db::begin_write(&self.db).await.map_err(unavailable)?;
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Spent, Expr::value(true))
            .filter(refresh_token::Column::Hash.eq(hash))
            .filter(refresh_token::Column::Spent.eq(false))
            .filter(refresh_token::Column::Revoked.eq(false))
            .filter(refresh_token::Column::ExpiresAtMs.gt(now.timestamp_millis()))
            .exec(&tx)
            .await
            .map_err(unavailable)?;
        let row = refresh_token::Entity::find_by_id(hash.to_owned()).one(&tx).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(Consumed::Unknown);
        };
        if spent.rows_affected == 1 {
            token_from(&row).map(Consumed::Fresh)
        } else if row.spent || row.revoked {
            token_from(&row).map(Consumed::Reused)
        } else {
            Ok(Consumed::Expired)
        }
    }

    async fn revoke_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.revoke_where(refresh_token::Column::FamilyId, family_id).await
    }

    async fn revoke_user_tokens(&self, user_id: Uuid) -> Result<(), StoreError> {
        self.revoke_where(refresh_token::Column::UserId, user_id).await
    }
}
