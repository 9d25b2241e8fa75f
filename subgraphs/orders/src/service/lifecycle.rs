//! An order's life after checkout, orchestrated here as the checkout saga: every reply from
//! inventory and payments (handed over by [`crate::events::saga`]), every fulfilment mutation
//! and every timeout moves an order through [`crate::domain::status`]'s one transition table,
//! and sends the commands that follow (or the compensation a cancellation owes).
//!
//! Each step is ONE transaction: the inbox claim (for messages), a conditional update of the
//! order (`WHERE status = <read> AND version = <read>`), a timeline entry and the outgoing
//! messages in the outbox, `OrderUpdated` among them. A step that loses a race to another
//! writer re-reads the order and decides again. A late or duplicate reply has no second
//! effect, except that a late authorization of a cancelled order is voided and a late
//! reservation of a cancelled order is released.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use shop_kernel::{auth::Principal, db};
use shop_messaging::{
    Envelope, Event,
    contracts::{
        InventoryCommit, InventoryCommitFailed, InventoryCommitted, InventoryExpired, InventoryRejected,
        InventoryRelease, InventoryReserved, OrderCancelled, OrderConfirmed, OrderDelivered, OrderLineFact,
        OrderShipped, OrderSummary, OrderUpdated, PaymentAuthorize, PaymentAuthorized, PaymentCapture,
        PaymentCaptureFailed, PaymentCaptured, PaymentFailed, PaymentRefunded, PaymentVoid, PaymentVoided,
    },
    inbox,
    outbox::{self, OutboxWaker},
};
use uuid::Uuid;

use crate::{
    domain::{
        InvalidTransition, Order, OrderStatus, PaymentStatus, TimelineEntry, Transition, Trigger,
        status::{late_compensation, transition},
    },
    store::{self, StoreError},
};

/// The inbox name of the saga consumer.
pub const CONSUMER: &str = "orders.saga";

/// How many times a step re-reads and decides again after losing a race.
const MAX_ATTEMPTS: u32 = 8;

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    /// No order has this id.
    #[error("no order {0}")]
    UnknownOrder(Uuid),
    /// The caller may not change this order.
    #[error("this order belongs to someone else")]
    Forbidden,
    /// The order's status does not allow the step.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The order's data cannot support the step (a bug or tampering).
    #[error("order data is inconsistent: {0}")]
    Inconsistent(String),
    /// The message is not what its contract says.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The order may not ship: its payment is not captured (it is this).
    #[error("the payment is {0}, not captured")]
    PaymentNotCaptured(PaymentStatus),
    /// Other writers kept changing the order.
    #[error("the order kept changing; try again")]
    Contended,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for SagaError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(StoreError::from(error))
    }
}

/// Builds the outgoing messages of a step: replies to the message being handled (same
/// correlation, causation = it, child trace) or, for mutations and timeouts, new messages
/// correlated by the order id.
struct Emitter<'a> {
    order_id: String,
    cause: Option<&'a Envelope>,
    messages: Vec<Envelope>,
}

impl Emitter<'_> {
    fn emit<E: Event>(&mut self, event: &E) -> Result<(), SagaError> {
        let envelope = match self.cause {
            Some(cause) => Envelope::reply_to(event, cause),
            None => Envelope::new(event, self.order_id.clone()),
        }
        .map_err(|e| SagaError::Malformed(e.to_string()))?;
        self.messages.push(envelope);
        Ok(())
    }
}

/// What a step decided: the changed order (`None`: no change) and what the timeline says.
struct Step {
    after: Option<Order>,
    note: Option<String>,
}

impl Step {
    const NOTHING: Self = Self { after: None, note: None };

    fn change(after: Order, note: impl Into<String>) -> Self {
        Self { after: Some(after), note: Some(note.into()) }
    }
}

/// The result of a step.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The order after the step.
    pub order: Order,
    /// Whether the step changed it.
    pub changed: bool,
}

