//! Schema of the outbox and inbox tables, for every service's migrator. Plain text and
//! timestamp columns, so the same migrations run on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

/// Creates `messaging_outbox`.
pub struct CreateOutbox;

/// Creates `messaging_inbox`.
pub struct CreateInbox;

#[derive(DeriveIden)]
enum MessagingOutbox {
    Table,
    Id,
    Kind,
    CorrelationId,
    Body,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum MessagingInbox {
    Table,
    Consumer,
    MessageId,
    ProcessedAt,
}

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m20261122_900001_create_messaging_outbox"
    }
}

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "m20261122_900002_create_messaging_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MessagingOutbox::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(MessagingOutbox::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(MessagingOutbox::Kind).string_len(255).not_null())
                    .col(ColumnDef::new(MessagingOutbox::CorrelationId).string_len(255).not_null())
                    .col(ColumnDef::new(MessagingOutbox::Body).text().not_null())
                    .col(ColumnDef::new(MessagingOutbox::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MessagingOutbox::SentAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // The relay scans `sent_at IS NULL ORDER BY id`: this index serves it without a sort.
        manager
            .create_index(
                Index::create()
                    .name("messaging_outbox_pending")
                    .table(MessagingOutbox::Table)
                    .col(MessagingOutbox::SentAt)
                    .col(MessagingOutbox::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MessagingOutbox::Table).if_exists().to_owned()).await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MessagingInbox::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(MessagingInbox::Consumer).string_len(255).not_null())
                    .col(ColumnDef::new(MessagingInbox::MessageId).string_len(36).not_null())
                    .col(ColumnDef::new(MessagingInbox::ProcessedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(MessagingInbox::Consumer).col(MessagingInbox::MessageId))
                    .to_owned(),
            )
            .await?;
        // The relay's periodic purge deletes by age.
        manager
            .create_index(
                Index::create()
                    .name("messaging_inbox_processed_at")
                    .table(MessagingInbox::Table)
                    .col(MessagingInbox::ProcessedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MessagingInbox::Table).if_exists().to_owned()).await
    }
}
