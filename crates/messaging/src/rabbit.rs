//! RabbitMQ: a durable topic exchange, durable queues, publisher confirms, retry queues with a
//! TTL per backoff tier, `<queue>.dead` dead-letter queues, and reconnection with backoff.
//!
//! Two connections (one for publishing and administration, one shared by the consumers), so
//! broker flow control on publishers never stalls acknowledgements. Each is owned by a
//! supervisor task that reconnects with exponential backoff; while it is down, `publish` fails
//! fast (the outbox keeps the rows) and consumers wait, then redeclare and resume. Messages in
//! flight when a connection drops are redelivered by the broker; the consumers' inbox makes that
//! harmless.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use futures::{FutureExt, StreamExt, future::BoxFuture};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{Notify, Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::bus::{
    Bus, BusError, ConsumerHandle, ConsumerSpec, DeadLetter, Disposition, Handler, QueueSpec, dispatch, metric_queue,
    record_consumed, record_published,
};
use crate::envelope::Envelope;

/// How long a publish waits for the broker's confirms before giving up (the outbox retries).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `consume` waits for its queue to be declared before reporting the broker down.
const CONSUME_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// A single connection attempt; a half-open TCP connection must not stall reconnection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the retry and dead-letter queues of a fan-out consumer outlive their replica.
const FAN_OUT_EXPIRY: Duration = Duration::from_secs(3600);
/// How often idle sessions and supervisors check that their connection is still up.
const HEALTH_CHECK: Duration = Duration::from_millis(500);
/// An ack on a connection that just died may never be answered; the broker redelivers anyway.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

const ATTEMPT_HEADER: &str = "x-attempt";
const TRACEPARENT_HEADER: &str = "traceparent";
const DEATH_REASON_HEADER: &str = "x-death-reason";

/// Where and how to reach RabbitMQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RabbitConfig {
    /// AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: String,
    /// The topic exchange of all events (default `shop.events`).
    pub exchange: String,
    /// Prepended to the exchange and every queue name; `""` in production, random in tests so
    /// parallel tests never share a queue.
    pub queue_prefix: String,
}

impl Default for RabbitConfig {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned(),
            exchange: "shop.events".to_owned(),
            queue_prefix: String::new(),
        }
    }
}

/// The RabbitMQ bus.
pub struct RabbitBus {
    exchange: String,
    prefix: String,
    publisher: Link,
    consumers: Link,
    /// Closes both connections when the last holder goes: the bus and each running consumer
    /// hold it, so a consumer outlives a dropped bus handle and stops only on its own token.
    connections: Arc<DropGuard>,
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus").field("exchange", &self.exchange).finish_non_exhaustive()
    }
}

impl RabbitBus {
    /// Connects and declares the exchange and every queue of `topology` with its dead-letter
    /// queue, so publishing before the consumers start never loses a message.
    pub async fn connect(config: RabbitConfig, topology: Vec<QueueSpec>) -> Result<Arc<Self>, BusError> {
        let exchange = format!("{}{}", config.queue_prefix, config.exchange);
        let topology =
            Arc::new(Topology { exchange: exchange.clone(), prefix: config.queue_prefix.clone(), queues: topology });
        let shutdown = CancellationToken::new();
        let setup: Setup = {
            let topology = topology.clone();
            Arc::new(move |channel: Channel| {
                let topology = topology.clone();
                async move { topology.declare(&channel).await }.boxed()
            })
        };
        let publisher = Link::start("shop-messaging publisher", &config.url, setup.clone(), shutdown.clone()).await?;
        let consumers = Link::start("shop-messaging consumers", &config.url, setup, shutdown.clone()).await?;
        Ok(Arc::new(Self {
            exchange,
            prefix: config.queue_prefix,
            publisher,
            consumers,
            connections: Arc::new(shutdown.drop_guard()),
        }))
    }

    /// Ok when the publishing connection is up.
    pub async fn ping(&self) -> Result<(), BusError> {
        self.publisher.current().map(|_| ())
    }

