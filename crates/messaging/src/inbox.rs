//! Idempotent consumers: a message's effect and the record that it happened commit together.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

/// The `messaging_inbox` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One processed message of one consumer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_inbox")]
    pub struct Model {
        /// The consumer's name, e.g. `inventory`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        /// The envelope id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        /// When it was processed.
        pub processed_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records that `consumer` processed `message_id`, in the caller's transaction. false = already
/// processed (skip the effect, still commit and ack).
///
/// `ON CONFLICT DO NOTHING` rather than catching the unique violation: on PostgreSQL a failed
/// statement aborts the whole transaction.
pub async fn claim<C: ConnectionTrait>(tx: &C, consumer: &str, message_id: Uuid) -> Result<bool, DbErr> {
    let row = entity::ActiveModel {
        consumer: Set(consumer.to_owned()),
        message_id: Set(message_id.to_string()),
        processed_at: Set(Utc::now()),
    };
    let inserted = entity::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(tx).await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// Forgets messages processed before `before`; the table otherwise only grows. Keep well
/// past the longest time a message can be redelivered (retries, dead-letter replays).
pub async fn purge_processed<C: ConnectionTrait>(db: &C, before: chrono::DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let result = entity::Entity::delete_many().filter(entity::Column::ProcessedAt.lt(before)).exec(db).await?;
    Ok(result.rows_affected)
}
