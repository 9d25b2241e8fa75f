//! The bus abstraction every service codes against, with RabbitMQ and in-memory implementations.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::envelope::Envelope;

/// A durable consumer queue and the topic patterns it is bound with on the events exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    /// Queue name without the deployment's prefix, e.g. `orders.saga`.
    pub name: String,
    /// Topic patterns (`*` one word, `#` zero or more), e.g. `inventory.reserved.*`.
    pub bindings: Vec<String>,
}

impl QueueSpec {
    /// A queue bound with `bindings`.
    pub fn new(name: impl Into<String>, bindings: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { name: name.into(), bindings: bindings.into_iter().map(Into::into).collect() }
    }
}

/// How a failing message is retried before it is dead-lettered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Deliveries in total, the first included, of a message whose handler panics (a bug, not
    /// a blip) before it is dead-lettered (default 5). A transient failure is never
    /// dead-lettered: it is retried, at most [`max_backoff`](Self::max_backoff) apart, until it
    /// passes, because a provider or database outage can outlast any fixed budget.
    pub max_attempts: u32,
    /// Delay after the first failure (default 200 ms); doubles after each further one.
    pub initial_backoff: Duration,
    /// Upper bound of the delay (default 10 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, initial_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// The delay before delivery `attempt + 1`, after delivery `attempt` (1-based) failed.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }

    /// The distinct delays a message can wait, shortest first (one retry queue each on
    /// RabbitMQ): every backoff up to and including the cap.
    pub fn tiers(&self) -> Vec<Duration> {
        let mut tiers = Vec::new();
        for attempt in 1.. {
            let delay = self.backoff(attempt);
            if tiers.last() == Some(&delay) {
                break;
            }
            tiers.push(delay);
            if delay >= self.max_backoff {
                break;
            }
        }
        tiers
    }
}

/// What a consumer reads and how it handles messages.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    /// The queue and its bindings.
    pub queue: QueueSpec,
    /// false: a per-replica queue (exclusive, auto-delete, e.g. `orders.tracking.<uuid>`) for
    /// fan-out to every replica.
    pub durable: bool,
    /// Unacknowledged messages the broker hands over at once (default 100).
    pub prefetch: u16,
    /// Handlers in flight at once (default 16); each message is acked after its handler returns Ok.
    pub concurrency: usize,
    /// Retries and dead-lettering.
    pub retry: RetryPolicy,
}

impl ConsumerSpec {
    /// A shared, durable queue: replicas compete for its messages.
    pub fn durable(queue: QueueSpec) -> Self {
        Self { queue, durable: true, prefetch: 100, concurrency: 16, retry: RetryPolicy::default() }
    }

    /// A queue of this replica alone, named `<name_prefix>.<uuid>`, so every replica sees every
    /// matching message.
    pub fn fan_out(name_prefix: &str, bindings: Vec<String>) -> Self {
        let name = format!("{name_prefix}.{}", uuid::Uuid::new_v4().simple());
        Self { durable: false, ..Self::durable(QueueSpec { name, bindings }) }
    }
}

/// Why a handler did not process a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (database down, provider timeout, breaker open): retried with capped
    /// backoff until it passes; never dead-lettered.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Will never work (invalid payload, broken invariant): dead-lettered at once.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Processes messages of one consumer.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one message; `Ok` acknowledges it. A panic counts as `Transient`.
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError>;

    /// Called when the consumer consumes again after its consumption stopped (the connection
    /// or channel was lost, the broker cancelled the consumer). A durable queue kept the
    /// messages of the gap; an exclusive (fan-out) queue died with the old connection and so
    /// did whatever was published to it meanwhile: a handler that keeps a view up to date
    /// re-reads it here.
    async fn resumed(&self) {}
}

/// A message that was given up on, as stored in `<queue>.dead`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The message, unless its body is not an envelope.
    pub envelope: Option<Envelope>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// Deliveries made before giving up.
    pub attempts: u32,
    /// The last failure.
    pub reason: String,
}

/// A failure of the bus itself.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker is unreachable; the caller retries later (the outbox keeps its rows).
    #[error("message broker unavailable: {0}")]
    Connection(String),
    /// The broker refused or did not confirm a message.
    #[error("publish failed: {0}")]
    Publish(String),
    /// Declaring exchanges, queues or bindings failed.
    #[error("messaging topology error: {0}")]
    Topology(String),
    /// A message could not be encoded or decoded.
    #[error("message encoding error: {0}")]
    Decode(String),
    /// No broker is configured where one is required.
    #[error("no message broker: {0}")]
    NotConfigured(String),
}

/// The running consumer task.
#[derive(Debug)]
pub struct ConsumerHandle {
    task: JoinHandle<()>,
}