    /// Publishes raw bytes with `routing_key` to the exchange; for tests and tools that need a
    /// message that is not an envelope.
    pub async fn publish_raw(&self, routing_key: &str, body: &[u8]) -> Result<(), BusError> {
        let live = self.publisher.current()?;
        let confirm = live
            .channel
            .basic_publish(
                short(&self.exchange)?,
                short(routing_key)?,
                BasicPublishOptions::default(),
                body,
                properties(None, 1, None),
            )
            .await
            .map_err(|e| self.publisher.failed(&live, e))?;
        self.confirmed(&live, vec![confirm]).await
    }

    fn queue_name(&self, queue: &str) -> String {
        format!("{}{queue}", self.prefix)
    }

    async fn confirmed(&self, live: &Live, confirms: Vec<lapin::PublisherConfirm>) -> Result<(), BusError> {
        let all = futures::future::join_all(confirms);
        let results = tokio::time::timeout(CONFIRM_TIMEOUT, all)
            .await
            .map_err(|_| BusError::Publish("the broker did not confirm in time".to_owned()))?;
        for result in results {
            match result.map_err(|e| self.publisher.failed(live, e))? {
                Confirmation::Ack(_) => {}
                Confirmation::Nack(_) => {
                    return Err(BusError::Publish("the broker rejected a message".to_owned()));
                }
                Confirmation::NotRequested => {
                    return Err(BusError::Publish("publisher confirms are off".to_owned()));
                }
            }
        }
        Ok(())
    }

    /// A short-lived channel for administration, so its errors (e.g. an unknown queue) close
    /// only itself.
    async fn admin_channel(&self) -> Result<(Arc<Live>, Channel), BusError> {
        let live = self.publisher.current()?;
        let channel = live.connection.create_channel().await.map_err(|e| self.publisher.failed(&live, e))?;
        Ok((live, channel))
    }
}

#[async_trait]
impl Bus for RabbitBus {
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let live = self.publisher.current()?;
        let exchange = short(&self.exchange)?;
        // Publish the whole batch, then wait for all confirms: one round trip instead of one per message.
        let mut confirms = Vec::with_capacity(messages.len());
        for message in messages {
            let body = message.to_json().map_err(|e| BusError::Decode(e.to_string()))?;
            let confirm = live
                .channel
                .basic_publish(
                    exchange.clone(),
                    short(&message.kind)?,
                    BasicPublishOptions::default(),
                    &body,
                    properties(Some(message), 1, None),
                )
                .await
                .map_err(|e| self.publisher.failed(&live, e))?;
            confirms.push(confirm);
        }
        self.confirmed(&live, confirms).await?;
        record_published(messages);
        Ok(())
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, BusError> {
        let consumer = Arc::new(Consumer {
            exchange: self.exchange.clone(),
            queue: self.queue_name(&spec.queue.name),
            label: metric_queue(&spec),
            spec,
            handler,
        });
        let (ready_tx, ready_rx) = oneshot::channel();
        let stop = shutdown.child_token();
        let connections = self.connections.clone();
        let supervised = supervise(self.consumers.clone(), consumer, stop.clone(), ready_tx);
        let task = tokio::spawn(async move {
            supervised.await;
            drop(connections);
        });
        match tokio::time::timeout(CONSUME_READY_TIMEOUT, ready_rx).await {
            Ok(Ok(Ok(()))) => Ok(ConsumerHandle::new(task)),
            Ok(Ok(Err(error))) => Err(error),
            Ok(Err(_)) => Err(BusError::Connection("the consumer stopped before its queue was declared".to_owned())),
            Err(_) => {
                stop.cancel();
                Err(BusError::Connection("timed out declaring the consumer's queue".to_owned()))
            }
        }
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let (live, channel) = self.admin_channel().await?;
        let dead = short(&dead_queue(&self.queue_name(queue)))?;
        let mut letters = Vec::new();
        let mut last_tag = None;
        while letters.len() < limit {
            let got = channel
                .basic_get(dead.clone(), BasicGetOptions { no_ack: false })
                .await
                .map_err(|e| admin_error(&self.publisher, &live, e))?;
            let Some(message) = got else { break };
            last_tag = Some(message.delivery.delivery_tag);
            letters.push(dead_letter(&message.delivery.properties, &message.delivery.data));
        }
        // Requeue all of them: the broker puts them back where they were.
        if let Some(tag) = last_tag {
            channel
                .basic_nack(tag, BasicNackOptions { multiple: true, requeue: true })
                .await
                .map_err(|e| admin_error(&self.publisher, &live, e))?;
        }
        close_quietly(&channel).await;
        Ok(letters)
    }

