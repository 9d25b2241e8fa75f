//! RabbitMQ: a durable topic exchange, durable queues, publisher confirms, retry queues with a
//! TTL per backoff tier, `<queue>.dead` dead-letter queues, and reconnection with backoff.
//!
//! Two connections (one for publishing and administration, one shared by the consumers), so
//! broker flow control on publishers never stalls acknowledgements. Each is owned by a
//! supervisor task that reconnects with exponential backoff; while it is down, `publish` fails
//! fast (the outbox keeps the rows) and consumers wait, then redeclare and resume. Messages in
//! flight when a connection drops are redelivered by the broker; the consumers' inbox makes that
//! harmless.
//!
//! One file per concern: `topology` (exchange and queue declarations), `headers` (message
//! properties), `connection` (the supervised connections), `publish`, `consume` and
//! `dead_letters`; this module ties them into the [`Bus`].

mod connection;
mod consume;
mod dead_letters;
mod headers;
mod publish;
mod topology;

use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use lapin::Channel;
use tokio_util::sync::{CancellationToken, DropGuard};

use self::connection::{Link, Setup};
use self::topology::Topology;
use crate::bus::{Bus, BusError, ConsumerHandle, ConsumerSpec, DeadLetter, Handler, QueueSpec};
use crate::envelope::Envelope;

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

    fn queue_name(&self, queue: &str) -> String {
        format!("{}{queue}", self.prefix)
    }
}

#[async_trait]
impl Bus for RabbitBus {
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError> {
        self.publish_envelopes(messages).await
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, BusError> {
        self.start_consumer(spec, handler, shutdown).await
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.peek_dead_letters(queue, limit).await
    }

    async fn replay_dead_letters(&self, queue: &str, limit: usize) -> Result<usize, BusError> {
        self.replay_dead(queue, limit).await
    }
}
