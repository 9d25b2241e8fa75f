//! Migrations of the inventory database. They run unchanged on PostgreSQL and SQLite: string
//! columns instead of native enums, integer quantities, CHECK constraints for invariants.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_inventory;
mod m20261203_000001_record_restocks;

/// Every inventory migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_inventory::Migration),
            Box::new(shop_messaging::migration::CreateOutbox),
            Box::new(shop_messaging::migration::CreateInbox),
            Box::new(m20261203_000001_record_restocks::Migration),
        ]
    }
}
