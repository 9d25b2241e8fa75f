//! The MongoDB transactional outbox and its lease-based relay, against the MongoDB-protocol test
//! server at `TEST_MONGODB_URL`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::{Client, Collection, Database};
use shop_messaging::memory::InMemoryBus;
use shop_messaging::mongo_outbox::{self, MongoOutboxRelay, OutboxDocument};
use shop_messaging::outbox::OutboxWaker;
use shop_messaging::{Bus, BusError, ConsumerHandle, ConsumerSpec, DeadLetter, Envelope, Handler, QueueSpec};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Recorder, RecordingBus, eventually, init_logs, ping};

/// A database of its own with the outbox and a `state` collection for the state changes.
struct MongoTest {
    client: Client,
    db: Database,
    outbox: Collection<OutboxDocument>,
    state: Collection<Document>,
}

impl MongoTest {
    async fn new() -> Self {
        init_logs();
        let client =
            Client::with_uri_str(shop_testkit::mongo_url()).await.expect("connect to the MongoDB-protocol test server");
        let db = client.database(&shop_testkit::unique_name("outbox"));
        let outbox = db.collection(mongo_outbox::COLLECTION);
        mongo_outbox::ensure_indexes(&outbox).await.unwrap();
        // Collections must exist before a transaction writes to them on older servers.
        db.create_collection("state").await.unwrap();
        let state = db.collection("state");
        Self { client, db, outbox, state }
    }

    /// The outbox collection through a client of its own, as another replica would have.
    async fn another_replica(&self) -> Collection<OutboxDocument> {
        let client = Client::with_uri_str(shop_testkit::mongo_url()).await.unwrap();
        client.database(self.db.name()).collection(mongo_outbox::COLLECTION)
    }

    /// Changes state and enqueues `messages` in one transaction, then commits or aborts it.
    async fn write(&self, messages: &[Envelope], commit: bool) {
        let mut session = self.client.start_session().await.unwrap();
        session.start_transaction().await.unwrap();
        let ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
        self.state.insert_one(doc! { "messages": ids }).session(&mut session).await.unwrap();
        mongo_outbox::enqueue(&self.outbox, &mut session, messages).await.unwrap();
        if commit {
            session.commit_transaction().await.unwrap();
        } else {
            session.abort_transaction().await.unwrap();
        }
    }

    async fn pending(&self) -> u64 {
        mongo_outbox::pending_count(&self.outbox).await.unwrap()
    }

    async fn documents(&self) -> Vec<OutboxDocument> {
        self.outbox.find(doc! {}).sort(doc! { "_id": 1 }).await.unwrap().try_collect().await.unwrap()
    }

    async fn drop(self) {
        self.db.drop().await.ok();
    }
}

/// A bus whose first publish fails (the broker was down), and every later one goes through.
struct FailsOnce {
    inner: Arc<dyn Bus>,
    failed: AtomicBool,
}

impl FailsOnce {
    fn new(inner: Arc<dyn Bus>) -> Arc<Self> {
        Arc::new(Self { inner, failed: AtomicBool::new(false) })
    }
}

#[async_trait]
impl Bus for FailsOnce {
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(BusError::Connection("broker down".into()));
        }
        self.inner.publish(messages).await
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, BusError> {
        self.inner.consume(spec, handler, shutdown).await
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.inner.dead_letters(queue, limit).await
    }

    async fn replay_dead_letters(&self, queue: &str, limit: usize) -> Result<usize, BusError> {
        self.inner.replay_dead_letters(queue, limit).await
    }
}

fn ping_queue() -> QueueSpec {
    QueueSpec::new("mongo.outbox", ["test.ping.*"])
}

/// An in-memory bus with a counting consumer on the ping queue.
async fn memory_bus_with_consumer(shutdown: &CancellationToken) -> (Arc<InMemoryBus>, Arc<Recorder>, ConsumerHandle) {
    let bus = InMemoryBus::new(vec![ping_queue()]);
    let recorder = Recorder::new();
    let consumer = bus.consume(ConsumerSpec::durable(ping_queue()), recorder.clone(), shutdown.clone()).await.unwrap();
    (bus, recorder, consumer)
}

#[tokio::test]
async fn mongo_aborted_enqueue_leaves_nothing() {
    let test = MongoTest::new().await;
    test.write(&[ping(1), ping(2)], false).await;
    assert_eq!(test.pending().await, 0);
    assert!(test.documents().await.is_empty());
    assert_eq!(test.state.count_documents(doc! {}).await.unwrap(), 0);

    let bus = Arc::new(RecordingBus::default());
    let relay = MongoOutboxRelay::new(test.outbox.clone(), bus.clone(), OutboxWaker::new());
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert!(bus.published.lock().await.is_empty());
    test.drop().await;
}

