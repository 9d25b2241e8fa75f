//! Stock per SKU, its audit trail, and reservations held for orders.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryStock {
    Table,
    Sku,
    OnHand,
    Reserved,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InventoryAdjustments {
    Table,
    Id,
    Sku,
    Delta,
    Reason,
    OnHandAfter,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InventoryReservations {
    Table,
    Id,
    OrderId,
    Status,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InventoryReservationLines {
    Table,
    ReservationId,
    Sku,
    Quantity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InventoryStock::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(InventoryStock::Sku).string_len(32).not_null().primary_key())
                    .col(ColumnDef::new(InventoryStock::OnHand).big_integer().not_null())
                    .col(ColumnDef::new(InventoryStock::Reserved).big_integer().not_null().default(0))
                    .col(ColumnDef::new(InventoryStock::UpdatedAt).timestamp_with_time_zone().not_null())
                    // The invariants of stock live in the database, whatever the code does.
                    .check(Expr::col(InventoryStock::OnHand).gte(0))
                    .check(Expr::col(InventoryStock::Reserved).gte(0))
                    .check(Expr::col(InventoryStock::Reserved).lte(Expr::col(InventoryStock::OnHand)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryAdjustments::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(InventoryAdjustments::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(InventoryAdjustments::Sku).string_len(32).not_null())
                    .col(ColumnDef::new(InventoryAdjustments::Delta).big_integer().not_null())
                    .col(ColumnDef::new(InventoryAdjustments::Reason).string_len(200).not_null())
                    .col(ColumnDef::new(InventoryAdjustments::OnHandAfter).big_integer().not_null())
                    .col(ColumnDef::new(InventoryAdjustments::CreatedAt).timestamp_with_time_zone().not_null())
                    .check(Expr::col(InventoryAdjustments::Delta).ne(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_adjustments_sku")
                    .table(InventoryAdjustments::Table)
                    .col(InventoryAdjustments::Sku)
                    .col(InventoryAdjustments::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryReservations::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(InventoryReservations::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(InventoryReservations::OrderId).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(InventoryReservations::Status).string_len(16).not_null())
                    .col(ColumnDef::new(InventoryReservations::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(InventoryReservations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(InventoryReservations::UpdatedAt).timestamp_with_time_zone().not_null())
                    .check(Expr::col(InventoryReservations::Status).is_in([
                        "ACTIVE",
                        "COMMITTED",
                        "RELEASED",
                        "EXPIRED",
                    ]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_reservations_due")
                    .table(InventoryReservations::Table)
                    .col(InventoryReservations::Status)
                    .col(InventoryReservations::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryReservationLines::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(InventoryReservationLines::ReservationId).string_len(36).not_null())
                    .col(ColumnDef::new(InventoryReservationLines::Sku).string_len(32).not_null())
                    .col(ColumnDef::new(InventoryReservationLines::Quantity).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(InventoryReservationLines::ReservationId)
                            .col(InventoryReservationLines::Sku),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InventoryReservationLines::Table, InventoryReservationLines::ReservationId)
                            .to(InventoryReservations::Table, InventoryReservations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(InventoryReservationLines::Quantity).gt(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InventoryReservationLines::Table.into_iden(),
            InventoryReservations::Table.into_iden(),
            InventoryAdjustments::Table.into_iden(),
            InventoryStock::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
