//! A lease on a payment held by the one command (capture, void) that is talking to the provider
//! about it, so one order's payment commands never race each other: a void that read
//! AUTHORIZED cannot be refused by the provider because a capture landed meanwhile.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    LeaseHolder,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        if !manager.has_column("payments", "lease_holder").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .add_column(ColumnDef::new(Payments::LeaseHolder).string_len(36).null())
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("payments", "lease_until").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .add_column(ColumnDef::new(Payments::LeaseUntil).timestamp_with_time_zone().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Payments::LeaseHolder, Payments::LeaseUntil] {
            manager.alter_table(Table::alter().table(Payments::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
