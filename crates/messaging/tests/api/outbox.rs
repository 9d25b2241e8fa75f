//! The transactional outbox and its relay, on PostgreSQL and SQLite.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::TransactionTrait;
use shop_kernel::db;
use shop_messaging::outbox::{self, OutboxRelay, OutboxWaker};
use shop_messaging::{Bus, ConsumerSpec, QueueSpec};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Recorder, RecordingBus, TestDb, eventually, ping, prefix, rabbit};

async fn rolled_back_enqueue_leaves_nothing(test: TestDb) {
    let tx = db::begin_write(&test.db).await.unwrap();
    outbox::enqueue(&tx, &[ping(1), ping(2)]).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 0);

    let bus = Arc::new(RecordingBus::default());
    let relay = OutboxRelay::new(test.db.clone(), bus.clone(), OutboxWaker::new());
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert!(bus.published.lock().await.is_empty());
}

#[tokio::test]
async fn rolled_back_enqueue_leaves_nothing_postgres() {
    rolled_back_enqueue_leaves_nothing(TestDb::postgres().await).await;
}

#[tokio::test]
async fn rolled_back_enqueue_leaves_nothing_sqlite() {
    rolled_back_enqueue_leaves_nothing(TestDb::sqlite().await).await;
}

async fn committed_messages_are_relayed_exactly_once(test: TestDb) {
    let messages = [ping(1), ping(2), ping(3)];
    let tx = db::begin_write(&test.db).await.unwrap();
    outbox::enqueue(&tx, &messages).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 3);

    let bus = Arc::new(RecordingBus::default());
    let relay = OutboxRelay::new(test.db.clone(), bus.clone(), OutboxWaker::new());
    assert_eq!(relay.relay_once().await.unwrap(), 3);
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 0);
    // Oldest first, byte-identical envelopes.
    assert_eq!(*bus.published.lock().await, messages);
}

#[tokio::test]
async fn committed_messages_are_relayed_exactly_once_postgres() {
    committed_messages_are_relayed_exactly_once(TestDb::postgres().await).await;
}

#[tokio::test]
async fn committed_messages_are_relayed_exactly_once_sqlite() {
    committed_messages_are_relayed_exactly_once(TestDb::sqlite().await).await;
}

async fn a_failed_publish_keeps_the_rows(test: TestDb) {
    let tx = db::begin_write(&test.db).await.unwrap();
    outbox::enqueue(&tx, &[ping(1)]).await.unwrap();
    tx.commit().await.unwrap();
    let bus = Arc::new(RecordingBus::default());
    bus.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let relay = OutboxRelay::new(test.db.clone(), bus.clone(), OutboxWaker::new());
    assert!(relay.relay_once().await.is_err());
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 1);
    bus.down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(bus.published.lock().await.len(), 1);
}

#[tokio::test]
async fn a_failed_publish_keeps_the_rows_postgres() {
    a_failed_publish_keeps_the_rows(TestDb::postgres().await).await;
}

#[tokio::test]
async fn a_failed_publish_keeps_the_rows_sqlite() {
    a_failed_publish_keeps_the_rows(TestDb::sqlite().await).await;
}

/// The process dies between the commit and the publish: the rows wait in the outbox, and a relay
/// started later delivers each of them once through RabbitMQ.
async fn a_relay_started_after_the_commit_delivers_once(test: TestDb) {
    let prefix = prefix();
    let queue = QueueSpec::new("outbox.later", ["test.ping.*"]);
    let bus = rabbit(&prefix, vec![queue.clone()]).await;
    let messages: Vec<_> = (0..25).map(ping).collect();
    for chunk in messages.chunks(5) {
        let tx = db::begin_write(&test.db).await.unwrap();
        outbox::enqueue(&tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 25);

    let shutdown = CancellationToken::new();
    let recorder = Recorder::new();
    let consumer = bus.consume(ConsumerSpec::durable(queue), recorder.clone(), shutdown.clone()).await.unwrap();
    let waker = OutboxWaker::new();
    let relay = tokio::spawn(OutboxRelay::new(test.db.clone(), bus.clone(), waker.clone()).run(shutdown.clone()));
    waker.wake();
    eventually(Duration::from_secs(20), "all messages delivered", || async { recorder.calls() >= 25 }).await;
    // Give a duplicate the chance to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids = recorder.ids().await;
    assert_eq!(ids.len(), 25);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 25);
    assert_eq!(outbox::pending_count(&test.db).await.unwrap(), 0);
    shutdown.cancel();
    relay.await.unwrap();
    consumer.join().await;
}

#[tokio::test]
async fn a_relay_started_after_the_commit_delivers_once_postgres() {
    a_relay_started_after_the_commit_delivers_once(TestDb::postgres().await).await;
}

#[tokio::test]
async fn a_relay_started_after_the_commit_delivers_once_sqlite() {
    a_relay_started_after_the_commit_delivers_once(TestDb::sqlite().await).await;
}

/// Two relays (two replicas, two pools) on one database publish every row exactly once.
async fn two_relays_publish_each_row_once(test: TestDb) {
    const N: usize = 450;
    let messages: Vec<_> = (0..N as u64).map(ping).collect();
    for chunk in messages.chunks(50) {
        let tx = test.db.begin().await.unwrap();
        outbox::enqueue(&tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Slow publishes keep both relays inside their transactions at the same time.
    let bus = Arc::new(RecordingBus { delay: Some(Duration::from_millis(50)), ..RecordingBus::default() });
    let shutdown = CancellationToken::new();
    let poll = Duration::from_millis(20);
    let first = OutboxRelay::new(test.db.clone(), bus.clone(), OutboxWaker::new()).with_poll_interval(poll);
    let second = OutboxRelay::new(test.another_pool().await, bus.clone(), OutboxWaker::new()).with_poll_interval(poll);
    let tasks = [tokio::spawn(first.run(shutdown.clone())), tokio::spawn(second.run(shutdown.clone()))];
    eventually(Duration::from_secs(30), "outbox drained", || async {
        outbox::pending_count(&test.db).await.unwrap() == 0
    })
    .await;
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    let published = bus.published.lock().await;
    assert_eq!(published.len(), N, "every row published exactly once");
    assert_eq!(published.iter().map(|m| m.id).collect::<HashSet<_>>().len(), N);
}

#[tokio::test]
async fn two_relays_publish_each_row_once_postgres() {
    two_relays_publish_each_row_once(TestDb::postgres().await).await;
}

#[tokio::test]
async fn two_relays_publish_each_row_once_sqlite() {
    two_relays_publish_each_row_once(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn sent_rows_can_be_purged() {
    let test = TestDb::sqlite().await;
    let tx = db::begin_write(&test.db).await.unwrap();
    outbox::enqueue(&tx, &[ping(1), ping(2)]).await.unwrap();
    tx.commit().await.unwrap();
    let relay = OutboxRelay::new(test.db.clone(), Arc::new(RecordingBus::default()), OutboxWaker::new());
    relay.relay_once().await.unwrap();
    let purged = outbox::purge_sent(&test.db, chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap();
    assert_eq!(purged, 2);
}
