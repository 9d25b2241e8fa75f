//! The delivery worker: takes due notifications off the queue and sends them through their
//! channel.
//!
//! Per notification: lease it, find the recipient (unknown yet = a transient failure, since
//! `user.registered` may still be on its way), check marketing consent again (it may have
//! changed since the notification was queued), render, send, and record the outcome only
//! while the lease is held. Transient failures retry with exponential backoff and jitter
//! (backon) until `max_attempts`, then fail with the reason; permanent ones fail at once.
//!
//! Nothing is sent twice for one event: one row per (event, kind, channel), one lease
//! holder at a time, and the outcome written only by the holder. One window remains: a crash
//! (or a lease running out) after the channel accepted a message and before `SENT` is written
//! makes a later attempt send it again. The send is bounded well inside the lease to keep
//! that to crashes, and the copy carries the same Message-ID (`<id@shop>`), so mail systems
//! can tell it is the same message.

use std::{collections::HashMap, sync::Arc, time::Duration};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use shop_kernel::worker;
use tokio_util::sync::CancellationToken;

use crate::{
    adapters::{Channel, ChannelKind, DeliveryError},
    domain::{NotificationCategory, OPTED_OUT},
    render::Renderer,
    store::{Leased, NotificationStore, Outcome, StoreError},
};

/// Notifications leased per pass.
const BATCH: u64 = 16;
/// How often the queued gauge and the inbox purge run.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// How often processed inbox records older than [`INBOX_RETENTION`] are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// Well past the longest a message can be redelivered (retries, dead-letter replays).
const INBOX_RETENTION: chrono::Duration = chrono::Duration::days(14);

/// How deliveries are paced and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Attempts in total, the first included, before a notification fails.
    pub max_attempts: u32,
    /// Wait after the first failure; it doubles (with jitter) after each further one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// How often the queue is looked at when nobody wakes the worker.
    pub poll_interval: Duration,
    /// How long a worker holds a notification it is sending; a crashed worker's
    /// notifications are taken up again after this.
    pub lease: Duration,
}

impl DeliverySettings {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let steps = usize::try_from(attempt.max(1)).unwrap_or(usize::MAX);
        ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(steps - 1)
            .unwrap_or(self.max_backoff)
    }

    /// The longest one send may take: half the lease, so the outcome is written while the
    /// lease is still held.
    fn send_timeout(&self) -> Duration {
        self.lease / 2
    }
}

/// Wakes the delivery worker when notifications were queued, so they go out at once rather
/// than at the next poll. Clones wake the same worker.
pub type DeliveryWaker = shop_kernel::worker::Waker;

/// Sends queued notifications.
pub struct DeliveryWorker {
    store: Arc<NotificationStore>,
    renderer: Arc<Renderer>,
    channels: HashMap<ChannelKind, Arc<dyn Channel>>,
    settings: DeliverySettings,
    waker: DeliveryWaker,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Notifications leased.
    pub leased: usize,
    /// Sent.
    pub sent: usize,
    /// Scheduled for another attempt.
    pub retried: usize,
    /// Given up on.
    pub failed: usize,
    /// Not sent on purpose.
    pub skipped: usize,
}

impl DeliveryWorker {
    /// A worker over `channels` (one per kind; a later one of the same kind replaces an
    /// earlier one).
    pub fn new(
        store: Arc<NotificationStore>,
        renderer: Arc<Renderer>,
        channels: Vec<Arc<dyn Channel>>,
        settings: DeliverySettings,
        waker: DeliveryWaker,
    ) -> Self {
        let channels = channels.into_iter().map(|channel| (channel.kind(), channel)).collect();
        Self { store, renderer, channels, settings, waker }
    }

    /// Runs until `shutdown`: a pass whenever woken or every poll interval, and at once
    /// again while passes find full batches.
    pub async fn run(self, shutdown: CancellationToken) {
        let pacing = worker::Pacing {
            poll_interval: self.settings.poll_interval,
            batch_size: BATCH as usize,
            wake_sibling_when_full: false,
            upkeep_interval: UPKEEP_INTERVAL,
        };
        let last_purge = tokio::sync::Mutex::new(None);
        let pass = || async { self.run_once().await.map(|report| report.leased) };
        let upkeep = || async { self.upkeep(&mut *last_purge.lock().await).await };
        worker::drain("notification delivery", &self.waker, &pacing, &shutdown, pass, upkeep).await;
    }

    async fn upkeep(&self, last_purge: &mut Option<tokio::time::Instant>) {
        match self.store.queued_count().await {
            Ok(queued) => metrics::gauge!("notifications_queued").set(queued as f64),
            Err(error) => tracing::warn!(%error, "cannot count queued notifications"),
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL) {
            *last_purge = Some(tokio::time::Instant::now());
            if let Err(error) = self.store.purge_inbox(Utc::now() - INBOX_RETENTION).await {
                tracing::warn!(%error, "cannot purge the inbox");
            }
        }
    }

