//! Declaring the topic exchange, the durable queues with their bindings, and each consumer's
//! retry and dead-letter queues, on every (re)connection.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use super::consume::Consumer;
use crate::bus::{BusError, QueueSpec};

/// How long the retry and dead-letter queues of a fan-out consumer outlive their replica.
const FAN_OUT_EXPIRY: Duration = Duration::from_secs(3600);

/// The exchange and the durable queues every service declares on each (re)connection.
pub(super) struct Topology {
    pub(super) exchange: String,
    pub(super) prefix: String,
    pub(super) queues: Vec<QueueSpec>,
}

impl Topology {
    pub(super) async fn declare(&self, channel: &Channel) -> Result<(), BusError> {
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
        .map_err(|e| declaring(format!("declare exchange {exchange}: {e}"), &e))
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
        .map_err(|e| declaring(format!("declare queue {name}: {e}"), &e))
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
        .map_err(|e| declaring(format!("bind {queue} to {pattern}: {e}"), &e))
}

/// A declaration the broker refused (a queue declared with other arguments, a missing
/// permission) is a topology error no retry fixes. An exclusive queue still held by this
/// process's previous, dead connection (RESOURCE_LOCKED until the broker notices it is gone) and
/// anything else (the connection reset, the broker shutting down) is the broker being
/// unavailable, and the declaration is tried again on the next connection.
fn declaring(what: String, error: &lapin::Error) -> BusError {
    let locked = matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(amqp)
            if matches!(amqp.kind(), lapin::protocol::AMQPErrorKind::Soft(lapin::protocol::AMQPSoftError::RESOURCELOCKED))
    );
    if error.is_amqp_soft_error() && !locked { BusError::Topology(what) } else { BusError::Connection(what) }
}

pub(super) fn dead_queue(queue: &str) -> String {
    format!("{queue}.dead")
}

pub(super) fn retry_queue(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", delay.as_millis())
}

pub(super) fn short(value: &str) -> Result<ShortString, BusError> {
    ShortString::try_new(value).map_err(|e| BusError::Topology(format!("name too long: {e}")))
}

fn millis(duration: Duration) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

pub(super) async fn declare_consumer_queues(channel: &Channel, consumer: &Consumer) -> Result<(), BusError> {
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
