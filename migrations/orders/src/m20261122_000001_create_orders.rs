//! Orders, their lines (a snapshot of the catalog at order time) and their tracking timeline.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrdersOrders {
    Table,
    Id,
    UserId,
    IdempotencyKey,
    RequestHash,
    Status,
    PaymentStatus,
    Currency,
    SubtotalMinor,
    ShippingMinor,
    TaxMinor,
    TotalMinor,
    TaxRateBp,
    ShippingAddress,
    PaymentToken,
    PaymentId,
    RefundedMinor,
    TrackingNumber,
    CancellationReason,
    DeadlineAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrdersOrderLines {
    Table,
    OrderId,
    Position,
    ProductId,
    Sku,
    ProductName,
    VariantName,
    Quantity,
    UnitPriceMinor,
    LineSubtotalMinor,
    TaxMinor,
}

#[derive(DeriveIden)]
enum OrdersOrderEvents {
    Table,
    Id,
    OrderId,
    Status,
    Note,
    At,
}

const ORDER_STATUSES: [&str; 6] = ["PENDING", "AWAITING_PAYMENT", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"];
const PAYMENT_STATUSES: [&str; 7] =
    ["PENDING", "AUTHORIZED", "CAPTURED", "FAILED", "VOIDED", "REFUNDED", "PARTIALLY_REFUNDED"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrdersOrders::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(OrdersOrders::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(OrdersOrders::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(OrdersOrders::IdempotencyKey).string_len(100).not_null())
                    .col(ColumnDef::new(OrdersOrders::RequestHash).string_len(64).not_null())
                    .col(ColumnDef::new(OrdersOrders::Status).string_len(24).not_null())
                    .col(ColumnDef::new(OrdersOrders::PaymentStatus).string_len(24).not_null())
                    .col(ColumnDef::new(OrdersOrders::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(OrdersOrders::SubtotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrders::ShippingMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrders::TaxMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrders::TotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrders::TaxRateBp).integer().not_null())
                    .col(ColumnDef::new(OrdersOrders::ShippingAddress).text().not_null())
                    .col(ColumnDef::new(OrdersOrders::PaymentToken).string_len(200).null())
                    .col(ColumnDef::new(OrdersOrders::PaymentId).string_len(64).null())
                    .col(ColumnDef::new(OrdersOrders::RefundedMinor).big_integer().not_null().default(0))
                    .col(ColumnDef::new(OrdersOrders::TrackingNumber).string_len(64).null())
                    .col(ColumnDef::new(OrdersOrders::CancellationReason).string_len(500).null())
                    .col(ColumnDef::new(OrdersOrders::DeadlineAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(OrdersOrders::Version).big_integer().not_null().default(1))
                    .col(ColumnDef::new(OrdersOrders::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OrdersOrders::UpdatedAt).timestamp_with_time_zone().not_null())
                    // The invariants of an order live in the database, whatever the code does.
                    .check(Expr::col(OrdersOrders::Status).is_in(ORDER_STATUSES))
                    .check(Expr::col(OrdersOrders::PaymentStatus).is_in(PAYMENT_STATUSES))
                    .check(Expr::col(OrdersOrders::SubtotalMinor).gte(0))
                    .check(Expr::col(OrdersOrders::ShippingMinor).gte(0))
                    .check(Expr::col(OrdersOrders::TaxMinor).gte(0))
                    .check(Expr::col(OrdersOrders::RefundedMinor).gte(0))
                    .check(Expr::col(OrdersOrders::RefundedMinor).lte(Expr::col(OrdersOrders::TotalMinor)))
                    .check(Expr::col(OrdersOrders::TaxRateBp).between(0, 10_000))
                    .check(
                        Expr::col(OrdersOrders::TotalMinor).eq(Expr::col(OrdersOrders::SubtotalMinor)
                            .add(Expr::col(OrdersOrders::ShippingMinor))
                            .add(Expr::col(OrdersOrders::TaxMinor))),
                    )
                    .to_owned(),
            )
            .await?;
        // The last line of defence of checkout idempotency: one order per (user, key).
        manager
            .create_index(
                Index::create()
                    .name("orders_user_idempotency_key")
                    .table(OrdersOrders::Table)
                    .col(OrdersOrders::UserId)
                    .col(OrdersOrders::IdempotencyKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_by_user")
                    .table(OrdersOrders::Table)
                    .col(OrdersOrders::UserId)
                    .col(OrdersOrders::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_due")
                    .table(OrdersOrders::Table)
                    .col(OrdersOrders::Status)
                    .col(OrdersOrders::DeadlineAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrdersOrderLines::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(OrdersOrderLines::OrderId).string_len(36).not_null())
                    .col(ColumnDef::new(OrdersOrderLines::Position).integer().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::ProductId).string_len(64).not_null())
                    .col(ColumnDef::new(OrdersOrderLines::Sku).string_len(64).not_null())
                    .col(ColumnDef::new(OrdersOrderLines::ProductName).text().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::VariantName).text().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::Quantity).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::UnitPriceMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::LineSubtotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(OrdersOrderLines::TaxMinor).big_integer().not_null())
                    .primary_key(Index::create().col(OrdersOrderLines::OrderId).col(OrdersOrderLines::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrdersOrderLines::Table, OrdersOrderLines::OrderId)
                            .to(OrdersOrders::Table, OrdersOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(OrdersOrderLines::Quantity).between(1, 99))
                    .check(Expr::col(OrdersOrderLines::UnitPriceMinor).gte(0))
                    .check(Expr::col(OrdersOrderLines::TaxMinor).gte(0))
                    .check(
                        Expr::col(OrdersOrderLines::LineSubtotalMinor)
                            .eq(Expr::col(OrdersOrderLines::UnitPriceMinor).mul(Expr::col(OrdersOrderLines::Quantity))),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrdersOrderEvents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(OrdersOrderEvents::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(OrdersOrderEvents::OrderId).string_len(36).not_null())
                    .col(ColumnDef::new(OrdersOrderEvents::Status).string_len(24).not_null())
                    .col(ColumnDef::new(OrdersOrderEvents::Note).string_len(500).null())
                    .col(ColumnDef::new(OrdersOrderEvents::At).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrdersOrderEvents::Table, OrdersOrderEvents::OrderId)
                            .to(OrdersOrders::Table, OrdersOrders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(OrdersOrderEvents::Status).is_in(ORDER_STATUSES))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_order_events_by_order")
                    .table(OrdersOrderEvents::Table)
                    .col(OrdersOrderEvents::OrderId)
                    .col(OrdersOrderEvents::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [OrdersOrderEvents::Table.into_iden(), OrdersOrderLines::Table.into_iden(), OrdersOrders::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