/// The saga orchestrator.
pub struct Saga {
    db: DatabaseConnection,
    waker: OutboxWaker,
    payment_timeout: chrono::Duration,
}

impl Saga {
    /// The orchestrator over the orders database; `payment_timeout` is how long payments may
    /// take to authorize.
    pub fn new(db: DatabaseConnection, waker: OutboxWaker, payment_timeout: Duration) -> Self {
        let payment_timeout = chrono::Duration::from_std(payment_timeout).unwrap_or(chrono::Duration::MAX);
        Self { db, waker, payment_timeout }
    }

    /// Runs one step: claim the message (if any), read the order, `decide`, write the change,
    /// the timeline entry and the messages, all in one transaction. Retries when another
    /// writer changed the order between the read and the write.
    async fn step<F>(&self, order_id: Uuid, message: Option<&Envelope>, mut decide: F) -> Result<Outcome, SagaError>
    where
        F: FnMut(&Order, &mut Emitter<'_>, DateTime<Utc>) -> Result<Step, SagaError>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let tx = db::begin_write(&self.db).await?;
            if let Some(message) = message
                && !inbox::claim(&tx, CONSUMER, message.id).await?
            {
                // Already handled: no second effect.
                tx.commit().await?;
                let order = store::load(&self.db, order_id).await?.ok_or(SagaError::UnknownOrder(order_id))?;
                return Ok(Outcome { order, changed: false });
            }
            let Some(before) = store::load(&tx, order_id).await? else {
                tx.rollback().await?;
                return Err(SagaError::UnknownOrder(order_id));
            };
            let now = Utc::now();
            let mut emitter = Emitter { order_id: order_id.to_string(), cause: message, messages: Vec::new() };
            let step = match decide(&before, &mut emitter, now) {
                Ok(step) => step,
                Err(error) => {
                    tx.rollback().await?;
                    return Err(error);
                }
            };
            let Some(mut after) = step.after else {
                // No change, but perhaps a compensation of a late reply.
                let sends = !emitter.messages.is_empty();
                outbox::enqueue(&tx, &emitter.messages).await?;
                tx.commit().await?;
                if sends {
                    self.waker.wake();
                }
                return Ok(Outcome { order: before, changed: false });
            };
            after.updated_at = now;
            after.version = before.version + 1;
            if !store::save(&tx, &before, &after).await? {
                tx.rollback().await?;
                continue;
            }
            let entry = TimelineEntry { status: after.status, at: now, note: step.note.clone() };
            store::append_event(&tx, order_id, &entry).await?;
            after.events.push(entry);
            emitter.emit(&OrderUpdated {
                order_id: order_id.to_string(),
                user_id: after.user_id.to_string(),
                status: after.status.as_str().to_owned(),
                payment_status: after.payment_status.as_str().to_owned(),
                at: now,
                note: step.note,
            })?;
            outbox::enqueue(&tx, &emitter.messages).await?;
            tx.commit().await?;
            self.waker.wake();
            if after.status != before.status {
                metrics::counter!("orders_saga_transitions_total", "to" => after.status.as_str()).increment(1);
                tracing::info!(%order_id, from = %before.status, to = %after.status, "order moved");
            }
            return Ok(Outcome { order: after, changed: true });
        }
        Err(SagaError::Contended)
    }

    /// A step in reply to `cause` about the order its payload names: the inbox claim of
    /// `cause` shares the step's transaction, and what the step sends replies to it.
    async fn reply<F>(&self, cause: &Envelope, order_id: &str, decide: F) -> Result<Outcome, SagaError>
    where
        F: FnMut(&Order, &mut Emitter<'_>, DateTime<Utc>) -> Result<Step, SagaError>,
    {
        let order_id = parse_order_id(order_id)?;
        self.step(order_id, Some(cause), decide).await
    }

    /// Inventory holds the stock: ask payments to authorize the total.
    pub async fn inventory_reserved(&self, cause: &Envelope, event: &InventoryReserved) -> Result<Outcome, SagaError> {
        let payment_timeout = self.payment_timeout;
        self.reply(cause, &event.order_id, |order, em, now| {
            on_reserved(order, event.expires_at, em, now, payment_timeout)
        })
        .await
    }

    /// Inventory cannot hold the stock: cancel, naming what is short.
    pub async fn inventory_rejected(&self, cause: &Envelope, event: &InventoryRejected) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| {
            let short: Vec<String> = event
                .shortages
                .iter()
                .map(|s| format!("{} ({} requested, {} available)", s.sku, s.requested, s.available.max(0)))
                .collect();
            let reason = format!("out of stock: {}", short.join(", "));
            cancel_if_allowed(order, Trigger::InventoryRejected, &reason, em)
        })
        .await
    }

    /// The stock reservation lapsed before the payment was settled: cancel.
    pub async fn inventory_expired(&self, cause: &Envelope, event: &InventoryExpired) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| {
            cancel_if_allowed(order, Trigger::InventoryExpired, "the stock reservation expired before payment", em)
        })
        .await
    }

    /// The payment is held: commit the stock (or void a late or wrong authorization).
    pub async fn payment_authorized(&self, cause: &Envelope, event: &PaymentAuthorized) -> Result<Outcome, SagaError> {
        let payment_timeout = self.payment_timeout;
        self.reply(cause, &event.order_id, |order, em, now| on_authorized(event, order, em, now, payment_timeout)).await
    }

    /// The paid order's units are its own: confirm it and capture the payment (or put the
    /// units back if the order was cancelled meanwhile).
    pub async fn inventory_committed(
        &self,
        cause: &Envelope,
        event: &InventoryCommitted,
    ) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| on_committed(order, em)).await
    }

    /// The paid order's hold had lapsed and its units were gone: cancel and void.
    pub async fn inventory_commit_failed(
        &self,
        cause: &Envelope,
        event: &InventoryCommitFailed,
    ) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| {
            let short: Vec<&str> = event.shortages.iter().map(|s| s.sku.as_str()).collect();
            let reason =
                format!("the stock held for this order lapsed before payment and is gone: {}", short.join(", "));
            cancel_if_allowed(order, Trigger::InventoryCommitFailed, &reason, em)
        })
        .await
    }

    /// The payment was refused: cancel (or only record it on an order already cancelled).
    pub async fn payment_failed(&self, cause: &Envelope, event: &PaymentFailed) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| on_payment_failed(event, order, em)).await
    }

    /// The payment was captured.
    pub async fn payment_captured(&self, cause: &Envelope, event: &PaymentCaptured) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, _, _| {
            let mut step = payment_fact(order, PaymentStatus::Captured, "Payment captured");
            if let Some(after) = step.after.as_mut() {
                after.payment_id = Some(event.payment_id.clone());
            }
            Ok(step)
        })
        .await
    }

    /// The provider refused the capture: the order must not ship unpaid, so it is cancelled,
    /// its units restocked and the authorization voided.
    pub async fn payment_capture_failed(
        &self,
        cause: &Envelope,
        event: &PaymentCaptureFailed,
    ) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, em, _| {
            let reason = format!("the payment could not be captured ({})", event.code);
            cancel_if_allowed(order, Trigger::PaymentCaptureFailed, &reason, em)
        })
        .await
    }

    /// The payment was voided.
    pub async fn payment_voided(&self, cause: &Envelope, event: &PaymentVoided) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, _, _| {
            Ok(payment_fact(order, PaymentStatus::Voided, "Payment voided"))
        })
        .await
    }

    /// Some or all of the payment was refunded.
    pub async fn payment_refunded(&self, cause: &Envelope, event: &PaymentRefunded) -> Result<Outcome, SagaError> {
        self.reply(cause, &event.order_id, |order, _, _| Ok(on_refunded(event, order))).await
    }

    /// Cancels an order for its owner (before shipping) or an admin. `reason` defaults to
    /// who cancelled.
    pub async fn cancel(
        &self,
        order_id: Uuid,
        actor: &Principal,
        reason: Option<String>,
    ) -> Result<Outcome, SagaError> {
        self.step(order_id, None, |order, em, _| {
            if !actor.may_access(order.user_id) {
                return Err(SagaError::Forbidden);
            }
            let t = transition(order.status, Trigger::Cancel)?;
            let by = if actor.user_id == order.user_id { "cancelled by the customer" } else { "cancelled by the shop" };
            let reason = reason.clone().unwrap_or_else(|| by.to_owned());
            cancel(order, t, &reason, em)
        })
        .await
    }

    /// Records that a confirmed order whose payment is captured left with the carrier.
    pub async fn ship(&self, order_id: Uuid, tracking_number: &str) -> Result<Outcome, SagaError> {
        self.step(order_id, None, |order, em, _| {
            let t = transition(order.status, Trigger::Ship)?;
            // Goods leave only once the money is taken (a capture can fail after confirmation).
            if order.payment_status != PaymentStatus::Captured {
                return Err(SagaError::PaymentNotCaptured(order.payment_status));
            }
            let mut after = order.clone();
            after.status = t.to;
            after.tracking_number = Some(tracking_number.to_owned());
            em.emit(&OrderShipped {
                order_id: order.id.to_string(),
                user_id: order.user_id.to_string(),
                tracking_number: tracking_number.to_owned(),
                summary: Some(summary(order)),
            })?;
            Ok(Step::change(after, format!("Shipped, tracking number {tracking_number}")))
        })
        .await
    }

    /// Records that a shipped order reached the customer.
    pub async fn deliver(&self, order_id: Uuid) -> Result<Outcome, SagaError> {
        self.step(order_id, None, |order, em, _| {
            let t = transition(order.status, Trigger::Deliver)?;
            let mut after = order.clone();
            after.status = t.to;
            em.emit(&OrderDelivered {
                order_id: order.id.to_string(),
                user_id: order.user_id.to_string(),
                summary: Some(summary(order)),
            })?;
            Ok(Step::change(after, "Delivered"))
        })
        .await
    }

    /// Cancels an order whose current step is past its deadline (no change otherwise, so
    /// several sweepers may race on the same order).
    pub async fn time_out(&self, order_id: Uuid) -> Result<Outcome, SagaError> {
        self.step(order_id, None, |order, em, now| {
            if order.deadline_at.is_none_or(|deadline| deadline >= now) {
                return Ok(Step::NOTHING);
            }
            let (trigger, reason) = match order.status {
                OrderStatus::Pending => (Trigger::PendingTimeout, "stock could not be reserved in time"),
                OrderStatus::AwaitingPayment if order.payment_status == PaymentStatus::Authorized => {
                    (Trigger::PaymentTimeout, "the stock could not be committed in time")
                }
                OrderStatus::AwaitingPayment => (Trigger::PaymentTimeout, "payment timeout"),
                _ => return Ok(Step::NOTHING),
            };
            cancel_if_allowed(order, trigger, reason, em)
        })
        .await
    }
}

