//! Databases, buses and handlers shared by the tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use serde::{Deserialize, Serialize};
use shop_kernel::db;
use shop_messaging::memory::InMemoryBus;
use shop_messaging::migration::{CreateInbox, CreateOutbox};
use shop_messaging::rabbit::{RabbitBus, RabbitConfig};
use shop_messaging::{Bus, BusError, Envelope, Event, Handler, HandlerError, QueueSpec, RetryPolicy, inbox};
use tokio::sync::Mutex;
use uuid::Uuid;

/// The payload of test messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ping {
    pub seq: u64,
}

impl Event for Ping {
    const TYPE: &'static str = "test.ping.v1";
}

pub fn ping(seq: u64) -> Envelope {
    Envelope::new(&Ping { seq }, format!("order-{seq}")).unwrap()
}

pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A prefix no other test uses, e.g. `t3f2a….`.
pub fn prefix() -> String {
    format!("{}.", shop_testkit::unique_name("t"))
}

pub fn rabbit_config(url: String, prefix: &str) -> RabbitConfig {
    RabbitConfig { url, exchange: "shop.events".into(), queue_prefix: prefix.to_owned() }
}

pub async fn rabbit(prefix: &str, topology: Vec<QueueSpec>) -> Arc<RabbitBus> {
    RabbitBus::connect(rabbit_config(amqp_url(), prefix), topology).await.expect("connect to RabbitMQ")
}

/// Retries that are quick enough for tests.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy { max_attempts, initial_backoff: Duration::from_millis(30), max_backoff: Duration::from_millis(80) }
}

/// A bus under test and a way to publish bytes that are not an envelope.
#[derive(Clone)]
pub enum TestBus {
    Rabbit(Arc<RabbitBus>),
    Memory(Arc<InMemoryBus>),
}

impl TestBus {
    pub fn bus(&self) -> Arc<dyn Bus> {
        match self {
            Self::Rabbit(bus) => bus.clone(),
            Self::Memory(bus) => bus.clone(),
        }
    }

    pub async fn publish_raw(&self, routing_key: &str, body: &[u8]) {
        match self {
            Self::Rabbit(bus) => bus.publish_raw(routing_key, body).await.unwrap(),
            Self::Memory(bus) => bus.publish_raw(routing_key, body),
        }
    }
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Records every message; fails with `Transient` while `failing` is set, panics while
/// `panicking` is set.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Envelope>>,
    pub calls: AtomicUsize,
    pub failing: AtomicBool,
    pub panicking: AtomicBool,
    pub permanent: AtomicBool,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub delay: Option<Duration>,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn failing() -> Arc<Self> {
        let recorder = Self::default();
        recorder.failing.store(true, Ordering::SeqCst);
        Arc::new(recorder)
    }

    pub fn panicking() -> Arc<Self> {
        let recorder = Self::default();
        recorder.panicking.store(true, Ordering::SeqCst);
        Arc::new(recorder)
    }

    pub fn slow(delay: Duration) -> Arc<Self> {
        Arc::new(Self { delay: Some(delay), ..Self::default() })
    }

    pub async fn ids(&self) -> Vec<Uuid> {
        self.seen.lock().await.iter().map(|e| e.id).collect()
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.permanent.load(Ordering::SeqCst) {
            return Err(HandlerError::Permanent("cannot ever work".into()));
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(HandlerError::Transient("not now".into()));
        }
        assert!(!self.panicking.load(Ordering::SeqCst), "not now, nor ever");
        self.seen.lock().await.push(message.clone());
        Ok(())
    }
}

/// A database with the outbox, the inbox and a `test_effects` table of handled message ids.
pub struct TestDb {
    pub url: String,
    pub db: DatabaseConnection,
    _dir: Option<shop_testkit::TempDir>,
}

impl TestDb {
    pub async fn postgres() -> Self {
        let url = shop_testkit::fresh_postgres_database().await;
        Self::open(url, None).await
    }

