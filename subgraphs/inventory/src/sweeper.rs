//! Releases reservations nobody committed in time and tells the saga, so the order is
//! cancelled instead of waiting forever.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use shop_kernel::worker;
use shop_messaging::outbox::OutboxWaker;
use tokio_util::sync::CancellationToken;

use crate::{events, store::InventoryStore};

/// Expired reservations released per pass, so one pass never holds the database long.
const BATCH: u64 = 100;

/// Runs until `shutdown`: every `interval`, releases reservations past their expiry, each
/// together with an `inventory.expired` message in the outbox. Several replicas may sweep at
/// once; the conditional status update lets one win each.
pub async fn run(store: Arc<InventoryStore>, waker: OutboxWaker, interval: Duration, shutdown: CancellationToken) {
    worker::every(interval, &shutdown, || sweep_once(&store, &waker)).await;
}

/// One sweep: releases the expired reservations of one batch.
async fn sweep_once(store: &InventoryStore, waker: &OutboxWaker) {
    match store.expire_due(Utc::now(), BATCH, events::expired_announcement).await {
        Ok(expired) if !expired.is_empty() => {
            waker.wake();
            metrics::counter!("inventory_reservations_expired_total").increment(expired.len() as u64);
            tracing::info!(count = expired.len(), "released expired reservations");
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "reservation sweep failed"),
    }
}