#[tokio::test]
async fn mongo_committed_messages_are_relayed_exactly_once() {
    let test = MongoTest::new().await;
    let messages = [ping(1), ping(2), ping(3)];
    test.write(&messages, true).await;
    assert_eq!(test.state.count_documents(doc! {}).await.unwrap(), 1);
    assert_eq!(test.pending().await, 3);

    let shutdown = CancellationToken::new();
    let (bus, recorder, consumer) = memory_bus_with_consumer(&shutdown).await;
    let relay = MongoOutboxRelay::new(test.outbox.clone(), bus, OutboxWaker::new());
    assert_eq!(relay.relay_once().await.unwrap(), 3);
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert_eq!(test.pending().await, 0);
    eventually(Duration::from_secs(10), "3 messages handled", || async { recorder.calls() >= 3 }).await;
    // Give a duplicate the chance to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recorder.calls(), 3);
    // Byte-identical envelopes, oldest first.
    assert_eq!(*recorder.seen.lock().await, messages);

    let documents = test.documents().await;
    assert_eq!(documents.len(), 3);
    for (document, message) in documents.iter().zip(&messages) {
        assert_eq!(document.id, message.id.to_string());
        assert_eq!(document.kind, message.kind);
        assert_eq!(document.correlation_id, message.correlation_id);
        assert_eq!(Envelope::from_json(document.body.as_bytes()).unwrap(), *message);
        assert!(document.sent_at.is_some());
        assert!(document.lease_until.is_none());
    }

    // Sent documents can be purged; pending ones never are.
    test.write(&[ping(4)], true).await;
    let purged =
        mongo_outbox::purge_sent(&test.outbox, chrono::Utc::now() + chrono::Duration::seconds(1)).await.unwrap();
    assert_eq!(purged, 3);
    assert_eq!(test.pending().await, 1);
    assert_eq!(test.documents().await.len(), 1);

    shutdown.cancel();
    consumer.join().await;
    test.drop().await;
}

