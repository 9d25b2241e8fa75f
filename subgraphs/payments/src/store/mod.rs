//! Payments persistence: one sea-orm implementation that runs on PostgreSQL (production) and
//! SQLite (embedded); the tests run against both.
//!
//! Every write is one short transaction that never waits on the provider: callers ask the
//! provider first and then record what it answered, together with the inbox entry of the
//! message that caused it and the outbox messages that announce it.

mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use shop_kernel::{CurrencyCode, db};
use shop_messaging::{Envelope, inbox, outbox};
use shop_payments_migration::{Migrator, MigratorTrait};
use uuid::Uuid;

use self::entity::{operation, payment, refund};
use crate::domain::{FailureCode, Operation, Payment, PaymentStatus, Refund, RefundStatus};

/// This store has no outcomes of its own beyond the store failing.
pub type StoreError = shop_kernel::store::StoreFailure;

/// A message being handled, recorded in the inbox in the same transaction as its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The consumer handling it.
    pub consumer: &'static str,
    /// The message's id.
    pub message_id: Uuid,
}

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// It was written.
    Done,
    /// The message was processed before: nothing was written.
    Duplicate,
    /// A concurrent writer got there first (a unique key or a status changed meanwhile):
    /// nothing was written; read the current state and answer from it.
    Conflict,
}

/// A provider call to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperation {
    pub operation: Operation,
    /// The key the provider got.
    pub idempotency_key: String,
    pub amount_minor: i64,
    /// `SUCCEEDED`, `PENDING` (refund in flight) or a failure code.
    pub outcome: String,
    pub provider_reference: Option<String>,
}

/// A recorded provider call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    pub operation: Operation,
    pub idempotency_key: String,
    pub amount_minor: i64,
    pub outcome: String,
    pub provider_reference: Option<String>,
}

/// The outcome of holding a refund's amount against its payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// Held; the payment as it is now.
    Done(Payment),
    /// More than may still be refunded (a concurrent refund may have taken it).
    Exceeds,
    /// A refund with this idempotency key exists already.
    KeyTaken,
}

/// What the provider did with a pending refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundResult {
    /// Refunded: the refund succeeds.
    Succeeded { provider_reference: String },
    /// Refused: the refund fails and its amount is refundable again.
    Refused(FailureCode),
}

/// The payments database.
#[derive(Clone)]
pub struct PaymentStore {
    db: DatabaseConnection,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

fn parse_id(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|_| corrupt("id", id))
}

fn parse_code(code: Option<&str>) -> Result<Option<FailureCode>, StoreError> {
    code.map(|c| FailureCode::parse(c).ok_or_else(|| corrupt("failure code", c))).transpose()
}

