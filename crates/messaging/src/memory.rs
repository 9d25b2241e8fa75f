//! An in-process bus for the embedded `cargo run`: the same routing, retries and dead letters
//! as RabbitMQ, on tokio channels. Messages live in memory only.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bus::{
    Bus, BusError, ConsumerHandle, ConsumerSpec, DeadLetter, Disposition, Handler, QueueSpec, RetryPolicy, dispatch,
    metric_queue, record_consumed, record_published,
};
use crate::envelope::Envelope;
use crate::topic;

/// One queued message: the wire bytes (so undecodable bodies behave as on RabbitMQ) and which
/// delivery attempt this is.
struct Delivery {
    body: Arc<[u8]>,
    attempt: u32,
}

struct Queue {
    bindings: Mutex<Vec<String>>,
    durable: bool,
    sender: mpsc::UnboundedSender<Delivery>,
    // Shared so that several consumers of one queue compete for its messages, as on RabbitMQ.
    receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Delivery>>>,
    dead: Mutex<VecDeque<DeadLetter>>,
}

impl Queue {
    fn new(bindings: Vec<String>, durable: bool) -> Arc<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        Arc::new(Self {
            bindings: Mutex::new(bindings),
            durable,
            sender,
            receiver: Arc::new(tokio::sync::Mutex::new(receiver)),
            dead: Mutex::new(VecDeque::new()),
        })
    }

    fn routes(&self, key: &str) -> bool {
        lock(&self.bindings).iter().any(|pattern| topic::matches(pattern, key))
    }

    fn push(&self, body: Arc<[u8]>, attempt: u32) {
        // The receiver lives as long as the queue, which owns the sender too: sending cannot fail.
        let _ = self.sender.send(Delivery { body, attempt });
    }
}

/// The in-process bus.
pub struct InMemoryBus {
    queues: Arc<Mutex<HashMap<String, Arc<Queue>>>>,
}

/// A poisoned lock only means another thread panicked mid-update of plain data; keep going.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl InMemoryBus {
    /// A bus with the durable queues of `topology` declared, so messages published before their
    /// consumer starts wait for it.
    pub fn new(topology: Vec<QueueSpec>) -> Arc<Self> {
        let queues = topology.into_iter().map(|spec| (spec.name, Queue::new(spec.bindings, true))).collect();
        Arc::new(Self { queues: Arc::new(Mutex::new(queues)) })
    }

    /// Routes raw bytes as if published with `routing_key`; for tests of malformed messages.
    pub fn publish_raw(&self, routing_key: &str, body: &[u8]) {
        let body: Arc<[u8]> = Arc::from(body);
        for queue in lock(&self.queues).values().filter(|queue| queue.routes(routing_key)) {
            queue.push(body.clone(), 1);
        }
    }

    fn queue(&self, name: &str) -> Result<Arc<Queue>, BusError> {
        lock(&self.queues).get(name).cloned().ok_or_else(|| BusError::Topology(format!("no queue {name}")))
    }
}

impl std::fmt::Debug for InMemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryBus").field("queues", &lock(&self.queues).keys().collect::<Vec<_>>()).finish()
    }
}

#[async_trait]
impl Bus for InMemoryBus {
    async fn publish(&self, messages: &[Envelope]) -> Result<(), BusError> {
        let queues: Vec<Arc<Queue>> = lock(&self.queues).values().cloned().collect();
        for message in messages {
            let body: Arc<[u8]> = message.to_json().map_err(|e| BusError::Decode(e.to_string()))?.into();
            for queue in queues.iter().filter(|queue| queue.routes(&message.kind)) {
                queue.push(body.clone(), 1);
            }
        }
        record_published(messages);
        Ok(())
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<ConsumerHandle, BusError> {
        let queue = {
            let mut queues = lock(&self.queues);
            let queue =
                queues.entry(spec.queue.name.clone()).or_insert_with(|| Queue::new(Vec::new(), spec.durable)).clone();
            let mut bindings = lock(&queue.bindings);
            for binding in &spec.queue.bindings {
                if !bindings.contains(binding) {
                    bindings.push(binding.clone());
                }
            }
            drop(bindings);
            queue
        };
        let queues = self.queues.clone();
        let task = tokio::spawn(async move {
            run_consumer(queue.clone(), &spec, handler, shutdown).await;
            // A fan-out queue belongs to its consumer: gone with it, like an auto-delete queue.
            if !queue.durable {
                lock(&queues).remove(&spec.queue.name);
            }
        });
        Ok(ConsumerHandle::new(task))
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let queue = self.queue(queue)?;
        let dead = lock(&queue.dead);
        Ok(dead.iter().take(limit).cloned().collect())
    }

    async fn replay_dead_letters(&self, queue: &str, limit: usize) -> Result<usize, BusError> {
        let queue = self.queue(queue)?;
        let replayed: Vec<DeadLetter> = {
            let mut dead = lock(&queue.dead);
            let n = limit.min(dead.len());
            dead.drain(..n).collect()
        };
        for letter in &replayed {
            queue.push(Arc::from(letter.body.as_bytes()), 1);
        }
        Ok(replayed.len())
    }
}

async fn run_consumer(queue: Arc<Queue>, spec: &ConsumerSpec, handler: Arc<dyn Handler>, shutdown: CancellationToken) {
    let label = metric_queue(spec);
    let slots = Arc::new(Semaphore::new(spec.concurrency.max(1)));
    let mut in_flight = JoinSet::new();
    loop {
        // Take a slot before a message, so a message is never held while waiting for one.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => match permit { Ok(permit) => permit, Err(_) => break },
        };
        let delivery = tokio::select! {
            () = shutdown.cancelled() => break,
            delivery = async { queue.receiver.lock().await.recv().await } => delivery,
        };
        let Some(delivery) = delivery else { break };
        let (queue, handler, label, retry) = (queue.clone(), handler.clone(), label.clone(), spec.retry);
        in_flight.spawn(async move {
            handle(&queue, handler.as_ref(), &label, delivery, &retry).await;
            drop(permit);
        });
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}

async fn handle(queue: &Arc<Queue>, handler: &dyn Handler, label: &str, delivery: Delivery, retry: &RetryPolicy) {
    let (envelope, disposition) = dispatch(handler, label, &delivery.body, delivery.attempt, retry).await;
    record_consumed(label, &disposition);
    match disposition {
        Disposition::Done => {}
        Disposition::Retry { delay, next_attempt } => {
            let queue = queue.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                queue.push(delivery.body, next_attempt);
            });
        }
        Disposition::Dead { reason } => lock(&queue.dead).push_back(DeadLetter {
            envelope,
            body: String::from_utf8_lossy(&delivery.body).into_owned(),
            attempts: delivery.attempt,
            reason,
        }),
    }
}
