//! Consuming, retries, dead letters and replay: the same scenarios on RabbitMQ and in memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shop_messaging::{ConsumerSpec, Envelope, Handler, HandlerError, QueueSpec};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Recorder, TestBus, eventually, fast_retry, ping};

const WAIT: Duration = Duration::from_secs(20);

fn topology() -> Vec<QueueSpec> {
    vec![work()]
}

fn work() -> QueueSpec {
    QueueSpec::new("work", ["test.#"])
}

async fn dead_count(bus: &TestBus) -> usize {
    bus.bus().dead_letters("work", 100).await.unwrap().len()
}

/// Runs a scenario once against RabbitMQ (own queue prefix) and once against the in-memory bus.
macro_rules! on_both_buses {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn rabbitmq() {
                let bus = crate::helpers::rabbit(&crate::helpers::prefix(), super::topology()).await;
                super::$name(crate::helpers::TestBus::Rabbit(bus)).await;
            }

            #[tokio::test]
            async fn memory() {
                let bus = shop_messaging::memory::InMemoryBus::new(super::topology());
                super::$name(crate::helpers::TestBus::Memory(bus)).await;
            }
        }
    )*};
}

on_both_buses!(
    a_poison_message_is_dead_lettered_and_can_be_replayed,
    a_transient_failure_is_retried_until_it_passes_and_never_dead_lettered,
    an_undecodable_body_is_dead_lettered_at_once,
    a_permanent_failure_is_dead_lettered_at_once,
    a_panicking_handler_is_retried,
    handlers_run_with_bounded_concurrency,
    competing_consumers_share_a_durable_queue,
    fan_out_consumers_each_see_every_message,
    messages_published_before_the_consumer_starts_wait_for_it,
);

async fn a_transient_failure_is_retried_until_it_passes_and_never_dead_lettered(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let recorder = Recorder::failing();
    let spec = ConsumerSpec { retry: fast_retry(3), ..ConsumerSpec::durable(work()) };
    let consumer = bus.bus().consume(spec, recorder.clone(), shutdown.clone()).await.unwrap();
    let message = ping(9);
    bus.bus().publish(std::slice::from_ref(&message)).await.unwrap();
    // An outage that lasts far longer than max_attempts deliveries.
    eventually(WAIT, "many deliveries", || async { recorder.calls() >= 8 }).await;
    assert_eq!(dead_count(&bus).await, 0, "a transient failure is never dead-lettered");
    recorder.failing.store(false, Ordering::SeqCst);
    eventually(WAIT, "handled once the outage is over", || async { recorder.ids().await == [message.id] }).await;
    assert_eq!(dead_count(&bus).await, 0);
    shutdown.cancel();
    consumer.join().await;
}

async fn a_poison_message_is_dead_lettered_and_can_be_replayed(bus: TestBus) {
    let shutdown = CancellationToken::new();
    // A handler that panics on it every time: a bug, given up on after max_attempts.
    let recorder = Recorder::panicking();
    let spec = ConsumerSpec { retry: fast_retry(3), ..ConsumerSpec::durable(work()) };
    let consumer = bus.bus().consume(spec, recorder.clone(), shutdown.clone()).await.unwrap();
    let message = ping(1);
    bus.bus().publish(std::slice::from_ref(&message)).await.unwrap();

    eventually(WAIT, "the message is dead-lettered", || async { dead_count(&bus).await == 1 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recorder.calls(), 3, "delivered max_attempts times, then given up");
    let letters = bus.bus().dead_letters("work", 10).await.unwrap();
    let [letter] = letters.as_slice() else { panic!("one dead letter expected: {letters:?}") };
    assert_eq!(letter.envelope.as_ref(), Some(&message));
    assert_eq!(letter.attempts, 3);
    assert!(letter.reason.contains("not now"), "{}", letter.reason);
    assert_eq!(Envelope::from_json(letter.body.as_bytes()).unwrap(), message);
    // Reading dead letters leaves them in place.
    assert_eq!(bus.bus().dead_letters("work", 10).await.unwrap(), letters);

    recorder.panicking.store(false, Ordering::SeqCst);
    assert_eq!(bus.bus().replay_dead_letters("work", 10).await.unwrap(), 1);
    eventually(WAIT, "the replayed message is handled", || async { recorder.ids().await == [message.id] }).await;
    assert_eq!(dead_count(&bus).await, 0);
    assert_eq!(bus.bus().replay_dead_letters("work", 10).await.unwrap(), 0);
    shutdown.cancel();
    consumer.join().await;
}

async fn an_undecodable_body_is_dead_lettered_at_once(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let recorder = Recorder::new();
    let consumer = bus.bus().consume(ConsumerSpec::durable(work()), recorder.clone(), shutdown.clone()).await.unwrap();
    bus.publish_raw("test.garbage.v1", b"not an envelope").await;
    let good = ping(2);
    bus.bus().publish(std::slice::from_ref(&good)).await.unwrap();

    eventually(WAIT, "the garbage is dead-lettered", || async { dead_count(&bus).await == 1 }).await;
    eventually(WAIT, "the good message is handled", || async { recorder.ids().await == [good.id] }).await;
    let letters = bus.bus().dead_letters("work", 10).await.unwrap();
    let [letter] = letters.as_slice() else { panic!("one dead letter expected: {letters:?}") };
    assert_eq!(letter.envelope, None);
    assert_eq!(letter.body, "not an envelope");
    assert_eq!(letter.attempts, 1);
    assert!(letter.reason.contains("undecodable"), "{}", letter.reason);
    assert_eq!(recorder.calls(), 1, "the handler never saw the garbage");
    shutdown.cancel();
    consumer.join().await;
}

async fn a_permanent_failure_is_dead_lettered_at_once(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let recorder = Recorder::new();
    recorder.permanent.store(true, Ordering::SeqCst);
    let spec = ConsumerSpec { retry: fast_retry(5), ..ConsumerSpec::durable(work()) };
    let consumer = bus.bus().consume(spec, recorder.clone(), shutdown.clone()).await.unwrap();
    bus.bus().publish(&[ping(3)]).await.unwrap();
    eventually(WAIT, "the message is dead-lettered", || async { dead_count(&bus).await == 1 }).await;
    let letters = bus.bus().dead_letters("work", 10).await.unwrap();
    assert_eq!(letters.first().map(|l| l.attempts), Some(1));
    assert!(letters.first().is_some_and(|l| l.reason.contains("cannot ever work")));
    assert_eq!(recorder.calls(), 1);
    shutdown.cancel();
    consumer.join().await;
}

/// Panics on its first call, then succeeds.
struct PanicsOnce {
    calls: AtomicUsize,
}

#[async_trait]
impl Handler for PanicsOnce {
    async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
        assert!(self.calls.fetch_add(1, Ordering::SeqCst) > 0, "first call panics");
        Ok(())
    }
}