fn to_payment(row: payment::Model) -> Result<Payment, StoreError> {
    Ok(Payment {
        id: parse_id(&row.id)?,
        currency: CurrencyCode::parse(&row.currency).ok_or_else(|| corrupt("currency", &row.currency))?,
        status: PaymentStatus::parse(&row.status).ok_or_else(|| corrupt("payment status", &row.status))?,
        failure_code: parse_code(row.failure_code.as_deref())?,
        order_id: row.order_id,
        user_id: row.user_id,
        amount_minor: row.amount_minor,
        authorized_minor: row.authorized_minor,
        captured_minor: row.captured_minor,
        refunded_minor: row.refunded_minor,
        provider_reference: row.provider_reference,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn to_refund(row: refund::Model) -> Result<Refund, StoreError> {
    Ok(Refund {
        id: parse_id(&row.id)?,
        payment_id: parse_id(&row.payment_id)?,
        status: RefundStatus::parse(&row.status).ok_or_else(|| corrupt("refund status", &row.status))?,
        failure_code: parse_code(row.failure_code.as_deref())?,
        order_id: row.order_id,
        amount_minor: row.amount_minor,
        reason: row.reason,
        idempotency_key: row.idempotency_key,
        provider_reference: row.provider_reference,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn payment_row(p: &Payment) -> payment::ActiveModel {
    payment::ActiveModel {
        id: Set(p.id.to_string()),
        order_id: Set(p.order_id.clone()),
        user_id: Set(p.user_id.clone()),
        currency: Set(p.currency.as_str().to_owned()),
        amount_minor: Set(p.amount_minor),
        authorized_minor: Set(p.authorized_minor),
        captured_minor: Set(p.captured_minor),
        refunded_minor: Set(p.refunded_minor),
        status: Set(p.status.as_str().to_owned()),
        failure_code: Set(p.failure_code.map(|c| c.as_str().to_owned())),
        provider_reference: Set(p.provider_reference.clone()),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
        lease_holder: Set(None),
        lease_until: Set(None),
    }
}

fn operation_row(payment: &Payment, op: &NewOperation, now: DateTime<Utc>) -> operation::ActiveModel {
    operation::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        payment_id: Set(payment.id.to_string()),
        order_id: Set(payment.order_id.clone()),
        operation: Set(op.operation.as_str().to_owned()),
        idempotency_key: Set(op.idempotency_key.clone()),
        amount_minor: Set(op.amount_minor),
        outcome: Set(op.outcome.clone()),
        provider_reference: Set(op.provider_reference.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Claims `claim` in `tx` when there is one; `false` when it was processed before.
async fn claimed(tx: &DatabaseTransaction, claim: Option<&Claim>) -> Result<bool, DbErr> {
    match claim {
        Some(claim) => inbox::claim(tx, claim.consumer, claim.message_id).await,
        None => Ok(true),
    }
}

/// Passes `tx` on after inserts that worked; after a unique violation, rolls it back and
/// returns `None` (a concurrent writer got there first).
async fn unless_conflict(
    tx: DatabaseTransaction,
    inserted: Result<(), DbErr>,
) -> Result<Option<DatabaseTransaction>, StoreError> {
    match inserted {
        Ok(()) => Ok(Some(tx)),
        Err(error) if db::is_unique_violation(&error) => {
            tx.rollback().await?;
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// What [`PaymentStore::lease`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds the lease now.
    Held,
    /// Another command holds an unexpired lease.
    Busy,
    /// The order has no payment to lease.
    NoPayment,
}

impl PaymentStore {
    /// Opens the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let db = db::connect(url, max_connections).await?;
        Migrator::up(&db, None).await?;
        Ok(Self { db })
    }

    /// The connection pool (the outbox relay publishes from it).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// The payment of an order, if any.
    pub async fn by_order(&self, order_id: &str) -> Result<Option<Payment>, StoreError> {
        payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order_id))
            .one(&self.db)
            .await?
            .map(to_payment)
            .transpose()
    }

    /// The payments of the given orders that exist (in any order).
    pub async fn by_orders(&self, order_ids: &[String]) -> Result<Vec<Payment>, StoreError> {
        let rows =
            payment::Entity::find().filter(payment::Column::OrderId.is_in(order_ids.to_vec())).all(&self.db).await?;
        rows.into_iter().map(to_payment).collect()
    }

    /// The payments with the given ids that exist (in any order).
    pub async fn by_ids(&self, ids: &[Uuid]) -> Result<Vec<Payment>, StoreError> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let rows = payment::Entity::find().filter(payment::Column::Id.is_in(ids)).all(&self.db).await?;
        rows.into_iter().map(to_payment).collect()
    }

    /// The refunds of the given payments, oldest first.
    pub async fn refunds_of(&self, payment_ids: &[Uuid]) -> Result<Vec<Refund>, StoreError> {
        let ids: Vec<String> = payment_ids.iter().map(Uuid::to_string).collect();
        let rows = refund::Entity::find()
            .filter(refund::Column::PaymentId.is_in(ids))
            .order_by_asc(refund::Column::CreatedAt)
            .order_by_asc(refund::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_refund).collect()
    }

    /// The refund of a payment made under an idempotency key, if any.
    pub async fn refund_by_key(&self, payment_id: Uuid, key: &str) -> Result<Option<Refund>, StoreError> {
        refund::Entity::find()
            .filter(refund::Column::PaymentId.eq(payment_id.to_string()))
            .filter(refund::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?
            .map(to_refund)
            .transpose()
    }

    /// The provider calls recorded for an order, oldest first.
    pub async fn operations(&self, order_id: &str) -> Result<Vec<OperationRecord>, StoreError> {
        let rows = operation::Entity::find()
            .filter(operation::Column::OrderId.eq(order_id))
            .order_by_asc(operation::Column::CreatedAt)
            .order_by_asc(operation::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(OperationRecord {
                    operation: Operation::parse(&row.operation).ok_or_else(|| corrupt("operation", &row.operation))?,
                    idempotency_key: row.idempotency_key,
                    amount_minor: row.amount_minor,
                    outcome: row.outcome,
                    provider_reference: row.provider_reference,
                })
            })
            .collect()
    }

    /// Records that `claim` was handled by sending `messages`, and nothing else.
    pub async fn acknowledge(&self, claim: &Claim, messages: &[Envelope]) -> Result<Written, StoreError> {
        let tx = db::begin_write(&self.db).await?;
        if !claimed(&tx, Some(claim)).await? {
            tx.commit().await?;
            return Ok(Written::Duplicate);
        }
        outbox::enqueue(&tx, messages).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }

    /// Records a new payment with the authorization that made it (succeeded or not), the
    /// message that asked for it and the messages announcing it, atomically. `Conflict` when
    /// the order has a payment already.
    pub async fn record_authorization(
        &self,
        claim: &Claim,
        payment: &Payment,
        op: &NewOperation,
        messages: &[Envelope],
    ) -> Result<Written, StoreError> {
        let tx = db::begin_write(&self.db).await?;
        if !claimed(&tx, Some(claim)).await? {
            tx.commit().await?;
            return Ok(Written::Duplicate);
        }
        let row = payment_row(payment);
        let operation = operation_row(payment, op, payment.created_at);
        let inserted = async {
            payment::Entity::insert(row).exec_without_returning(&tx).await?;
            operation::Entity::insert(operation).exec_without_returning(&tx).await.map(|_| ())
        }
        .await;
        let Some(tx) = unless_conflict(tx, inserted).await? else { return Ok(Written::Conflict) };
        outbox::enqueue(&tx, messages).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }

    /// Takes the lease on the order's payment for `holder` until `until`, unless another
    /// command holds an unexpired one: one command at a time talks to the provider about a
    /// payment. A holder that crashed loses it when it expires.
    pub async fn lease(&self, order_id: &str, holder: Uuid, until: DateTime<Utc>) -> Result<Lease, StoreError> {
        let now = Utc::now();
        let taken = payment::Entity::update_many()
            .col_expr(payment::Column::LeaseHolder, Expr::value(holder.to_string()))
            .col_expr(payment::Column::LeaseUntil, Expr::value(until))
            .filter(payment::Column::OrderId.eq(order_id))
            .filter(
                Condition::any()
                    .add(payment::Column::LeaseUntil.is_null())
                    .add(payment::Column::LeaseUntil.lt(now))
                    .add(payment::Column::LeaseHolder.eq(holder.to_string())),
            )
            .exec(&self.db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Lease::Held);
        }
        let exists = payment::Entity::find().filter(payment::Column::OrderId.eq(order_id)).one(&self.db).await?;
        Ok(if exists.is_some() { Lease::Busy } else { Lease::NoPayment })
    }

    /// Gives the lease back if `holder` still has it.
    pub async fn release_lease(&self, order_id: &str, holder: Uuid) -> Result<(), StoreError> {
        payment::Entity::update_many()
            .col_expr(payment::Column::LeaseHolder, Expr::value(Option::<String>::None))
            .col_expr(payment::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(payment::Column::OrderId.eq(order_id))
            .filter(payment::Column::LeaseHolder.eq(holder.to_string()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Moves `payment` to `to` (a capture sets `captured_minor`), with the provider call that
    /// did it, atomically. `Conflict` when the payment left its status meanwhile or the
    /// operation was recorded already.
    pub async fn record_transition(
        &self,
        claim: &Claim,
        payment: &Payment,
        to: PaymentStatus,
        captured_minor: i64,
        op: &NewOperation,
        messages: &[Envelope],
    ) -> Result<Written, StoreError> {
        if !payment.status.can_become(to) {
            return Ok(Written::Conflict);
        }
        let now = Utc::now();
        let tx = db::begin_write(&self.db).await?;
        if !claimed(&tx, Some(claim)).await? {
            tx.commit().await?;
            return Ok(Written::Duplicate);
        }
        let moved = payment::Entity::update_many()
            .col_expr(payment::Column::Status, Expr::value(to.as_str()))
            .col_expr(payment::Column::CapturedMinor, Expr::value(captured_minor))
            .col_expr(payment::Column::UpdatedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(payment.id.to_string()))
            .filter(payment::Column::Status.eq(payment.status.as_str()))
            .exec(&tx)
            .await?;
        if moved.rows_affected == 0 {
            tx.rollback().await?;
            return Ok(Written::Conflict);
        }
        let operation = operation_row(payment, op, now);
        let inserted = operation::Entity::insert(operation).exec_without_returning(&tx).await.map(|_| ());
        let Some(tx) = unless_conflict(tx, inserted).await? else { return Ok(Written::Conflict) };
        outbox::enqueue(&tx, messages).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }

    /// Holds `refund.amount_minor` against its payment (only if it still fits under what was
    /// captured) and records the refund as pending, with its provider call, atomically.
    pub async fn reserve_refund(&self, refund: &Refund, op: &NewOperation) -> Result<Reserved, StoreError> {
        let now = refund.created_at;
        let tx = db::begin_write(&self.db).await?;
        let held = payment::Entity::update_many()
            .col_expr(
                payment::Column::RefundedMinor,
                Expr::col(payment::Column::RefundedMinor).add(refund.amount_minor),
            )
            .col_expr(payment::Column::UpdatedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(refund.payment_id.to_string()))
            .filter(
                payment::Column::Status
                    .is_in([PaymentStatus::Captured.as_str(), PaymentStatus::PartiallyRefunded.as_str()]),
            )
            .filter(
                Expr::col(payment::Column::RefundedMinor)
                    .add(refund.amount_minor)
                    .lte(Expr::col(payment::Column::CapturedMinor)),
            )
            .exec(&tx)
            .await?;
        if held.rows_affected == 0 {
            tx.rollback().await?;
            return Ok(Reserved::Exceeds);
        }
        let payment = settle_status(&tx, refund.payment_id, now).await?;
        let row = refund::ActiveModel {
            id: Set(refund.id.to_string()),
            payment_id: Set(refund.payment_id.to_string()),
            order_id: Set(refund.order_id.clone()),
            amount_minor: Set(refund.amount_minor),
            reason: Set(refund.reason.clone()),
            idempotency_key: Set(refund.idempotency_key.clone()),
            status: Set(RefundStatus::Pending.as_str().to_owned()),
            failure_code: Set(None),
            provider_reference: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let operation = operation_row(&payment, op, now);
        let inserted = async {
            refund::Entity::insert(row).exec_without_returning(&tx).await?;
            operation::Entity::insert(operation).exec_without_returning(&tx).await.map(|_| ())
        }
        .await;
        let Some(tx) = unless_conflict(tx, inserted).await? else { return Ok(Reserved::KeyTaken) };
        tx.commit().await?;
        Ok(Reserved::Done(payment))
    }

    /// Finishes a pending refund with what the provider did: success records the provider's
    /// reference and sends `messages` (with `claim`, when a message asked for the refund);
    /// a refusal gives the held amount back. `Conflict` when it was finished already.
    pub async fn complete_refund(
        &self,
        refund: &Refund,
        provider_key: &str,
        result: &RefundResult,
        claim: Option<&Claim>,
        messages: &[Envelope],
    ) -> Result<Written, StoreError> {
        let now = Utc::now();
        let tx = db::begin_write(&self.db).await?;
        if !claimed(&tx, claim).await? {
            tx.commit().await?;
            return Ok(Written::Duplicate);
        }
        let (status, code, reference) = match result {
            RefundResult::Succeeded { provider_reference } => {
                (RefundStatus::Succeeded, None, Some(provider_reference.clone()))
            }
            RefundResult::Refused(code) => (RefundStatus::Failed, Some(code.as_str()), None),
        };
        let finished = refund::Entity::update_many()
            .col_expr(refund::Column::Status, Expr::value(status.as_str()))
            .col_expr(refund::Column::FailureCode, Expr::value(code))
            .col_expr(refund::Column::ProviderReference, Expr::value(reference.clone()))
            .col_expr(refund::Column::UpdatedAt, Expr::value(now))
            .filter(refund::Column::Id.eq(refund.id.to_string()))
            .filter(refund::Column::Status.eq(RefundStatus::Pending.as_str()))
            .exec(&tx)
            .await?;
        if finished.rows_affected == 0 {
            tx.rollback().await?;
            return Ok(Written::Conflict);
        }
        operation::Entity::update_many()
            .col_expr(operation::Column::Outcome, Expr::value(code.unwrap_or("SUCCEEDED")))
            .col_expr(operation::Column::ProviderReference, Expr::value(reference))
            .col_expr(operation::Column::UpdatedAt, Expr::value(now))
            .filter(operation::Column::OrderId.eq(refund.order_id.clone()))
            .filter(operation::Column::Operation.eq(Operation::Refund.as_str()))
            .filter(operation::Column::IdempotencyKey.eq(provider_key))
            .exec(&tx)
            .await?;
        if status == RefundStatus::Failed {
            payment::Entity::update_many()
                .col_expr(
                    payment::Column::RefundedMinor,
                    Expr::col(payment::Column::RefundedMinor).sub(refund.amount_minor),
                )
                .filter(payment::Column::Id.eq(refund.payment_id.to_string()))
                .exec(&tx)
                .await?;
            settle_status(&tx, refund.payment_id, now).await?;
        }
        outbox::enqueue(&tx, messages).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }
}

/// Sets a captured payment's status from its refunded total; returns the payment.
async fn settle_status(tx: &DatabaseTransaction, payment_id: Uuid, now: DateTime<Utc>) -> Result<Payment, StoreError> {
    let row = payment::Entity::find_by_id(payment_id.to_string())
        .one(tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("payment {payment_id} vanished mid-transaction")))?;
    let mut payment = to_payment(row)?;
    let status = PaymentStatus::after_refunds(payment.captured_minor, payment.refunded_minor);
    if status != payment.status {
        payment::Entity::update_many()
            .col_expr(payment::Column::Status, Expr::value(status.as_str()))
            .col_expr(payment::Column::UpdatedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(payment_id.to_string()))
            .exec(tx)
            .await?;
        payment.status = status;
        payment.updated_at = now;
    }
    Ok(payment)
}
