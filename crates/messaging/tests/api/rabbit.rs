//! RabbitMQ specifics: topology at connect, failing fast while down, and surviving a dropped
//! connection without losing or duplicating an effect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shop_kernel::db;
use shop_messaging::outbox::{self, OutboxRelay, OutboxWaker};
use shop_messaging::rabbit::RabbitBus;
use shop_messaging::{Bus, BusError, ConsumerSpec, QueueSpec};
use tokio_util::sync::CancellationToken;

use crate::helpers::{InboxHandler, TestDb, amqp_url, eventually, ping, prefix, rabbit, rabbit_config};
use shop_testkit::proxy::TcpProxy;

#[tokio::test]
async fn connect_declares_every_queue_and_its_dead_letter_queue() {
    let prefix = prefix();
    let bus = rabbit(&prefix, shop_messaging::contracts::topology()).await;
    bus.ping().await.unwrap();
    for queue in shop_messaging::contracts::topology() {
        assert_eq!(bus.dead_letters(&queue.name, 10).await.unwrap(), []);
    }
    assert!(matches!(bus.dead_letters("no.such.queue", 10).await, Err(BusError::Topology(_))));
    assert!(matches!(bus.replay_dead_letters("no.such.queue", 10).await, Err(BusError::Topology(_))));
    // The bus still works after those channel errors.
    bus.publish(&[ping(1)]).await.unwrap();
}

#[tokio::test]
async fn connecting_to_no_broker_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = rabbit_config(format!("amqp://guest:guest@{addr}/%2f"), &prefix());
    assert!(matches!(RabbitBus::connect(config, Vec::new()).await, Err(BusError::Connection(_))));
}

#[tokio::test]
async fn publishing_fails_fast_while_disconnected_and_recovers() {
    let proxy = TcpProxy::in_front_of(&amqp_url()).await;
    let prefix = prefix();
    let queue = QueueSpec::new("down", ["test.ping.*"]);
    let bus = RabbitBus::connect(rabbit_config(proxy.url(&amqp_url()), &prefix), vec![queue]).await.unwrap();
    bus.publish(&[ping(1)]).await.unwrap();

    proxy.cut();
    eventually(Duration::from_secs(10), "the bus notices", || async { bus.ping().await.is_err() }).await;
    let started = Instant::now();
    let result = bus.publish(&[ping(2)]).await;
    assert!(matches!(result, Err(BusError::Connection(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_millis(500), "fails fast");

    proxy.restore();
    eventually(Duration::from_secs(20), "the bus reconnects", || async { bus.publish(&[ping(3)]).await.is_ok() }).await;
    bus.ping().await.unwrap();
    // Topology was redeclared and the queue kept its messages.
    let direct = rabbit(&prefix, Vec::new()).await;
    let shutdown = CancellationToken::new();
    let recorder = crate::helpers::Recorder::new();
    let consumer = direct
        .consume(ConsumerSpec::durable(QueueSpec::new("down", ["test.ping.*"])), recorder.clone(), shutdown.clone())
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "both confirmed messages arrive", || async { recorder.calls() >= 2 }).await;
    shutdown.cancel();
    consumer.join().await;
}

/// Messages flow through the outbox, the relay, RabbitMQ and an inbox consumer while every
/// connection is cut: afterwards each message has been handled exactly once and none is lost.
#[tokio::test]
async fn a_dropped_connection_loses_nothing_and_duplicates_no_effect() {
    const N: u64 = 300;
    crate::helpers::init_logs();
    let test = TestDb::postgres().await;
    let proxy = TcpProxy::in_front_of(&amqp_url()).await;
    let prefix = prefix();
    let queue = QueueSpec::new("flow", ["test.ping.*"]);
    let bus = RabbitBus::connect(rabbit_config(proxy.url(&amqp_url()), &prefix), vec![queue.clone()]).await.unwrap();

    let shutdown = CancellationToken::new();
    let handler = InboxHandler::slow(test.db.clone(), Duration::from_millis(5));
    let spec = ConsumerSpec { concurrency: 8, prefetch: 20, ..ConsumerSpec::durable(queue) };
    let consumer = bus.consume(spec, handler.clone(), shutdown.clone()).await.unwrap();
    let waker = OutboxWaker::new();
    let relay_bus: Arc<dyn Bus> = bus.clone();
    let relay = tokio::spawn(OutboxRelay::new(test.db.clone(), relay_bus, waker.clone()).run(shutdown.clone()));

    let producer = {
        let (db, waker) = (test.db.clone(), waker.clone());
        tokio::spawn(async move {
            for batch in 0..N / 10 {
                let tx = db::begin_write(&db).await.unwrap();
                let messages: Vec<_> = (0..10).map(|i| ping(batch * 10 + i)).collect();
                outbox::enqueue(&tx, &messages).await.unwrap();
                tx.commit().await.unwrap();
                waker.wake();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    eventually(Duration::from_secs(30), "messages are flowing", || async { test.effects().await.0 >= 60 }).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = test.effects().await.0;
    assert!(during < N as i64, "the cut happened mid-flow ({during} handled)");
    proxy.restore();
    producer.await.unwrap();

    eventually(Duration::from_secs(60), "every message handled", || async { test.effects().await.1 == N as i64 }).await;
    assert!(handler.calls() >= N as usize);
    eventually(Duration::from_secs(10), "outbox drained", || async {
        outbox::pending_count(&test.db).await.unwrap() == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(test.effects().await, (N as i64, N as i64), "each message's effect exactly once");
    assert_eq!(bus.dead_letters("flow", 10).await.unwrap(), []);
    shutdown.cancel();
    relay.await.unwrap();
    consumer.join().await;
}

#[tokio::test]
async fn a_consumer_keeps_consuming_after_its_bus_handle_is_dropped() {
    let prefix = prefix();
    let queue = QueueSpec::new("orphan", ["test.ping.*"]);
    let consuming = rabbit(&prefix, vec![queue.clone()]).await;
    let recorder = crate::helpers::Recorder::new();
    let shutdown = CancellationToken::new();
    let consumer =
        consuming.consume(ConsumerSpec::durable(queue.clone()), recorder.clone(), shutdown.clone()).await.unwrap();
    // A service that started its consumer and then let go of the bus, as a test stack does.
    drop(consuming);

    let publishing = rabbit(&prefix, vec![queue]).await;
    publishing.publish(&[ping(1), ping(2)]).await.unwrap();
    eventually(Duration::from_secs(10), "both messages handled", || async { recorder.calls() == 2 }).await;

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), consumer.join()).await.expect("the consumer stops on its token");
}
