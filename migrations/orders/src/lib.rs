//! Migrations of the orders database. They run unchanged on PostgreSQL and SQLite: string
//! columns instead of native enums, integer minor units for money, CHECK constraints for
//! invariants. The messaging outbox and inbox tables are part of the same database, so the
//! saga's state changes and its messages commit together.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_orders;

/// Every orders migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_orders::Migration),
            Box::new(shop_messaging::migration::CreateOutbox),
            Box::new(shop_messaging::migration::CreateInbox),
        ]
    }
}