    async fn replay_dead_letters(&self, queue: &str, limit: usize) -> Result<usize, BusError> {
        let (live, channel) = self.admin_channel().await?;
        let err = |e| admin_error(&self.publisher, &live, e);
        let target = short(&self.queue_name(queue))?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(err)?;
        let dead = short(&dead_queue(target.as_str()))?;
        let mut replayed = 0;
        while replayed < limit {
            let Some(message) =
                channel.basic_get(dead.clone(), BasicGetOptions { no_ack: false }).await.map_err(err)?
            else {
                break;
            };
            let delivery = message.delivery;
            let envelope = Envelope::from_json(&delivery.data).ok();
            // Mandatory: the default exchange silently drops messages for a queue that does not
            // exist; this way the broker returns them instead.
            let confirm = channel
                .basic_publish(
                    "".into(),
                    target.clone(),
                    BasicPublishOptions { mandatory: true, ..Default::default() },
                    &delivery.data,
                    properties(envelope.as_ref(), 1, None),
                )
                .await
                .map_err(err)?
                .await
                .map_err(err)?;
            let failure = match confirm {
                Confirmation::Ack(None) => None,
                Confirmation::Ack(Some(_)) => Some(BusError::Topology(format!("no queue {target}"))),
                Confirmation::Nack(_) | Confirmation::NotRequested => {
                    Some(BusError::Publish("the broker rejected a replayed message".to_owned()))
                }
            };
            if let Some(failure) = failure {
                // Closing the channel puts the unacknowledged letter back.
                close_quietly(&channel).await;
                return Err(failure);
            }
            channel.basic_ack(delivery.delivery_tag, BasicAckOptions::default()).await.map_err(err)?;
            replayed += 1;
        }
        close_quietly(&channel).await;
        Ok(replayed)
    }
}

fn admin_error(link: &Link, live: &Live, error: lapin::Error) -> BusError {
    match link.failed(live, error) {
        BusError::Publish(message) => BusError::Topology(message),
        other => other,
    }
}

/// The exchange and the durable queues every service declares on each (re)connection.
struct Topology {
    exchange: String,
    prefix: String,
    queues: Vec<QueueSpec>,
}

impl Topology {
    async fn declare(&self, channel: &Channel) -> Result<(), BusError> {
        declare_exchange(channel, &self.exchange).await?;
        for spec in &self.queues {
            let name = format!("{}{}", self.prefix, spec.name);
            declare_queue(channel, &name, QueueKind::Durable, FieldTable::default()).await?;
            for binding in &spec.bindings {
                bind(channel, &name, &self.exchange, binding).await?;
            }
            declare_queue(channel, &dead_queue(&name), QueueKind::Durable, FieldTable::default()).await?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QueueKind {
    Durable,
    /// Deleted with its connection or last consumer.
    Exclusive,
}

async fn declare_exchange(channel: &Channel, exchange: &str) -> Result<(), BusError> {
    channel
        .exchange_declare(
            short(exchange)?,
            ExchangeKind::Topic,
            ExchangeDeclareOptions { durable: true, ..Default::default() },
            FieldTable::default(),
        )
        .await
        .map_err(|e| BusError::Topology(format!("declare exchange {exchange}: {e}")))
}

async fn declare_queue(channel: &Channel, name: &str, kind: QueueKind, arguments: FieldTable) -> Result<(), BusError> {
    let options = match kind {
        QueueKind::Durable => QueueDeclareOptions { durable: true, ..Default::default() },
        QueueKind::Exclusive => QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() },
    };
    channel
        .queue_declare(short(name)?, options, arguments)
        .await
        .map(|_| ())
        .map_err(|e| BusError::Topology(format!("declare queue {name}: {e}")))
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError> {
    channel
        .queue_bind(
            short(queue)?,
            short(exchange)?,
            short(pattern)?,
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| BusError::Topology(format!("bind {queue} to {pattern}: {e}")))
}

fn dead_queue(queue: &str) -> String {
    format!("{queue}.dead")
}

fn retry_queue(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", delay.as_millis())
}

fn short(value: &str) -> Result<ShortString, BusError> {
    ShortString::try_new(value).map_err(|e| BusError::Topology(format!("name too long: {e}")))
}

fn millis(duration: Duration) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

/// Properties of every message we publish: persistent, JSON, identified, with trace context and
/// the delivery attempt in headers.
fn properties(envelope: Option<&Envelope>, attempt: u32, death_reason: Option<&str>) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(i32::try_from(attempt).unwrap_or(i32::MAX)));
    if let Some(traceparent) = envelope.and_then(|e| e.traceparent.as_deref()) {
        headers.insert(TRACEPARENT_HEADER.into(), AMQPValue::LongString(traceparent.into()));
    }
    if let Some(reason) = death_reason {
        headers.insert(DEATH_REASON_HEADER.into(), AMQPValue::LongString(reason.into()));
    }
    let mut properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    if let Some(envelope) = envelope {
        properties = properties
            .with_message_id(envelope.id.to_string().into())
            .with_timestamp(u64::try_from(envelope.occurred_at.timestamp()).unwrap_or_default());
        if let Ok(kind) = ShortString::try_new(envelope.kind.as_str()) {
            properties = properties.with_type(kind);
        }
    }
    properties
}

fn header<'a>(properties: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    properties.headers().as_ref()?.inner().get(name)
}

