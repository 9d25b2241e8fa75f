//! Migrations of the notifications database. They run unchanged on PostgreSQL and SQLite:
//! string columns with CHECK constraints instead of native enums, event facts as JSON text.
//! The messaging inbox lives in the same database, so a message's effect and the record that
//! it was handled commit together. Notifications publishes nothing, so there is no outbox.

pub use sea_orm_migration::prelude::*;

mod m20261201_000001_create_notifications;

/// Every notifications migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261201_000001_create_notifications::Migration),
            Box::new(shop_messaging::migration::CreateInbox),
        ]
    }
}
