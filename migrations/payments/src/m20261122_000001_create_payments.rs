//! Payments, every call made to the provider for them, and refunds.
//!
//! No card data is stored: the payment token only passes through to the provider; what is
//! kept is the provider's reference of the authorization.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    UserId,
    Currency,
    AmountMinor,
    AuthorizedMinor,
    CapturedMinor,
    RefundedMinor,
    Status,
    FailureCode,
    ProviderReference,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentOperations {
    Table,
    Id,
    PaymentId,
    OrderId,
    Operation,
    IdempotencyKey,
    AmountMinor,
    Outcome,
    ProviderReference,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentRefunds {
    Table,
    Id,
    PaymentId,
    OrderId,
    AmountMinor,
    Reason,
    IdempotencyKey,
    Status,
    FailureCode,
    ProviderReference,
    CreatedAt,
    UpdatedAt,
}

const STATUSES: [&str; 6] = ["AUTHORIZED", "CAPTURED", "VOIDED", "FAILED", "REFUNDED", "PARTIALLY_REFUNDED"];
const FAILURE_CODES: [&str; 4] = ["DECLINED", "INSUFFICIENT_FUNDS", "TIMEOUT", "PROVIDER_UNAVAILABLE"];
const OPERATIONS: [&str; 4] = ["AUTHORIZE", "CAPTURE", "VOID", "REFUND"];
const REFUND_STATUSES: [&str; 3] = ["PENDING", "SUCCEEDED", "FAILED"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Payments::Id).string_len(36).not_null().primary_key())
                    // One payment per order: a second authorization for the same order is refused here.
                    .col(ColumnDef::new(Payments::OrderId).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Payments::UserId).string_len(64).not_null())
                    .col(ColumnDef::new(Payments::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Payments::AmountMinor).big_integer().not_null())
                    .col(ColumnDef::new(Payments::AuthorizedMinor).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Payments::CapturedMinor).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Payments::RefundedMinor).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Payments::Status).string_len(24).not_null())
                    .col(ColumnDef::new(Payments::FailureCode).string_len(32).null())
                    .col(ColumnDef::new(Payments::ProviderReference).string_len(128).null())
                    .col(ColumnDef::new(Payments::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Payments::UpdatedAt).timestamp_with_time_zone().not_null())
                    // The invariants of amounts live in the database, whatever the code does:
                    // never refund more than was captured, never capture more than was authorized.
                    .check(Expr::col(Payments::AmountMinor).gt(0))
                    .check(Expr::col(Payments::RefundedMinor).gte(0))
                    .check(Expr::col(Payments::RefundedMinor).lte(Expr::col(Payments::CapturedMinor)))
                    .check(Expr::col(Payments::CapturedMinor).lte(Expr::col(Payments::AuthorizedMinor)))
                    .check(Expr::col(Payments::AuthorizedMinor).lte(Expr::col(Payments::AmountMinor)))
                    .check(Expr::col(Payments::Status).is_in(STATUSES))
                    .check(
                        Expr::col(Payments::FailureCode)
                            .is_null()
                            .or(Expr::col(Payments::FailureCode).is_in(FAILURE_CODES)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentOperations::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PaymentOperations::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(PaymentOperations::PaymentId).string_len(36).not_null())
                    .col(ColumnDef::new(PaymentOperations::OrderId).string_len(64).not_null())
                    .col(ColumnDef::new(PaymentOperations::Operation).string_len(16).not_null())
                    .col(ColumnDef::new(PaymentOperations::IdempotencyKey).string_len(200).not_null())
                    .col(ColumnDef::new(PaymentOperations::AmountMinor).big_integer().not_null())
                    .col(ColumnDef::new(PaymentOperations::Outcome).string_len(32).not_null())
                    .col(ColumnDef::new(PaymentOperations::ProviderReference).string_len(128).null())
                    .col(ColumnDef::new(PaymentOperations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(PaymentOperations::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentOperations::Table, PaymentOperations::PaymentId)
                            .to(Payments::Table, Payments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(PaymentOperations::Operation).is_in(OPERATIONS))
                    .check(Expr::col(PaymentOperations::AmountMinor).gte(0))
                    .to_owned(),
            )
            .await?;
        // The last line of defence against double charges: one operation of a kind per
        // order and idempotency key, whatever races the code loses.
        manager
            .create_index(
                Index::create()
                    .name("payment_operations_once")
                    .table(PaymentOperations::Table)
                    .col(PaymentOperations::OrderId)
                    .col(PaymentOperations::Operation)
                    .col(PaymentOperations::IdempotencyKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentRefunds::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PaymentRefunds::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(PaymentRefunds::PaymentId).string_len(36).not_null())
                    .col(ColumnDef::new(PaymentRefunds::OrderId).string_len(64).not_null())
                    .col(ColumnDef::new(PaymentRefunds::AmountMinor).big_integer().not_null())
                    .col(ColumnDef::new(PaymentRefunds::Reason).string_len(500).not_null())
                    .col(ColumnDef::new(PaymentRefunds::IdempotencyKey).string_len(100).not_null())
                    .col(ColumnDef::new(PaymentRefunds::Status).string_len(16).not_null())
                    .col(ColumnDef::new(PaymentRefunds::FailureCode).string_len(32).null())
                    .col(ColumnDef::new(PaymentRefunds::ProviderReference).string_len(128).null())
                    .col(ColumnDef::new(PaymentRefunds::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(PaymentRefunds::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentRefunds::Table, PaymentRefunds::PaymentId)
                            .to(Payments::Table, Payments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(PaymentRefunds::AmountMinor).gt(0))
                    .check(Expr::col(PaymentRefunds::Status).is_in(REFUND_STATUSES))
                    .check(
                        Expr::col(PaymentRefunds::FailureCode)
                            .is_null()
                            .or(Expr::col(PaymentRefunds::FailureCode).is_in(FAILURE_CODES)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payment_refunds_key")
                    .table(PaymentRefunds::Table)
                    .col(PaymentRefunds::PaymentId)
                    .col(PaymentRefunds::IdempotencyKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [PaymentRefunds::Table.into_iden(), PaymentOperations::Table.into_iden(), Payments::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
