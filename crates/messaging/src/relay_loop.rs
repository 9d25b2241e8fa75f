//! The loop both outbox relays (SQL and MongoDB) run around their passes.

use std::{
    fmt::Display,
    future::Future,
    time::{Duration, Instant},
};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

use crate::outbox::OutboxWaker;

/// How a relay loop paces itself.
pub(crate) struct Pacing {
    /// How long to wait for a wake before looking anyway.
    pub poll_interval: Duration,
    /// A pass that sent this many means more may be waiting.
    pub batch_size: usize,
    /// Whether a full pass wakes a sibling loop to help (when several loops share an outbox).
    pub wake_sibling_when_full: bool,
    /// How often `upkeep` runs at most; it runs only after a pass that was not full.
    pub upkeep_interval: Duration,
}

/// Runs `pass` until `shutdown`: again at once after a full batch, else after a wake or the
/// poll interval; after a failure, with jittered exponential backoff. `upkeep` (e.g. refreshing
/// the pending gauge) runs now and then between passes that were not full, when the loop is
/// not racing a backlog.
pub(crate) async fn run<E, P, PF, U, UF>(
    what: &'static str,
    waker: &OutboxWaker,
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
            Ok(sent) if sent >= pacing.batch_size => {
                if pacing.wake_sibling_when_full {
                    waker.wake();
                }
                delays = backoff.build();
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
                tracing::warn!(%error, ?delay, relay = what, "outbox relay failed, retrying");
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