impl ConsumerHandle {
    pub(crate) fn new(task: JoinHandle<()>) -> Self {
        Self { task }
    }

    /// Waits until the consumer stopped (after its shutdown token fired and in-flight handlers finished).
    pub async fn join(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "consumer task failed");
        }
    }
}

/// A message bus: publish to the topic exchange, consume queues with retries and dead letters.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes persistent messages to the topic exchange; returns when the broker confirmed all of them.
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError>;
    /// Declares the consumer's queue (and its retry/dead-letter queues) and returns once it is
    /// bound; handling runs in a spawned task until `shutdown`, surviving connection loss.
    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, BusError>;
    /// Dead letters of a queue, oldest first, left in place.
    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError>;
    /// Moves up to `limit` dead letters back to their queue with a fresh attempt count; returns how many.
    async fn replay_dead_letters(&self, queue: &str, limit: usize) -> Result<usize, BusError>;
}

/// What happens to a delivery after its handler ran.
pub(crate) enum Disposition {
    /// Handled: ack.
    Done,
    /// Deliver again after `delay` as attempt `next_attempt`.
    Retry { delay: Duration, next_attempt: u32 },
    /// Give up: move to the dead-letter queue.
    Dead { reason: String },
}

/// Runs `handler` on a delivery's body inside a span with the message's identity, and decides
/// its fate. Shared by both buses so they behave the same.
pub(crate) async fn dispatch(
    handler: &dyn Handler,
    queue: &str,
    body: &[u8],
    attempt: u32,
    retry: &RetryPolicy,
) -> (Option<Envelope>, Disposition) {
    let envelope = match Envelope::from_json(body) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(queue, %error, "undecodable message, dead-lettering it");
            return (None, Disposition::Dead { reason: format!("undecodable: {error}") });
        }
    };
    let span = tracing::info_span!(
        "message",
        queue,
        kind = %envelope.kind,
        id = %envelope.id,
        correlation_id = %envelope.correlation_id,
        traceparent = envelope.traceparent.as_deref().unwrap_or_default(),
        attempt,
    );
    let outcome = AssertUnwindSafe(handler.handle(&envelope)).catch_unwind().instrument(span.clone()).await;
    let failure = match outcome {
        Ok(Ok(())) => return (Some(envelope), Disposition::Done),
        Ok(Err(HandlerError::Permanent(reason))) => {
            span.in_scope(|| tracing::warn!(%reason, "permanent failure, dead-lettering"));
            return (Some(envelope), Disposition::Dead { reason: format!("permanent: {reason}") });
        }
        Ok(Err(HandlerError::Transient(reason))) => {
            let delay = retry.backoff(attempt);
            span.in_scope(|| tracing::info!(%reason, ?delay, "transient failure, retrying"));
            metrics::counter!("messaging_retries_total", "queue" => queue.to_owned()).increment(1);
            return (Some(envelope), Disposition::Retry { delay, next_attempt: attempt.saturating_add(1) });
        }
        Err(panic) => panic_message(panic.as_ref()),
    };
    let disposition = if attempt >= retry.max_attempts {
        span.in_scope(|| tracing::warn!(reason = %failure, "handler keeps panicking, dead-lettering"));
        Disposition::Dead { reason: format!("gave up after {attempt} attempts: {failure}") }
    } else {
        let delay = retry.backoff(attempt);
        span.in_scope(|| tracing::warn!(reason = %failure, ?delay, "handler panicked, retrying"));
        Disposition::Retry { delay, next_attempt: attempt + 1 }
    };
    (Some(envelope), disposition)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("handler panicked: {text}")
}

/// The queue label of metrics: fan-out queue names end in a random id, which would make a new
/// time series per replica start.
pub(crate) fn metric_queue(spec: &ConsumerSpec) -> String {
    if spec.durable {
        return spec.queue.name.clone();
    }
    match spec.queue.name.rsplit_once('.') {
        Some((prefix, id)) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => prefix.to_owned(),
        _ => spec.queue.name.clone(),
    }
}

/// Records the outcome of one handled delivery.
pub(crate) fn record_consumed(queue: &str, disposition: &Disposition) {
    let outcome = match disposition {
        Disposition::Done => "ok",
        Disposition::Retry { .. } => "retry",
        Disposition::Dead { .. } => "dead",
    };
    metrics::counter!("messaging_consumed_total", "queue" => queue.to_owned(), "outcome" => outcome).increment(1);
    if matches!(disposition, Disposition::Dead { .. }) {
        metrics::counter!("messaging_dead_lettered_total", "queue" => queue.to_owned()).increment(1);
    }
}

/// Records published messages by kind.
pub(crate) fn record_published(messages: &[Envelope]) {
    for message in messages {
        metrics::counter!("messaging_published_total", "kind" => message.kind.clone()).increment(1);
    }
}