/// The order's lines and totals as its announcements carry them.
fn summary(order: &Order) -> OrderSummary {
    OrderSummary {
        currency: order.currency.as_str().to_owned(),
        lines: order
            .lines
            .iter()
            .map(|line| OrderLineFact {
                product_id: line.product_id.clone(),
                sku: line.sku.clone(),
                product_name: line.product_name.clone(),
                variant_name: line.variant_name.clone(),
                quantity: line.quantity,
                unit_price_minor: line.unit_price_minor,
                line_subtotal_minor: line.line_subtotal_minor,
            })
            .collect(),
        subtotal_minor: order.subtotal_minor,
        shipping_minor: order.shipping_minor,
        tax_minor: order.tax_minor,
        total_minor: order.total_minor,
    }
}

fn parse_order_id(id: &str) -> Result<Uuid, SagaError> {
    Uuid::parse_str(id).map_err(|_| SagaError::Malformed(format!("order id {id} is not a UUID")))
}

/// Moves an order to CANCELLED and sends the compensation its transition owes, then
/// `OrderCancelled`.
fn cancel(order: &Order, t: Transition, reason: &str, em: &mut Emitter<'_>) -> Result<Step, SagaError> {
    let order_id = order.id.to_string();
    let mut after = order.clone();
    after.status = t.to;
    after.cancellation_reason = Some(reason.to_owned());
    after.payment_token = None;
    after.deadline_at = None;
    if t.compensation.release_stock {
        em.emit(&InventoryRelease { order_id: order_id.clone(), reason: reason.to_owned() })?;
    }
    if t.compensation.void_payment {
        em.emit(&PaymentVoid { order_id: order_id.clone(), reason: reason.to_owned() })?;
    }
    em.emit(&OrderCancelled {
        order_id,
        user_id: order.user_id.to_string(),
        reason: reason.to_owned(),
        summary: Some(summary(order)),
    })?;
    Ok(Step::change(after, format!("Cancelled: {reason}")))
}

