//! When a committed reservation's units went back on hand (a confirmed order cancelled before
//! it shipped).
//!
//! A column rather than a fifth value of `status`: the status CHECK cannot be changed on SQLite
//! without rebuilding the table, and rebuilding it would cascade-delete its lines. A restocked
//! reservation keeps `status = 'COMMITTED'` with `restocked_at` set; the store reads the pair as
//! RESTOCKED.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryReservations {
    Table,
    RestockedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("inventory_reservations", "restocked_at").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryReservations::Table)
                    .add_column(ColumnDef::new(InventoryReservations::RestockedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryReservations::Table)
                    .drop_column(InventoryReservations::RestockedAt)
                    .to_owned(),
            )
            .await
    }
}
