//! Live order tracking: `orderUpdated(orderId)` yields the order now, then again after every
//! change. Changes arrive through this replica's tracking consumer (fed by the broker, so
//! every replica sees every change) and each is re-read from the database, so a subscriber
//! always sees a committed state, never a message's partial view.

use std::{sync::Arc, time::Duration};

use backon::{ExponentialBuilder, Retryable};

use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt, stream};
use shop_kernel::{
    ErrorCode,
    auth::{forbidden, require_user},
    error::client_error,
    federation::authenticated,
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::types::Order;
use crate::{
    error::gql,
    service::{Orders, TrackingSignal},
    store::OrdersStore,
};

/// Live updates.
pub struct SubscriptionRoot;

fn order_not_found() -> async_graphql::Error {
    client_error(ErrorCode::NotFound, "no such order")
}

/// Live updates.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The order `orderId` now, then after every change of its status, payment or timeline.
    /// Only its owner or an admin may subscribe (`FORBIDDEN` otherwise; `NOT_FOUND` for an
    /// unknown order).
    #[graphql(directive = authenticated::apply())]
    async fn order_updated(&self, ctx: &Context<'_>, order_id: ID) -> Result<impl Stream<Item = Order> + use<>> {
        let principal = require_user(ctx)?.clone();
        let id = Uuid::parse_str(order_id.as_str()).map_err(|_| order_not_found())?;
        let orders = ctx.data::<Arc<Orders>>()?;
        // Subscribe before the first read, so no change between the two is missed.
        let changes = orders.tracking.subscribe();
        let order = orders.store.get(id).await.map_err(gql)?.ok_or_else(order_not_found)?;
        if !principal.may_access(order.user_id) {
            return Err(forbidden());
        }
        let store = orders.store.clone();
        let version = order.version;
        let first = stream::once(async move { Order::new(order) });
        let updates = stream::unfold((changes, store, version), move |(mut changes, store, mut seen)| async move {
            loop {
                match changes.recv().await {
                    Ok(TrackingSignal::Changed(changed)) if changed != id => {}
                    // Lagged or resynced: some changes were skipped; the current state covers them.
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if let Some(order) = next_version(&store, id, seen).await {
                            seen = order.version;
                            return Some((Order::new(order), (changes, store, seen)));
                        }
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        });
        Ok(first.chain(updates))
    }
}

/// The order if it changed since `seen` (a burst of changes may be read once). A failing read
/// is tried again for a few seconds: the signal that brought us here (a change, a resync after
/// a reconnect) does not come twice.
async fn next_version(store: &OrdersStore, id: Uuid, seen: i64) -> Option<crate::domain::Order> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(8);
    let read = || async { store.get(id).await };
    match read
        .retry(backoff)
        .notify(|error, _| tracing::warn!(%error, order_id = %id, "cannot re-read an order for its subscribers yet"))
        .await
    {
        Ok(Some(order)) if order.version > seen => Some(order),
        Ok(_) => None,
        Err(error) => {
            tracing::error!(%error, order_id = %id, "cannot re-read an order for its subscribers; they wait for its next change");
            None
        }
    }
}