    /// Leases one batch of due notifications and delivers them, concurrently.
    pub async fn run_once(&self) -> Result<PassReport, StoreError> {
        let lease_until =
            Utc::now() + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::seconds(60));
        let leased = self.store.lease_due(BATCH, lease_until).await?;
        let mut report = PassReport { leased: leased.len(), ..PassReport::default() };
        let outcomes = futures::future::join_all(leased.into_iter().map(|item| self.deliver(item))).await;
        for outcome in outcomes {
            match outcome {
                Ok(Some(Outcome::Sent { .. })) => report.sent += 1,
                Ok(Some(Outcome::Retry { .. })) => report.retried += 1,
                Ok(Some(Outcome::Failed { .. })) => report.failed += 1,
                Ok(Some(Outcome::Skipped { .. })) => report.skipped += 1,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "cannot record a delivery; its lease will run out and it is retried")
                }
            }
        }
        Ok(report)
    }

    /// Delivers one leased notification and records the outcome; `None` if the lease was
    /// lost meanwhile.
    #[tracing::instrument(skip_all, fields(notification = %item.notification.id, kind = item.notification.kind.as_str()))]
    async fn deliver(&self, item: Leased) -> Result<Option<Outcome>, StoreError> {
        let outcome = self.attempt(&item).await?;
        let notification = &item.notification;
        let labels = [("channel", notification.channel.as_str()), ("kind", notification.kind.as_str())];
        match &outcome {
            Outcome::Sent { .. } => metrics::counter!("notifications_sent_total", &labels).increment(1),
            Outcome::Failed { reason } => {
                tracing::warn!(%reason, "notification failed");
                metrics::counter!("notifications_failed_total", &labels).increment(1);
            }
            Outcome::Retry { reason, at } => tracing::info!(%reason, %at, "notification will be retried"),
            Outcome::Skipped { .. } => {}
        }
        if self.store.finish(notification.id, item.token, &outcome).await? {
            Ok(Some(outcome))
        } else {
            tracing::warn!("the lease ran out before the outcome was recorded; another worker owns the notification");
            Ok(None)
        }
    }

    async fn attempt(&self, item: &Leased) -> Result<Outcome, StoreError> {
        let notification = &item.notification;
        let Some(recipient) = self.store.recipient(&notification.user_id).await? else {
            return Ok(self.failed(
                notification.attempts,
                DeliveryError::Transient("the customer's address is not known yet".into()),
            ));
        };
        if notification.category == NotificationCategory::Marketing
            && !self.store.preferences(&notification.user_id).await?.marketing
        {
            return Ok(Outcome::Skipped { reason: OPTED_OUT.into() });
        }
        let Some(channel) = self.channels.get(&notification.channel) else {
            let error = DeliveryError::Permanent(format!("no {} channel is configured", notification.channel.as_str()));
            return Ok(self.failed(notification.attempts, error));
        };
        let message = match self.renderer.message(
            notification.id,
            notification.kind,
            &notification.subject,
            &notification.facts,
            &recipient,
        ) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(%error, "cannot render a notification");
                return Ok(self.failed(
                    notification.attempts,
                    DeliveryError::Permanent("the message could not be rendered".into()),
                ));
            }
        };
        let sent = tokio::time::timeout(self.settings.send_timeout(), channel.send(&recipient, &message)).await;
        Ok(match sent {
            Ok(Ok(receipt)) => Outcome::Sent { address: receipt.address },
            Ok(Err(error)) => self.failed(notification.attempts, error),
            Err(_) => self
                .failed(notification.attempts, DeliveryError::Transient("the channel did not answer in time".into())),
        })
    }

    /// What a failure of attempt `attempts + 1` leads to.
    fn failed(&self, attempts: i32, error: DeliveryError) -> Outcome {
        let attempt = u32::try_from(attempts).unwrap_or(0).saturating_add(1);
        let reason = error.reason().to_owned();
        if !error.is_transient() || attempt >= self.settings.max_attempts {
            return Outcome::Failed { reason };
        }
        let wait = chrono::Duration::from_std(self.settings.backoff(attempt)).unwrap_or(chrono::Duration::seconds(300));
        Outcome::Retry { at: Utc::now() + wait, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_up_to_the_maximum() {
        let settings = DeliverySettings {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            poll_interval: Duration::from_millis(10),
            lease: Duration::from_secs(60),
        };
        let first = settings.backoff(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200), "{first:?}");
        let third = settings.backoff(3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(800), "{third:?}");
        // Jitter may add up to the delay itself on top of the cap.
        assert!(settings.backoff(20) <= Duration::from_millis(2000));
    }
}