/// [`cancel`] when the table allows `trigger` from the order's status; no effect otherwise.
fn cancel_if_allowed(order: &Order, trigger: Trigger, reason: &str, em: &mut Emitter<'_>) -> Result<Step, SagaError> {
    match transition(order.status, trigger) {
        Ok(t) => cancel(order, t, reason, em),
        Err(_) => Ok(Step::NOTHING),
    }
}

/// Stock is held: ask payments to authorize the total, and forget the payment token.
fn on_reserved(
    order: &Order,
    expires_at: DateTime<Utc>,
    em: &mut Emitter<'_>,
    now: DateTime<Utc>,
    payment_timeout: chrono::Duration,
) -> Result<Step, SagaError> {
    let Ok(t) = transition(order.status, Trigger::InventoryReserved) else {
        if late_compensation(order.status, Trigger::InventoryReserved).release_stock {
            em.emit(&InventoryRelease { order_id: order.id.to_string(), reason: "the order was cancelled".into() })?;
        }
        return Ok(Step::NOTHING);
    };
    let token = order
        .payment_token
        .clone()
        .ok_or_else(|| SagaError::Inconsistent(format!("order {} has no payment token", order.id)))?;
    let mut after = order.clone();
    after.status = t.to;
    after.payment_token = None;
    // The payment must settle while the stock is held: past the hold, the order cancels.
    after.deadline_at = Some((now + payment_timeout).min(expires_at));
    em.emit(&PaymentAuthorize {
        order_id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        amount_minor: order.total_minor,
        currency: order.currency.as_str().to_owned(),
        payment_token: token,
    })?;
    Ok(Step::change(after, "Stock reserved; authorizing the payment"))
}

