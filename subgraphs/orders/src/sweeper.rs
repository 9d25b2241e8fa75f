//! Cancels orders whose current step timed out: a payment that never answered (past the
//! payment deadline) or a reservation inventory never answered (past the pending deadline).
//! Every replica may sweep: each cancellation is a conditional update, so exactly one wins.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use shop_kernel::worker;
use tokio_util::sync::CancellationToken;

use crate::{service::lifecycle::Saga, store::OrdersStore};

/// Orders cancelled per sweep at most (the next sweep takes the rest).
const BATCH: u64 = 200;

/// One sweep: times out every due order; returns how many were cancelled.
pub async fn sweep_once(store: &OrdersStore, saga: &Saga) -> usize {
    let due = match store.due(Utc::now(), BATCH).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "cannot look for timed-out orders");
            return 0;
        }
    };
    let mut cancelled = 0;
    for order_id in due {
        match saga.time_out(order_id).await {
            Ok(outcome) if outcome.changed => cancelled += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %order_id, "cannot time out an order"),
        }
    }
    if cancelled > 0 {
        metrics::counter!("orders_timed_out_total").increment(u64::try_from(cancelled).unwrap_or(u64::MAX));
        tracing::info!(cancelled, "timed-out orders cancelled");
    }
    cancelled
}

/// Sweeps every `interval` until `shutdown`.
pub async fn run(store: OrdersStore, saga: Arc<Saga>, interval: Duration, shutdown: CancellationToken) {
    worker::every(interval, &shutdown, || async {
        sweep_once(&store, &saga).await;
    })
    .await;
}