fn header_u32(properties: &BasicProperties, name: &str) -> Option<u32> {
    match header(properties, name)? {
        AMQPValue::ShortShortInt(v) => u32::try_from(*v).ok(),
        AMQPValue::ShortShortUInt(v) => Some(u32::from(*v)),
        AMQPValue::ShortInt(v) => u32::try_from(*v).ok(),
        AMQPValue::ShortUInt(v) => Some(u32::from(*v)),
        AMQPValue::LongInt(v) => u32::try_from(*v).ok(),
        AMQPValue::LongUInt(v) => Some(*v),
        AMQPValue::LongLongInt(v) => u32::try_from(*v).ok(),
        _ => None,
    }
}

fn header_string(properties: &BasicProperties, name: &str) -> Option<String> {
    match header(properties, name)? {
        AMQPValue::LongString(v) => Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        AMQPValue::ShortString(v) => Some(v.as_str().to_owned()),
        _ => None,
    }
}

fn dead_letter(properties: &BasicProperties, body: &[u8]) -> DeadLetter {
    DeadLetter {
        envelope: Envelope::from_json(body).ok(),
        body: String::from_utf8_lossy(body).into_owned(),
        attempts: header_u32(properties, ATTEMPT_HEADER).unwrap_or(1),
        reason: header_string(properties, DEATH_REASON_HEADER).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

type Setup = Arc<dyn Fn(Channel) -> BoxFuture<'static, Result<(), BusError>> + Send + Sync>;

/// An open connection and its confirm-mode channel.
struct Live {
    connection: Connection,
    channel: Channel,
}

impl Live {
    fn healthy(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

/// A connection kept up by a supervisor task. Cheap to clone.
#[derive(Clone)]
struct Link {
    state: watch::Receiver<Option<Arc<Live>>>,
    suspect: Arc<Notify>,
}

impl Link {
    /// Connects once (an unreachable broker at startup is an error), then hands the connection
    /// to a supervisor that reconnects whenever it drops.
    async fn start(name: &str, url: &str, setup: Setup, shutdown: CancellationToken) -> Result<Self, BusError> {
        let first = open(name, url, &setup).await?;
        let (state_tx, state) = watch::channel(Some(Arc::new(first)));
        let suspect = Arc::new(Notify::new());
        tokio::spawn(keep_up(name.to_owned(), url.to_owned(), setup, state_tx, suspect.clone(), shutdown));
        Ok(Self { state, suspect })
    }

    /// The connection if it is up; fails fast otherwise.
    fn current(&self) -> Result<Arc<Live>, BusError> {
        match self.state.borrow().as_ref() {
            Some(live) if live.healthy() => Ok(live.clone()),
            _ => Err(BusError::Connection("not connected to the message broker".to_owned())),
        }
    }

    /// Waits until the connection is up; `None` once the bus is shut down.
    async fn wait(&self) -> Option<Arc<Live>> {
        let mut state = self.state.clone();
        loop {
            if let Some(live) = state.borrow_and_update().as_ref().filter(|live| live.healthy()) {
                return Some(live.clone());
            }
            state.changed().await.ok()?;
        }
    }

    /// Classifies an error of an operation on `live` and, if the connection looks broken, asks
    /// the supervisor to check it now rather than at its next poll.
    fn failed(&self, live: &Live, error: lapin::Error) -> BusError {
        if live.healthy() {
            BusError::Publish(error.to_string())
        } else {
            self.suspect.notify_one();
            BusError::Connection(error.to_string())
        }
    }
}

async fn open(name: &str, url: &str, setup: &Setup) -> Result<Live, BusError> {
    let attempt = async {
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let connection = Connection::connect(url, properties).await.map_err(|e| BusError::Connection(e.to_string()))?;
        let channel = connection.create_channel().await.map_err(|e| BusError::Connection(e.to_string()))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        setup(channel.clone()).await?;
        Ok(Live { connection, channel })
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| BusError::Connection("timed out connecting to the message broker".to_owned()))?
}

fn reconnect_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
}

/// The supervisor of one connection: watches it and replaces it when it drops.
async fn keep_up(
    name: String,
    url: String,
    setup: Setup,
    state: watch::Sender<Option<Arc<Live>>>,
    suspect: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        let Some(live) = state.borrow().clone() else {
            return;
        };
        let mut events = live.connection.events_listener();
        let mut poll = tokio::time::interval(HEALTH_CHECK);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = tokio::time::timeout(ACK_TIMEOUT, live.connection.close(200, "shutdown".into())).await;
                    return;
                }
                () = suspect.notified() => {}
                Some(event) = events.next() => if let lapin::Event::Error(error) = event {
                    tracing::warn!(connection = %name, %error, "message broker connection error");
                },
                _ = poll.tick() => {}
            }
            if !live.healthy() {
                break;
            }
        }
        state.send_replace(None);
        let _ = tokio::time::timeout(ACK_TIMEOUT, live.connection.close(200, "reconnecting".into())).await;
        tracing::warn!(connection = %name, "lost the message broker connection, reconnecting");
        let reconnect = (|| open(&name, &url, &setup))
            .retry(reconnect_backoff())
            .notify(|error, delay| tracing::warn!(connection = %name, %error, ?delay, "reconnect failed"));
        tokio::select! {
            () = shutdown.cancelled() => return,
            result = reconnect => match result {
                Ok(live) => {
                    tracing::info!(connection = %name, "reconnected to the message broker");
                    state.send_replace(Some(Arc::new(live)));
                }
                // Unreachable with unlimited retries; stop rather than spin.
                Err(error) => {
                    tracing::error!(connection = %name, %error, "giving up reconnecting");
                    return;
                }
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Consumers

struct Consumer {
    exchange: String,
    /// The full (prefixed) queue name.
    queue: String,
    label: String,
    spec: ConsumerSpec,
    handler: Arc<dyn Handler>,
}

/// Keeps one consumer running across connection losses: each session declares the queues,
/// consumes until the connection breaks, and the next one starts on the new connection.
async fn supervise(
    link: Link,
    consumer: Arc<Consumer>,
    shutdown: CancellationToken,
    ready: oneshot::Sender<Result<(), BusError>>,
) {
    let mut ready = Some(ready);
    let backoff = reconnect_backoff();
    let mut delays = backon::BackoffBuilder::build(backoff);
    loop {
        let live = tokio::select! {
            () = shutdown.cancelled() => return,
            live = link.wait() => match live { Some(live) => live, None => return },
        };
        match session(&link, &live, &consumer, &shutdown, &mut ready).await {
            Ok(()) => return,
            Err(SessionError::Setup(error)) if ready.is_some() && !matches!(error, BusError::Connection(_)) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                }
                return;
            }
            Err(SessionError::Setup(error) | SessionError::Lost(error)) => {
                tracing::warn!(queue = %consumer.queue, %error, "consumer interrupted, restarting");
                if !live.healthy() {
                    link.suspect.notify_one();
                }
            }
            Err(SessionError::Ran(error)) => {
                tracing::warn!(queue = %consumer.queue, %error, "consumer interrupted, restarting");
                delays = backon::BackoffBuilder::build(backoff);
                if !live.healthy() {
                    link.suspect.notify_one();
                }
            }
        }
        let delay = delays.next().unwrap_or(Duration::from_secs(5));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// What a consumer session waits for.
enum Next {
    Stop,
    Delivery(Box<lapin::message::Delivery>),
    Failed(BusError),
}

enum SessionError {
    /// Declaring or starting failed.
    Setup(BusError),
    /// The consumer stopped before handling anything.
    Lost(BusError),
    /// The consumer stopped after handling messages (backoff starts over).
    Ran(BusError),
}

async fn session(
    link: &Link,
    live: &Live,
    consumer: &Arc<Consumer>,
    shutdown: &CancellationToken,
    ready: &mut Option<oneshot::Sender<Result<(), BusError>>>,
) -> Result<(), SessionError> {
    let setup = |e: lapin::Error| SessionError::Setup(link.failed(live, e));
    let channel = live.connection.create_channel().await.map_err(setup)?;
    channel.basic_qos(consumer.spec.prefetch, BasicQosOptions::default()).await.map_err(setup)?;
    // Retries and dead letters are published on a channel of their own, in confirm mode: the
    // original is acked only after the broker holds the copy.
    let publisher = live.connection.create_channel().await.map_err(setup)?;
    publisher.confirm_select(ConfirmSelectOptions::default()).await.map_err(setup)?;
    declare_consumer_queues(&channel, consumer).await.map_err(SessionError::Setup)?;
    let mut deliveries = channel
        .basic_consume(
            short(&consumer.queue).map_err(SessionError::Setup)?,
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(setup)?;
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    tracing::info!(queue = %consumer.queue, "consuming");

    let slots = Arc::new(Semaphore::new(consumer.spec.concurrency.max(1)));
    let mut in_flight = JoinSet::new();
    let mut handled = false;
    let mut health = tokio::time::interval(HEALTH_CHECK);
    let lost = CancellationToken::new();
    let outcome = loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break Ok(()),
            },
        };
        let next = loop {
            tokio::select! {
                () = shutdown.cancelled() => break Next::Stop,
                next = deliveries.next() => break match next {
                    Some(Ok(delivery)) => Next::Delivery(Box::new(delivery)),
                    Some(Err(error)) => Next::Failed(link.failed(live, error)),
                    None => Next::Failed(BusError::Connection("the broker cancelled the consumer".to_owned())),
                },
                // Do not rely on the consumer stream alone to notice a dead connection.
                _ = health.tick() => if !live.healthy() {
                    break Next::Failed(BusError::Connection("lost the connection".to_owned()));
                },
            }
        };
        let delivery = match next {
            Next::Stop => break Ok(()),
            Next::Failed(error) => break Err(error),
            Next::Delivery(delivery) => *delivery,
        };
        handled = true;
        let (consumer, publisher, lost) = (consumer.clone(), publisher.clone(), lost.clone());
        in_flight.spawn(async move {
            handle_delivery(&consumer, &publisher, delivery, &lost).await;
            drop(permit);
        });
        while in_flight.try_join_next().is_some() {}
    };
    // Let running handlers finish; deliveries not started go back to the queue when the channel
    // closes. On a lost connection their acks cannot arrive (the broker redelivers instead), so
    // they must not wait for answers that never come.
    if outcome.is_err() {
        lost.cancel();
    }
    while in_flight.join_next().await.is_some() {}
    close_quietly(&channel).await;
    close_quietly(&publisher).await;
    outcome.map_err(|error| if handled { SessionError::Ran(error) } else { SessionError::Lost(error) })
}

/// Closes a channel, best effort: on a dead connection there is nobody to answer.
async fn close_quietly(channel: &Channel) {
    let _ = tokio::time::timeout(ACK_TIMEOUT, channel.close(200, "OK".into())).await;
}

async fn declare_consumer_queues(channel: &Channel, consumer: &Consumer) -> Result<(), BusError> {
    let spec = &consumer.spec;
    let queue = consumer.queue.as_str();
    declare_exchange(channel, &consumer.exchange).await?;
    let (kind, side_arguments) = if spec.durable {
        (QueueKind::Durable, FieldTable::default())
    } else {
        // The retry and dead-letter queues of a replica's queue must not pile up after it is gone.
        let mut arguments = FieldTable::default();
        arguments.insert("x-expires".into(), millis(FAN_OUT_EXPIRY));
        (QueueKind::Exclusive, arguments)
    };
    declare_queue(channel, queue, kind, FieldTable::default()).await?;
    for binding in &spec.queue.bindings {
        bind(channel, queue, &consumer.exchange, binding).await?;
    }
    declare_queue(channel, &dead_queue(queue), QueueKind::Durable, side_arguments.clone()).await?;
    for delay in spec.retry.tiers() {
        // Messages wait out their TTL here, then the broker dead-letters them back to the queue
        // through the default exchange.
        let mut arguments = side_arguments.clone();
        arguments.insert("x-message-ttl".into(), millis(delay));
        arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(LongString::from("")));
        arguments.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(queue.into()));
        declare_queue(channel, &retry_queue(queue, delay), QueueKind::Durable, arguments).await?;
    }
    Ok(())
}

