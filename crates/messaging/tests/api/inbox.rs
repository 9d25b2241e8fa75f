//! The inbox: a message's effect happens once however often it is delivered.

use std::time::Duration;

use shop_kernel::db;
use shop_messaging::{ConsumerSpec, QueueSpec, inbox};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{InboxHandler, TestBus, TestDb, eventually, ping, prefix, rabbit};

async fn claiming_twice_is_refused(test: TestDb) {
    let id = Uuid::now_v7();
    let tx = db::begin_write(&test.db).await.unwrap();
    assert!(inbox::claim(&tx, "inventory", id).await.unwrap());
    // A refused claim must not poison the transaction (PostgreSQL aborts it on an error).
    assert!(!inbox::claim(&tx, "inventory", id).await.unwrap());
    tx.commit().await.unwrap();

    let tx = db::begin_write(&test.db).await.unwrap();
    assert!(!inbox::claim(&tx, "inventory", id).await.unwrap());
    // Consumers are independent.
    assert!(inbox::claim(&tx, "payments", id).await.unwrap());
    tx.commit().await.unwrap();

    // A rolled-back claim does not count.
    let other = Uuid::now_v7();
    let tx = db::begin_write(&test.db).await.unwrap();
    assert!(inbox::claim(&tx, "inventory", other).await.unwrap());
    tx.rollback().await.unwrap();
    let tx = db::begin_write(&test.db).await.unwrap();
    assert!(inbox::claim(&tx, "inventory", other).await.unwrap());
    tx.commit().await.unwrap();

    // Old records are purged by age; recent ones stay and keep refusing duplicates.
    assert_eq!(inbox::purge_processed(&test.db, chrono::Utc::now() - chrono::Duration::hours(1)).await.unwrap(), 0);
    assert_eq!(inbox::purge_processed(&test.db, chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap(), 3);
    let tx = db::begin_write(&test.db).await.unwrap();
    assert!(inbox::claim(&tx, "inventory", id).await.unwrap(), "forgotten after the purge");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn claiming_twice_is_refused_postgres() {
    claiming_twice_is_refused(TestDb::postgres().await).await;
}

#[tokio::test]
async fn claiming_twice_is_refused_sqlite() {
    claiming_twice_is_refused(TestDb::sqlite().await).await;
}

async fn a_message_delivered_twice_has_one_effect(bus: TestBus, test: TestDb) {
    let queue = QueueSpec::new("inbox.twice", ["test.ping.*"]);
    let shutdown = CancellationToken::new();
    let handler = InboxHandler::new(test.db.clone());
    let consumer = bus.bus().consume(ConsumerSpec::durable(queue), handler.clone(), shutdown.clone()).await.unwrap();
    let message = ping(7);
    bus.bus().publish(std::slice::from_ref(&message)).await.unwrap();
    bus.bus().publish(&[message.clone(), ping(8)]).await.unwrap();
    eventually(Duration::from_secs(20), "three deliveries handled", || async { handler.calls() >= 3 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(handler.calls(), 3);
    assert_eq!(test.effects().await, (2, 2), "one effect per distinct message");
    shutdown.cancel();
    consumer.join().await;
}

#[tokio::test]
async fn a_message_delivered_twice_has_one_effect_rabbitmq_postgres() {
    let prefix = prefix();
    let bus = rabbit(&prefix, vec![QueueSpec::new("inbox.twice", ["test.ping.*"])]).await;
    a_message_delivered_twice_has_one_effect(TestBus::Rabbit(bus), TestDb::postgres().await).await;
}

#[tokio::test]
async fn a_message_delivered_twice_has_one_effect_memory_sqlite() {
    let bus = shop_messaging::memory::InMemoryBus::new(vec![QueueSpec::new("inbox.twice", ["test.ping.*"])]);
    a_message_delivered_twice_has_one_effect(TestBus::Memory(bus), TestDb::sqlite().await).await;
}