/// The process dies between the commit and the publish: the documents wait in the outbox, and a
/// relay started later delivers each of them once.
#[tokio::test]
async fn mongo_a_relay_started_after_the_commit_delivers_once() {
    let test = MongoTest::new().await;
    let messages: Vec<_> = (0..25).map(ping).collect();
    for chunk in messages.chunks(5) {
        test.write(chunk, true).await;
    }
    assert_eq!(test.pending().await, 25);

    let shutdown = CancellationToken::new();
    let (bus, recorder, consumer) = memory_bus_with_consumer(&shutdown).await;
    let waker = OutboxWaker::new();
    let relay = tokio::spawn(MongoOutboxRelay::new(test.outbox.clone(), bus, waker.clone()).run(shutdown.clone()));
    waker.wake();
    eventually(Duration::from_secs(20), "all messages delivered", || async { recorder.calls() >= 25 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids = recorder.ids().await;
    assert_eq!(ids.len(), 25);
    assert_eq!(ids.iter().collect::<HashSet<_>>(), messages.iter().map(|m| &m.id).collect::<HashSet<_>>());
    assert_eq!(test.pending().await, 0);
    shutdown.cancel();
    relay.await.unwrap();
    consumer.join().await;
    test.drop().await;
}

/// Two relays (two replicas, two clients) on one collection publish every document exactly once.
#[tokio::test]
async fn mongo_two_relays_publish_each_row_once() {
    const N: usize = 450;
    let test = MongoTest::new().await;
    let messages: Vec<_> = (0..N as u64).map(ping).collect();
    for chunk in messages.chunks(50) {
        test.write(chunk, true).await;
    }
    // Slow publishes keep both relays inside their passes at the same time.
    let bus = Arc::new(RecordingBus { delay: Some(Duration::from_millis(50)), ..RecordingBus::default() });
    let shutdown = CancellationToken::new();
    let poll = Duration::from_millis(20);
    let first = MongoOutboxRelay::new(test.outbox.clone(), bus.clone(), OutboxWaker::new()).with_poll_interval(poll);
    let second =
        MongoOutboxRelay::new(test.another_replica().await, bus.clone(), OutboxWaker::new()).with_poll_interval(poll);
    let tasks = [tokio::spawn(first.run(shutdown.clone())), tokio::spawn(second.run(shutdown.clone()))];
    eventually(Duration::from_secs(60), "outbox drained", || async { test.pending().await == 0 }).await;
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    let published = bus.published.lock().await;
    let distinct: HashSet<_> = published.iter().map(|m| m.id).collect();
    assert_eq!(distinct.len(), N, "no message lost");
    assert_eq!(published.len(), N, "every document published exactly once");
    // Both relays took part: the passes of two relay ids marked documents.
    let owners: HashSet<String> = test
        .documents()
        .await
        .into_iter()
        .filter_map(|d| d.lease_owner?.split('-').next().map(str::to_owned))
        .collect();
    assert_eq!(owners.len(), 2, "both relays claimed documents: {owners:?}");
    drop(published);
    test.drop().await;
}

/// A publish that fails clears the claim: the documents stay pending, the next pass publishes
/// them at once, and the running relay delivers them.
#[tokio::test]
async fn mongo_a_failed_publish_is_retried() {
    let test = MongoTest::new().await;
    test.write(&[ping(1), ping(2)], true).await;
    let recording = Arc::new(RecordingBus::default());
    let relay = MongoOutboxRelay::new(test.outbox.clone(), FailsOnce::new(recording.clone()), OutboxWaker::new());
    assert!(relay.relay_once().await.is_err());
    assert_eq!(test.pending().await, 2);
    assert!(test.documents().await.iter().all(|d| d.lease_until.is_none()), "the failed pass released its claim");
    assert_eq!(relay.relay_once().await.unwrap(), 2);
    assert_eq!(recording.published.lock().await.len(), 2);
    assert_eq!(test.pending().await, 0);

    // The same through a running relay and a consumer.
    let messages: Vec<_> = (10..15).map(ping).collect();
    test.write(&messages, true).await;
    let shutdown = CancellationToken::new();
    let (bus, recorder, consumer) = memory_bus_with_consumer(&shutdown).await;
    let waker = OutboxWaker::new();
    let relay = tokio::spawn(
        MongoOutboxRelay::new(test.outbox.clone(), FailsOnce::new(bus), waker.clone()).run(shutdown.clone()),
    );
    waker.wake();
    eventually(Duration::from_secs(20), "retried messages delivered", || async { recorder.calls() >= 5 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recorder.ids().await, messages.iter().map(|m| m.id).collect::<Vec<_>>());
    assert_eq!(test.pending().await, 0);
    shutdown.cancel();
    relay.await.unwrap();
    consumer.join().await;
    test.drop().await;
}

/// A replica that died holding a claim: other relays leave the documents alone while the lease
/// lives and publish them once it lapsed.
#[tokio::test]
async fn mongo_a_dead_relays_claim_lapses() {
    let test = MongoTest::new().await;
    test.write(&[ping(1), ping(2), ping(3)], true).await;
    let lease_until = DateTime::from_millis(DateTime::now().timestamp_millis() + 700);
    test.outbox
        .update_many(
            doc! { "_id": { "$ne": null } },
            doc! { "$set": { "lease_until": lease_until, "lease_owner": "dead-replica" } },
        )
        .await
        .unwrap();

    let bus = Arc::new(RecordingBus::default());
    let relay = MongoOutboxRelay::new(test.outbox.clone(), bus.clone(), OutboxWaker::new());
    assert_eq!(relay.relay_once().await.unwrap(), 0, "the claim is still live");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(relay.relay_once().await.unwrap(), 3);
    assert_eq!(bus.published.lock().await.len(), 3);
    assert_eq!(test.pending().await, 0);
    test.drop().await;
}

/// A publish stuck longer than the lease: another relay takes the documents over (a duplicate,
/// which the inbox absorbs), the stuck relay cannot mark what it no longer owns, and nothing is
/// lost.
#[tokio::test]
async fn mongo_a_lapsed_lease_is_taken_over_without_loss() {
    let test = MongoTest::new().await;
    let messages = [ping(1), ping(2)];
    test.write(&messages, true).await;
    let stuck_bus = Arc::new(RecordingBus { delay: Some(Duration::from_millis(1500)), ..RecordingBus::default() });
    let stuck = MongoOutboxRelay::new(test.outbox.clone(), stuck_bus.clone(), OutboxWaker::new())
        .with_lease(Duration::from_millis(300));
    let stuck = tokio::spawn(async move { stuck.relay_once().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(700)).await;

    let bus = Arc::new(RecordingBus::default());
    let other = MongoOutboxRelay::new(test.another_replica().await, bus.clone(), OutboxWaker::new());
    assert_eq!(other.relay_once().await.unwrap(), 2, "the lapsed claim is taken over");
    assert_eq!(stuck.await.unwrap(), 2);
    assert_eq!(*bus.published.lock().await, messages);
    assert_eq!(*stuck_bus.published.lock().await, messages);
    assert_eq!(test.pending().await, 0);
    assert_eq!(other.relay_once().await.unwrap(), 0);
    test.drop().await;
}