/// The payment is held: commit the stock, and wait for inventory to confirm it is the
/// order's before confirming and capturing. An authorization of another amount than the
/// total cancels the order (release and void).
fn on_authorized(
    event: &PaymentAuthorized,
    order: &Order,
    em: &mut Emitter<'_>,
    now: DateTime<Utc>,
    payment_timeout: chrono::Duration,
) -> Result<Step, SagaError> {
    let order_id = order.id.to_string();
    let trigger = if event.amount_minor == order.total_minor {
        Trigger::PaymentAuthorized
    } else {
        Trigger::PaymentAmountMismatch
    };
    let Ok(t) = transition(order.status, trigger) else {
        if late_compensation(order.status, trigger).void_payment {
            em.emit(&PaymentVoid {
                order_id,
                reason: "the order was cancelled before the payment was authorized".into(),
            })?;
            if order.payment_status.may_become(PaymentStatus::Authorized) {
                let mut after = order.clone();
                after.payment_status = PaymentStatus::Authorized;
                after.payment_id = Some(event.payment_id.clone());
                return Ok(Step::change(after, "Payment authorized after cancellation; voiding it"));
            }
        }
        return Ok(Step::NOTHING);
    };
    if trigger == Trigger::PaymentAmountMismatch {
        tracing::error!(%order_id, authorized = event.amount_minor, total = order.total_minor, "authorized amount differs from the total; cancelling");
        let reason = "the payment was authorized for another amount than the order total";
        let mut step = cancel(order, t, reason, em)?;
        if let Some(after) = step.after.as_mut() {
            after.payment_status = PaymentStatus::Authorized;
            after.payment_id = Some(event.payment_id.clone());
        }
        return Ok(step);
    }
    if order.payment_status == PaymentStatus::Authorized {
        // The same authorization told twice: the commit is already on its way.
        return Ok(Step::NOTHING);
    }
    let mut after = order.clone();
    after.status = t.to;
    after.payment_status = PaymentStatus::Authorized;
    after.payment_id = Some(event.payment_id.clone());
    // Inventory must answer the commit in time, or the order cancels (releasing restocks
    // units a late commit took).
    after.deadline_at = Some(now + payment_timeout);
    em.emit(&InventoryCommit { order_id })?;
    Ok(Step::change(after, "Payment authorized; committing the stock"))
}

