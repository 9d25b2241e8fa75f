//! The loops background workers run, so every worker paces, backs off and stops alike:
//! [`every`] runs a pass on a timer (the sweepers), [`drain`] runs passes until a queue is
//! empty and then waits for a [`Waker`] or the next poll (the outbox relays, the delivery
//! worker).

use std::{
    fmt::Display,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Wakes a [`drain`] loop right after work was queued, so it runs without waiting for the
/// next poll. Clones wake the same loops; a wake with no loop waiting is remembered, not lost.
#[derive(Clone, Debug, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// A waker no loop listens to yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks one waiting loop to run now.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next wake (or at once if one is remembered).
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// How a [`drain`] loop paces itself.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// How long to wait for a wake before looking anyway.
    pub poll_interval: Duration,
    /// A pass that handled this many means more may be waiting: the next runs at once.
    pub batch_size: usize,
    /// Whether a full pass wakes a sibling loop to help (when several loops share a queue).
    pub wake_sibling_when_full: bool,
    /// How often `upkeep` runs at most; it runs only after a pass that was not full.
    pub upkeep_interval: Duration,
}

/// Runs `pass` until `shutdown`: again at once after a full batch, else after a wake or the
/// poll interval; after a failure, with jittered exponential backoff (100 ms doubling to 10 s).
/// `upkeep` (refreshing a gauge, purging old rows) runs now and then between passes that were
/// not full, when the loop is not racing a backlog. `name` labels its log lines.
pub async fn drain<E, P, PF, U, UF>(
    name: &'static str,
    waker: &Waker,
    pacing: &Pacing,
    shutdown: &CancellationToken,
    mut pass: P,
    mut upkeep: U,
) where
    E: Display,
    P: FnMut() -> PF,
    PF: Future<Output = Result<usize, E>>,
    U: FnMut() -> UF,
    UF: Future<Output = ()>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times();
    let mut delays = backoff.build();
    let mut upkept: Option<Instant> = None;
    loop {
        let pause = match pass().await {
            Ok(handled) if handled >= pacing.batch_size => {
                if pacing.wake_sibling_when_full {
                    waker.wake();
                }
                delays = backoff.build();
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
            }
            Ok(_) => {
                delays = backoff.build();
                if upkept.is_none_or(|at| at.elapsed() >= pacing.upkeep_interval) {
                    upkeep().await;
                    upkept = Some(Instant::now());
                }
                None
            }
            Err(error) => {
                let delay = delays.next().unwrap_or(Duration::from_secs(10));
                tracing::warn!(%error, ?delay, worker = name, "worker pass failed, retrying");
                Some(delay)
            }
        };
        match pause {
            Some(delay) => tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            },
            None => tokio::select! {
                () = shutdown.cancelled() => return,
                () = waker.notified() => {}
                () = tokio::time::sleep(pacing.poll_interval) => {}
            },
        }
    }
}

/// Runs `pass` every `interval` until `shutdown`, the first at once. A pass that overruns
/// delays the next instead of bunching them up. The pass reports its own outcome (a sweep
/// that fails is logged and tried again at the next tick).
pub async fn every<P, PF>(interval: Duration, shutdown: &CancellationToken, mut pass: P)
where
    P: FnMut() -> PF,
    PF: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => pass().await,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn pacing() -> Pacing {
        Pacing {
            poll_interval: Duration::from_secs(3600),
            batch_size: 10,
            wake_sibling_when_full: false,
            upkeep_interval: Duration::from_secs(3600),
        }
    }

    #[tokio::test]
    async fn a_drain_loop_runs_full_batches_back_to_back_then_waits_for_a_wake() {
        let (waker, shutdown) = (Waker::new(), CancellationToken::new());
        let queue = Arc::new(AtomicUsize::new(25));
        let passes = Arc::new(AtomicUsize::new(0));
        let handle = {
            let (waker, shutdown, queue, passes) = (waker.clone(), shutdown.clone(), queue.clone(), passes.clone());
            tokio::spawn(async move {
                let pass = || {
                    passes.fetch_add(1, Ordering::SeqCst);
                    let taken = queue.load(Ordering::SeqCst).min(10);
                    queue.fetch_sub(taken, Ordering::SeqCst);
                    async move { Ok::<_, String>(taken) }
                };
                drain("test", &waker, &pacing(), &shutdown, pass, || async {}).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!((queue.load(Ordering::SeqCst), passes.load(Ordering::SeqCst)), (0, 3), "10 + 10 + 5, then idle");
        queue.store(4, Ordering::SeqCst);
        waker.wake();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!((queue.load(Ordering::SeqCst), passes.load(Ordering::SeqCst)), (0, 4), "a wake runs one pass");
        shutdown.cancel();
        handle.await.unwrap();
    }

    #[tokio::test]
    async fn every_runs_on_the_tick_until_shutdown() {
        let shutdown = CancellationToken::new();
        let passes = Arc::new(AtomicUsize::new(0));
        let handle = {
            let (shutdown, passes) = (shutdown.clone(), passes.clone());
            tokio::spawn(async move {
                every(Duration::from_millis(10), &shutdown, || {
                    passes.fetch_add(1, Ordering::SeqCst);
                    async {}
                })
                .await;
            })
        };
        let ticking = async {
            while passes.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), ticking).await.unwrap();
        shutdown.cancel();
        handle.await.unwrap();
        let stopped_at = passes.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(passes.load(Ordering::SeqCst), stopped_at, "no pass after shutdown");
    }
}