/// Runs `operation` on the broker unless the session's connection is lost meanwhile (or it
/// takes longer than an ack should): an unanswered ack or publish is redelivered anyway.
async fn unless_lost<F: Future>(lost: &CancellationToken, operation: F) -> Option<F::Output> {
    tokio::select! {
        () = lost.cancelled() => None,
        result = tokio::time::timeout(ACK_TIMEOUT, operation) => result.ok(),
    }
}

async fn handle_delivery(
    consumer: &Consumer,
    publisher: &Channel,
    delivery: lapin::message::Delivery,
    lost: &CancellationToken,
) {
    let attempt = header_u32(&delivery.properties, ATTEMPT_HEADER).unwrap_or(1).max(1);
    let (envelope, disposition) =
        dispatch(consumer.handler.as_ref(), &consumer.label, &delivery.data, attempt, &consumer.spec.retry).await;
    let moved = match &disposition {
        Disposition::Done => Ok(()),
        Disposition::Retry { delay, next_attempt } => {
            let target = retry_queue(&consumer.queue, *delay);
            let copy = forward(publisher, &target, &delivery.data, properties(envelope.as_ref(), *next_attempt, None));
            unless_lost(lost, copy).await.unwrap_or_else(|| Err(BusError::Connection("connection lost".to_owned())))
        }
        Disposition::Dead { reason } => {
            let target = dead_queue(&consumer.queue);
            let copy =
                forward(publisher, &target, &delivery.data, properties(envelope.as_ref(), attempt, Some(reason)));
            unless_lost(lost, copy).await.unwrap_or_else(|| Err(BusError::Connection("connection lost".to_owned())))
        }
    };
    match moved {
        Ok(()) => {
            record_consumed(&consumer.label, &disposition);
            match unless_lost(lost, delivery.acker.ack(BasicAckOptions::default())).await {
                Some(Ok(_)) => {}
                // The broker redelivers it; the inbox makes the second run a no-op.
                Some(Err(error)) => {
                    tracing::warn!(queue = %consumer.queue, %error, "could not ack a handled message")
                }
                None => tracing::warn!(queue = %consumer.queue, "connection lost before the ack"),
            }
        }
        Err(error) => {
            tracing::warn!(queue = %consumer.queue, %error, "could not move a failed message, requeueing it");
            let _ = unless_lost(lost, delivery.acker.nack(BasicNackOptions { multiple: false, requeue: true })).await;
        }
    }
}

/// Publishes a copy straight to `queue` (default exchange) and waits for the broker's confirm.
async fn forward(channel: &Channel, queue: &str, body: &[u8], properties: BasicProperties) -> Result<(), BusError> {
    let confirm = channel
        .basic_publish("".into(), short(queue)?, BasicPublishOptions::default(), body, properties)
        .await
        .map_err(|e| BusError::Publish(e.to_string()))?;
    let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
        .await
        .map_err(|_| BusError::Publish("the broker did not confirm in time".to_owned()))?
        .map_err(|e| BusError::Publish(e.to_string()))?;
    if confirmation.is_ack() { Ok(()) } else { Err(BusError::Publish("the broker rejected the message".to_owned())) }
}