/// The paid order's units are its own: confirm and capture; a commit that reaches a
/// cancelled order gives the units back.
fn on_committed(order: &Order, em: &mut Emitter<'_>) -> Result<Step, SagaError> {
    let order_id = order.id.to_string();
    let Ok(t) = transition(order.status, Trigger::InventoryCommitted) else {
        if late_compensation(order.status, Trigger::InventoryCommitted).release_stock {
            em.emit(&InventoryRelease {
                order_id,
                reason: "the order was cancelled while its stock was committed".into(),
            })?;
        }
        return Ok(Step::NOTHING);
    };
    let mut after = order.clone();
    after.status = t.to;
    after.deadline_at = None;
    em.emit(&PaymentCapture { order_id: order_id.clone() })?;
    em.emit(&OrderConfirmed {
        order_id,
        user_id: order.user_id.to_string(),
        total_minor: order.total_minor,
        currency: order.currency.as_str().to_owned(),
        summary: Some(summary(order)),
    })?;
    Ok(Step::change(after, "Stock committed; order confirmed"))
}

/// The payment was refused: cancel and release the stock.
fn on_payment_failed(event: &PaymentFailed, order: &Order, em: &mut Emitter<'_>) -> Result<Step, SagaError> {
    match transition(order.status, Trigger::PaymentFailed) {
        Ok(t) => {
            let mut step = cancel(order, t, &format!("payment failed ({}): {}", event.code, event.reason), em)?;
            if let Some(after) = step.after.as_mut() {
                after.payment_status = PaymentStatus::Failed;
            }
            Ok(step)
        }
        // Already cancelled (e.g. timed out): only record what happened to the payment.
        Err(_) => Ok(payment_fact(order, PaymentStatus::Failed, format!("Payment failed ({})", event.code))),
    }
}

fn on_refunded(event: &PaymentRefunded, order: &Order) -> Step {
    if event.refunded_total_minor <= order.refunded_minor {
        return Step::NOTHING;
    }
    let next = if event.refunded_total_minor >= order.total_minor {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    };
    if !order.payment_status.may_become(next) {
        return Step::NOTHING;
    }
    let mut after = order.clone();
    after.payment_status = next;
    after.refunded_minor = event.refunded_total_minor;
    let amount = order.money(event.amount_minor);
    let total = order.money(event.refunded_total_minor);
    Step::change(
        after,
        format!("Refunded {} {} ({} {} in all)", amount.amount(), event.currency, total.amount(), event.currency),
    )
}

/// A fact about the payment that does not move the order: recorded when it moves the payment
/// forward, ignored when late or repeated.
fn payment_fact(order: &Order, next: PaymentStatus, note: impl Into<String>) -> Step {
    if !order.payment_status.may_become(next) {
        return Step::NOTHING;
    }
    let mut after = order.clone();
    after.payment_status = next;
    Step::change(after, note)
}
