//! What users publishes: `user.registered`, written to the outbox in the transaction that
//! creates the account, then relayed to the bus. It consumes nothing.

use std::sync::Arc;

use shop_messaging::{
    Bus, Envelope,
    contracts::UserRegistered,
    mongo_outbox::MongoOutboxRelay,
    outbox::{OutboxRelay, OutboxWaker},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    domain::User,
    error::UsersError,
    store::{Outbox, UserStore},
};

/// The message that announces a new account to the other services.
pub fn registration_announcement(user: &User) -> Result<Envelope, UsersError> {
    let event = UserRegistered {
        user_id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        registered_at: user.created_at,
    };
    Ok(Envelope::new(&event, user.id.to_string())?)
}

/// Starts publishing `store`'s outbox to `bus` (woken by `waker` after commits) until
/// `shutdown`, with the relay that matches the store's backend.
pub fn spawn_relay(
    store: &dyn UserStore,
    bus: Arc<dyn Bus>,
    waker: OutboxWaker,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    match store.outbox() {
        Outbox::Mongo(collection) => tokio::spawn(MongoOutboxRelay::new(collection, bus, waker).run(shutdown)),
        Outbox::Sql(db) => tokio::spawn(OutboxRelay::new(db, bus, waker).run(shutdown)),
    }
}
