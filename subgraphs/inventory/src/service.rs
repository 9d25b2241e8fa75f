//! Inventory's use cases, the one room `graphql/` and `events` both go through: stock reads
//! and audited adjustments for clients, and the saga's reserve, commit and release steps.
//!
//! Most of it is thin because the store already is the use case (each method is one atomic
//! database operation). What it adds is the saga's unit of work: a command's inbox record,
//! its effect and its answers commit in one transaction, then the outbox relay is woken.

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::DatabaseTransaction;
use shop_messaging::{
    Envelope, inbox,
    outbox::{self, OutboxWaker},
};

pub use crate::store::{AdjustError, AdjustmentRecord, ReserveError, StoreError, TransitionError};
use crate::{
    domain::{Adjustment, Reservation, ReservationRequest, ReservationStatus, StockLevel},
    store::{self, InventoryStore},
};

/// Stock over the inventory database, and the wake-up of its outbox relay.
pub struct Inventory {
    store: Arc<InventoryStore>,
    waker: OutboxWaker,
    reservation_ttl: Duration,
}

impl Inventory {
    /// Use cases over `store` whose reservations hold stock for `reservation_ttl`; `waker`
    /// is woken after every commit that wrote to the outbox.
    pub fn new(store: Arc<InventoryStore>, waker: OutboxWaker, reservation_ttl: std::time::Duration) -> Self {
        let reservation_ttl = Duration::from_std(reservation_ttl).unwrap_or_else(|_| Duration::minutes(15));
        Self { store, waker, reservation_ttl }
    }

    /// Stock of each SKU that has a record (in any order).
    pub async fn stock_levels(&self, skus: &[String]) -> Result<Vec<StockLevel>, StoreError> {
        self.store.stock_levels(skus).await
    }

    /// The audit trail of a SKU, newest first.
    pub async fn adjustments(&self, sku: &str, offset: u64, limit: u64) -> Result<Vec<AdjustmentRecord>, StoreError> {
        self.store.adjustments(sku, offset, limit).await
    }

    /// Applies an adjustment and records it in the audit trail, atomically.
    pub async fn adjust(&self, adjustment: &Adjustment) -> Result<StockLevel, AdjustError> {
        self.store.adjust(adjustment).await
    }

    /// Starts handling `message` for `consumer`, exactly once: `None` if it was handled
    /// before, so a redelivery changes nothing and answers nothing.
    pub async fn claim(&self, consumer: &str, message: &Envelope) -> Result<Option<SagaStep<'_>>, StoreError> {
        let tx = self.store.begin().await?;
        if !inbox::claim(&tx, consumer, message.id).await? {
            tx.commit().await?;
            return Ok(None);
        }
        Ok(Some(SagaStep { inventory: self, tx }))
    }
}

/// One saga command being handled, inside the transaction that holds its inbox record.
/// Dropping it without [`SagaStep::answer`] rolls everything back, so the broker redelivers.
pub struct SagaStep<'a> {
    inventory: &'a Inventory,
    tx: DatabaseTransaction,
}

impl SagaStep<'_> {
    /// Holds stock for an order until the reservation time-to-live from now: every line or
    /// none. A second call for the same order returns the existing reservation.
    pub async fn reserve(&self, request: &ReservationRequest) -> Result<Reservation, ReserveError> {
        store::reserve_within(&self.tx, request, Utc::now() + self.inventory.reservation_ttl).await
    }

    /// The order was paid: its units leave the stock. Idempotent.
    pub async fn commit(&self, order_id: &str) -> Result<Reservation, TransitionError> {
        store::finish_within(&self.tx, order_id, ReservationStatus::Committed).await
    }

    /// The order was paid after its hold lapsed: takes the units from what is free now, or
    /// names what is short (nothing taken).
    pub async fn commit_lapsed(&self, order_id: &str) -> Result<Reservation, ReserveError> {
        store::commit_lapsed_within(&self.tx, order_id).await
    }

    /// The order gives its units back, exactly once however often it asks: held units are
    /// no longer held; committed units (a confirmed order cancelled before it shipped) go back
    /// on hand. A release that overtakes its reserve leaves a released marker instead, so the
    /// late reserve finds it and holds nothing.
    pub async fn release(&self, order_id: &str) -> Result<Reservation, TransitionError> {
        match store::finish_within(&self.tx, order_id, ReservationStatus::Released).await {
            Err(TransitionError::NotFound) => Ok(store::record_release_without_reservation(&self.tx, order_id).await?),
            Err(TransitionError::Invalid {
                from: ReservationStatus::Committed | ReservationStatus::Restocked, ..
            }) => store::finish_within(&self.tx, order_id, ReservationStatus::Restocked).await,
            other => other,
        }
    }

    /// Puts `answers` in the outbox and commits them with the step's effect and its inbox
    /// record, then wakes the relay so they go out without waiting for its next poll.
    pub async fn answer(self, answers: &[Envelope]) -> Result<(), StoreError> {
        outbox::enqueue(&self.tx, answers).await?;
        self.tx.commit().await?;
        self.inventory.waker.wake();
        Ok(())
    }
}
