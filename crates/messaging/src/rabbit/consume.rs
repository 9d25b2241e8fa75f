//! Consumers: each runs in a supervised task that survives connection losses, handles deliveries
//! concurrently up to its limit, and moves failures to a retry or dead-letter queue before acking.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::RabbitBus;
use super::connection::{ACK_TIMEOUT, HEALTH_CHECK, Link, Live, close_quietly, reconnect_backoff};
use super::headers::{ATTEMPT_HEADER, header_u32, properties};
use super::publish::CONFIRM_TIMEOUT;
use super::topology::{dead_queue, declare_consumer_queues, retry_queue, short};
use crate::bus::{
    BusError, ConsumerHandle, ConsumerSpec, Disposition, Handler, dispatch, metric_queue, record_consumed,
};

/// How long `consume` waits for its queue to be declared before reporting the broker down.
const CONSUME_READY_TIMEOUT: Duration = Duration::from_secs(30);

impl RabbitBus {
    /// The body of [`Bus::consume`](crate::bus::Bus::consume).
    pub(super) async fn start_consumer(
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
}

pub(super) struct Consumer {
    pub(super) exchange: String,
    /// The full (prefixed) queue name.
    pub(super) queue: String,
    label: String,
    pub(super) spec: ConsumerSpec,
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
    } else {
        consumer.handler.resumed().await;
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
