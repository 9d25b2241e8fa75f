//! Recipients (fed by `user.registered`), marketing preferences, and the notifications
//! themselves: one row per (source event, kind, channel), which is also the delivery queue.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recipients {
    Table,
    UserId,
    Email,
    Name,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    UserId,
    Marketing,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    SourceEventId,
    Kind,
    Category,
    Channel,
    Status,
    Subject,
    Context,
    Recipient,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LeaseToken,
    LastError,
    CreatedAt,
    SentAt,
    UpdatedAt,
}

const KINDS: [&str; 7] = [
    "WELCOME",
    "ORDER_CONFIRMED",
    "ORDER_CANCELLED",
    "ORDER_SHIPPED",
    "ORDER_DELIVERED",
    "PAYMENT_REFUNDED",
    "REVIEW_REQUEST",
];
const CATEGORIES: [&str; 2] = ["TRANSACTIONAL", "MARKETING"];
const CHANNELS: [&str; 1] = ["EMAIL"];
const STATUSES: [&str; 4] = ["QUEUED", "SENT", "FAILED", "SKIPPED"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recipients::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Recipients::UserId).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Recipients::Email).string_len(320).not_null())
                    .col(ColumnDef::new(Recipients::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Recipients::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationPreferences::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(NotificationPreferences::UserId).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(NotificationPreferences::Marketing).boolean().not_null())
                    .col(ColumnDef::new(NotificationPreferences::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Notifications::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Notifications::UserId).string_len(64).not_null())
                    .col(ColumnDef::new(Notifications::SourceEventId).string_len(36).not_null())
                    .col(ColumnDef::new(Notifications::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Notifications::Category).string_len(16).not_null())
                    .col(ColumnDef::new(Notifications::Channel).string_len(16).not_null())
                    .col(ColumnDef::new(Notifications::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Notifications::Subject).string_len(300).not_null())
                    .col(ColumnDef::new(Notifications::Context).text().not_null())
                    .col(ColumnDef::new(Notifications::Recipient).string_len(320).null())
                    .col(ColumnDef::new(Notifications::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(Notifications::NextAttemptAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Notifications::LeaseUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notifications::LeaseToken).string_len(36).null())
                    .col(ColumnDef::new(Notifications::LastError).string_len(500).null())
                    .col(ColumnDef::new(Notifications::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Notifications::SentAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notifications::UpdatedAt).timestamp_with_time_zone().not_null())
                    .check(Expr::col(Notifications::Kind).is_in(KINDS))
                    .check(Expr::col(Notifications::Category).is_in(CATEGORIES))
                    .check(Expr::col(Notifications::Channel).is_in(CHANNELS))
                    .check(Expr::col(Notifications::Status).is_in(STATUSES))
                    .check(Expr::col(Notifications::Attempts).gte(0))
                    // A sent notification says where it went and when.
                    .check(
                        Expr::col(Notifications::Status).ne("SENT").or(Expr::col(Notifications::SentAt)
                            .is_not_null()
                            .and(Expr::col(Notifications::Recipient).is_not_null())),
                    )
                    .to_owned(),
            )
            .await?;
        // Nothing is sent twice for one event: one notification per event, kind and channel,
        // whatever the inbox remembers and however often the message is delivered.
        manager
            .create_index(
                Index::create()
                    .name("notifications_once_per_event")
                    .table(Notifications::Table)
                    .col(Notifications::SourceEventId)
                    .col(Notifications::Kind)
                    .col(Notifications::Channel)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // `User.notifications`, newest first.
        manager
            .create_index(
                Index::create()
                    .name("notifications_by_user")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::CreatedAt)
                    .col(Notifications::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // The delivery worker's queue: due rows of one status.
        manager
            .create_index(
                Index::create()
                    .name("notifications_due")
                    .table(Notifications::Table)
                    .col(Notifications::Status)
                    .col(Notifications::NextAttemptAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Notifications::Table.into_iden(),
            NotificationPreferences::Table.into_iden(),
            Recipients::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