    pub async fn sqlite() -> Self {
        let (url, dir) = shop_testkit::fresh_sqlite_database();
        Self::open(url, Some(dir)).await
    }

    async fn open(url: String, dir: Option<shop_testkit::TempDir>) -> Self {
        let db = db::connect(&url, 8).await.unwrap();
        let manager = SchemaManager::new(&db);
        CreateOutbox.up(&manager).await.unwrap();
        CreateInbox.up(&manager).await.unwrap();
        db.execute_unprepared("CREATE TABLE test_effects (message_id VARCHAR(36) NOT NULL)").await.unwrap();
        Self { url, db, _dir: dir }
    }

    /// A second pool on the same database, as another replica would have.
    pub async fn another_pool(&self) -> DatabaseConnection {
        db::connect(&self.url, 8).await.unwrap()
    }

    /// (rows, distinct message ids) of `test_effects`.
    pub async fn effects(&self) -> (i64, i64) {
        let query = Query::select()
            .expr_as(Func::count(Expr::col(Alias::new("message_id"))), Alias::new("total"))
            .expr_as(Func::count_distinct(Expr::col(Alias::new("message_id"))), Alias::new("distinct_ids"))
            .from(Alias::new("test_effects"))
            .to_owned();
        let row = self.db.query_one(&query).await.unwrap().unwrap();
        (row.try_get("", "total").unwrap(), row.try_get("", "distinct_ids").unwrap())
    }
}

/// The pattern every service follows: claim in the inbox, apply the effect, commit together.
pub struct InboxHandler {
    pub db: DatabaseConnection,
    pub calls: AtomicUsize,
    pub delay: Option<Duration>,
}

impl InboxHandler {
    pub fn new(db: DatabaseConnection) -> Arc<Self> {
        Arc::new(Self { db, calls: AtomicUsize::new(0), delay: None })
    }

    pub fn slow(db: DatabaseConnection, delay: Duration) -> Arc<Self> {
        Arc::new(Self { db, calls: AtomicUsize::new(0), delay: Some(delay) })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Handler for InboxHandler {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let transient = |e: sea_orm::DbErr| HandlerError::Transient(e.to_string());
        self.calls.fetch_add(1, Ordering::SeqCst);
        let tx = db::begin_write(&self.db).await.map_err(transient)?;
        if !inbox::claim(&tx, "test", message.id).await.map_err(transient)? {
            tx.commit().await.map_err(transient)?;
            return Ok(());
        }
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let insert = Query::insert()
            .into_table(Alias::new("test_effects"))
            .columns([Alias::new("message_id")])
            .values_panic([message.id.to_string().into()])
            .to_owned();
        tx.execute(&insert).await.map_err(transient)?;
        tx.commit().await.map_err(transient)?;
        Ok(())
    }
}

/// A bus that records what it was asked to publish, for relay tests that need exact counts.
#[derive(Default)]
pub struct RecordingBus {
    pub published: Mutex<Vec<Envelope>>,
    pub delay: Option<Duration>,
    pub down: AtomicBool,
}

#[async_trait]
impl Bus for RecordingBus {
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BusError::Connection("down".into()));
        }
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.published.lock().await.extend_from_slice(messages);
        Ok(())
    }

    async fn consume(
        &self,
        _: shop_messaging::ConsumerSpec,
        _: Arc<dyn Handler>,
        _: tokio_util::sync::CancellationToken,
    ) -> Result<shop_messaging::ConsumerHandle, BusError> {
        Err(BusError::Topology("a recording bus does not consume".into()))
    }

    async fn dead_letters(&self, _: &str, _: usize) -> Result<Vec<shop_messaging::DeadLetter>, BusError> {
        Ok(Vec::new())
    }

    async fn replay_dead_letters(&self, _: &str, _: usize) -> Result<usize, BusError> {
        Ok(0)
    }
}

/// Logs of the code under test when `RUST_LOG` is set (e.g. `RUST_LOG=shop_messaging=debug`).
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
