//! Migrations of the payments database. They run unchanged on PostgreSQL and SQLite: string
//! columns instead of native enums, money as integer minor units, CHECK constraints for the
//! invariants of amounts. The messaging outbox and inbox tables live in the same database, so
//! state changes and the messages announcing them commit together.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_payments;
mod m20261203_000001_command_lease;

/// Every payments migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_payments::Migration),
            Box::new(shop_messaging::migration::CreateOutbox),
            Box::new(shop_messaging::migration::CreateInbox),
            Box::new(m20261203_000001_command_lease::Migration),
        ]
    }
}