async fn a_panicking_handler_is_retried(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let handler = Arc::new(PanicsOnce { calls: AtomicUsize::new(0) });
    let spec = ConsumerSpec { retry: fast_retry(3), ..ConsumerSpec::durable(work()) };
    let consumer = bus.bus().consume(spec, handler.clone(), shutdown.clone()).await.unwrap();
    bus.bus().publish(&[ping(4)]).await.unwrap();
    eventually(WAIT, "the retry succeeds", || async { handler.calls.load(Ordering::SeqCst) == 2 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(handler.calls.load(Ordering::SeqCst), 2);
    assert_eq!(dead_count(&bus).await, 0);
    shutdown.cancel();
    consumer.join().await;
}

async fn handlers_run_with_bounded_concurrency(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let recorder = Recorder::slow(Duration::from_millis(100));
    let spec = ConsumerSpec { concurrency: 4, prefetch: 10, ..ConsumerSpec::durable(work()) };
    let consumer = bus.bus().consume(spec, recorder.clone(), shutdown.clone()).await.unwrap();
    let messages: Vec<_> = (0..16).map(ping).collect();
    bus.bus().publish(&messages).await.unwrap();
    eventually(WAIT, "all handled", || async { recorder.ids().await.len() == 16 }).await;
    let max = recorder.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "at most 4 handlers at once, and more than one: {max}");
    shutdown.cancel();
    consumer.join().await;
}

async fn competing_consumers_share_a_durable_queue(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let (first, second) = (Recorder::new(), Recorder::new());
    let a = bus.bus().consume(ConsumerSpec::durable(work()), first.clone(), shutdown.clone()).await.unwrap();
    let b = bus.bus().consume(ConsumerSpec::durable(work()), second.clone(), shutdown.clone()).await.unwrap();
    let messages: Vec<_> = (0..20).map(ping).collect();
    bus.bus().publish(&messages).await.unwrap();
    eventually(WAIT, "all handled", || async { first.calls() + second.calls() >= 20 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ids = first.ids().await;
    ids.extend(second.ids().await);
    assert_eq!(ids.len(), 20);
    assert_eq!(ids.into_iter().collect::<HashSet<_>>().len(), 20);
    shutdown.cancel();
    a.join().await;
    b.join().await;
}

async fn fan_out_consumers_each_see_every_message(bus: TestBus) {
    let shutdown = CancellationToken::new();
    let (first, second) = (Recorder::new(), Recorder::new());
    let bindings = vec!["test.ping.*".to_owned()];
    let events = bus.bus();
    let a = events.consume(ConsumerSpec::fan_out("tracking", bindings.clone()), first.clone(), shutdown.clone());
    let a = a.await.unwrap();
    let b = events.consume(ConsumerSpec::fan_out("tracking", bindings), second.clone(), shutdown.clone());
    let b = b.await.unwrap();
    let messages: Vec<_> = (0..3).map(ping).collect();
    bus.bus().publish(&messages).await.unwrap();
    let mut expected: Vec<_> = messages.iter().map(|m| m.id).collect();
    expected.sort();
    eventually(WAIT, "both replicas see all", || async {
        let (mut x, mut y) = (first.ids().await, second.ids().await);
        x.sort();
        y.sort();
        x == expected && y == expected
    })
    .await;
    shutdown.cancel();
    a.join().await;
    b.join().await;
}

async fn messages_published_before_the_consumer_starts_wait_for_it(bus: TestBus) {
    let messages: Vec<_> = (0..5).map(ping).collect();
    bus.bus().publish(&messages).await.unwrap();
    let shutdown = CancellationToken::new();
    let recorder = Recorder::new();
    let consumer = bus.bus().consume(ConsumerSpec::durable(work()), recorder.clone(), shutdown.clone()).await.unwrap();
    eventually(WAIT, "all delivered", || async { recorder.ids().await.len() == 5 }).await;
    let expected: HashSet<_> = messages.iter().map(|m| m.id).collect();
    assert_eq!(recorder.ids().await.into_iter().collect::<HashSet<_>>(), expected);
    shutdown.cancel();
    consumer.join().await;
}
