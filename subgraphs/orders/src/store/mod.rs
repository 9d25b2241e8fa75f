//! Orders persistence: one sea-orm implementation that runs on PostgreSQL (production) and
//! SQLite (embedded), over the same migrations.
//!
//! Reads go through [`OrdersStore`]. Writes that must commit together with messages (the
//! saga, the admin mutations, the sweeper) use the free functions [`load`], [`save`] and
//! [`append_event`] inside the caller's transaction; [`save`] is conditional on the status
//! and version the caller read, so concurrent writers (replicas, the sweeper and a message
//! handler) never both apply a change.

mod entity;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use shop_kernel::{CurrencyCode, db};
use shop_messaging::{Envelope, outbox};
use shop_orders_migration::{Migrator, MigratorTrait};
use uuid::Uuid;

use self::entity::{event, line, order};
use crate::domain::{Order, OrderLine, OrderStatus, PaymentStatus, PostalAddress, TimelineEntry};

/// This store has no outcomes of its own beyond the store failing.
pub type StoreError = shop_kernel::store::StoreFailure;

/// Why a new order was not stored.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The user already has an order with this idempotency key (a concurrent duplicate won).
    #[error("an order with this idempotency key exists")]
    DuplicateKey,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The orders database.
#[derive(Clone)]
pub struct OrdersStore {
    db: DatabaseConnection,
}

impl OrdersStore {
    /// Opens the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let db = db::connect(url, max_connections).await?;
        Self::open(db).await
    }

    /// Brings the schema of an open database up to date.
    pub async fn open(db: DatabaseConnection) -> Result<Self, StoreError> {
        Migrator::up(&db, None).await?;
        Ok(Self { db })
    }

    /// The connection pool, for transactions that span the store and the outbox.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// An order by id.
    pub async fn get(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        load(&self.db, id).await
    }

    /// Orders by id, in any order; unknown ids are left out. Three queries whatever the count.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<Order>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = order::Entity::find()
            .filter(order::Column::Id.is_in(ids.iter().map(Uuid::to_string)))
            .all(&self.db)
            .await?;
        assemble(&self.db, rows).await
    }

    /// The user's order placed with `idempotency_key`, if any.
    pub async fn by_idempotency_key(&self, user_id: Uuid, idempotency_key: &str) -> Result<Option<Order>, StoreError> {
        let row = order::Entity::find()
            .filter(order::Column::UserId.eq(user_id.to_string()))
            .filter(order::Column::IdempotencyKey.eq(idempotency_key))
            .one(&self.db)
            .await?;
        Ok(assemble(&self.db, row.into_iter().collect()).await?.into_iter().next())
    }

    /// A page of the user's orders, newest first.
    pub async fn of_user(&self, user_id: Uuid, offset: u64, limit: u64) -> Result<Vec<Order>, StoreError> {
        let rows = order::Entity::find()
            .filter(order::Column::UserId.eq(user_id.to_string()))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        assemble(&self.db, rows).await
    }

    /// Stores a new order, its first timeline entry and `messages` in the outbox, in one
    /// transaction.
    pub async fn insert(&self, order: &Order, messages: &[Envelope]) -> Result<(), InsertError> {
        let tx = db::begin_write(&self.db).await.map_err(StoreError::from)?;
        if let Err(error) = order::Entity::insert(to_row(order)?).exec_without_returning(&tx).await {
            tx.rollback().await.map_err(StoreError::from)?;
            return Err(if db::is_unique_violation(&error) {
                InsertError::DuplicateKey
            } else {
                StoreError::from(error).into()
            });
        }
        let lines: Vec<line::ActiveModel> = order
            .lines
            .iter()
            .zip(0_i32..)
            .map(|(l, position)| line::ActiveModel {
                order_id: Set(order.id.to_string()),
                position: Set(position),
                product_id: Set(l.product_id.clone()),
                sku: Set(l.sku.clone()),
                product_name: Set(l.product_name.clone()),
                variant_name: Set(l.variant_name.clone()),
                quantity: Set(l.quantity),
                unit_price_minor: Set(l.unit_price_minor),
                line_subtotal_minor: Set(l.line_subtotal_minor),
                tax_minor: Set(l.tax_minor),
            })
            .collect();
        line::Entity::insert_many(lines).exec_without_returning(&tx).await.map_err(StoreError::from)?;
        for entry in &order.events {
            append_event(&tx, order.id, entry).await?;
        }
        outbox::enqueue(&tx, messages).await.map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Orders whose current step is past its deadline (PENDING or AWAITING_PAYMENT), most
    /// overdue first.
    pub async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Uuid>, StoreError> {
        let rows: Vec<String> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::Status.is_in([OrderStatus::Pending.as_str(), OrderStatus::AwaitingPayment.as_str()]))
            .filter(order::Column::DeadlineAt.lt(now))
            .order_by_asc(order::Column::DeadlineAt)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.iter().map(|id| parse_uuid(id)).collect()
    }
}

/// An order by id, read through `conn` (a transaction or the pool).
pub async fn load<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Order>, StoreError> {
    let row = order::Entity::find_by_id(id.to_string()).one(conn).await?;
    Ok(assemble(conn, row.into_iter().collect()).await?.into_iter().next())
}

/// Writes the changed fields of `after` if the order is still as `before` was read (same
/// status, same version); bumps the version. `false` when someone else changed it first.
pub async fn save<C: ConnectionTrait>(conn: &C, before: &Order, after: &Order) -> Result<bool, StoreError> {
    let updated = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(after.status.as_str()))
        .col_expr(order::Column::PaymentStatus, Expr::value(after.payment_status.as_str()))
        .col_expr(order::Column::PaymentToken, Expr::value(after.payment_token.clone()))
        .col_expr(order::Column::PaymentId, Expr::value(after.payment_id.clone()))
        .col_expr(order::Column::RefundedMinor, Expr::value(after.refunded_minor))
        .col_expr(order::Column::TrackingNumber, Expr::value(after.tracking_number.clone()))
        .col_expr(order::Column::CancellationReason, Expr::value(after.cancellation_reason.clone()))
        .col_expr(order::Column::DeadlineAt, Expr::value(after.deadline_at))
        .col_expr(order::Column::Version, Expr::value(before.version + 1))
        .col_expr(order::Column::UpdatedAt, Expr::value(after.updated_at))
        .filter(order::Column::Id.eq(before.id.to_string()))
        .filter(order::Column::Status.eq(before.status.as_str()))
        .filter(order::Column::Version.eq(before.version))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Adds an entry to an order's timeline.
pub async fn append_event<C: ConnectionTrait>(
    conn: &C,
    order_id: Uuid,
    entry: &TimelineEntry,
) -> Result<(), StoreError> {
    let row = event::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        order_id: Set(order_id.to_string()),
        status: Set(entry.status.as_str().to_owned()),
        note: Set(entry.note.clone()),
        at: Set(entry.at),
    };
    event::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

fn to_row(order: &Order) -> Result<order::ActiveModel, StoreError> {
    let address = serde_json::to_string(&order.shipping_address).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(order::ActiveModel {
        id: Set(order.id.to_string()),
        user_id: Set(order.user_id.to_string()),
        idempotency_key: Set(order.idempotency_key.clone()),
        request_hash: Set(order.request_hash.clone()),
        status: Set(order.status.as_str().to_owned()),
        payment_status: Set(order.payment_status.as_str().to_owned()),
        currency: Set(order.currency.as_str().to_owned()),
        subtotal_minor: Set(order.subtotal_minor),
        shipping_minor: Set(order.shipping_minor),
        tax_minor: Set(order.tax_minor),
        total_minor: Set(order.total_minor),
        tax_rate_bp: Set(i32::try_from(order.tax_rate_bp).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        shipping_address: Set(address),
        payment_token: Set(order.payment_token.clone()),
        payment_id: Set(order.payment_id.clone()),
        refunded_minor: Set(order.refunded_minor),
        tracking_number: Set(order.tracking_number.clone()),
        cancellation_reason: Set(order.cancellation_reason.clone()),
        deadline_at: Set(order.deadline_at),
        version: Set(order.version),
        created_at: Set(order.created_at),
        updated_at: Set(order.updated_at),
    })
}

fn parse_uuid(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id {id}: {e}")))
}

fn parse_status(name: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(name).ok_or_else(|| StoreError::Corrupt(format!("unknown order status {name}")))
}

/// Orders from their rows, with their lines and timelines (two more queries in all).
async fn assemble<C: ConnectionTrait>(conn: &C, rows: Vec<order::Model>) -> Result<Vec<Order>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::new();
    for l in line::Entity::find()
        .filter(line::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(line::Column::OrderId)
        .order_by_asc(line::Column::Position)
        .all(conn)
        .await?
    {
        lines.entry(l.order_id).or_default().push(OrderLine {
            product_id: l.product_id,
            sku: l.sku,
            product_name: l.product_name,
            variant_name: l.variant_name,
            quantity: l.quantity,
            unit_price_minor: l.unit_price_minor,
            line_subtotal_minor: l.line_subtotal_minor,
            tax_minor: l.tax_minor,
        });
    }
    let mut events: HashMap<String, Vec<TimelineEntry>> = HashMap::new();
    for e in event::Entity::find()
        .filter(event::Column::OrderId.is_in(ids))
        .order_by_asc(event::Column::OrderId)
        .order_by_asc(event::Column::Id)
        .all(conn)
        .await?
    {
        events.entry(e.order_id).or_default().push(TimelineEntry {
            status: parse_status(&e.status)?,
            at: e.at,
            note: e.note,
        });
    }
    rows.into_iter()
        .map(|row| {
            let shipping_address: PostalAddress =
                serde_json::from_str(&row.shipping_address).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Order {
                id: parse_uuid(&row.id)?,
                user_id: parse_uuid(&row.user_id)?,
                status: parse_status(&row.status)?,
                payment_status: PaymentStatus::parse(&row.payment_status)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown payment status {}", row.payment_status)))?,
                currency: CurrencyCode::parse(&row.currency)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown currency {}", row.currency)))?,
                lines: lines.remove(&row.id).unwrap_or_default(),
                events: events.remove(&row.id).unwrap_or_default(),
                shipping_address,
                idempotency_key: row.idempotency_key,
                request_hash: row.request_hash,
                subtotal_minor: row.subtotal_minor,
                shipping_minor: row.shipping_minor,
                tax_minor: row.tax_minor,
                total_minor: row.total_minor,
                tax_rate_bp: u32::try_from(row.tax_rate_bp).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                payment_token: row.payment_token,
                payment_id: row.payment_id,
                refunded_minor: row.refunded_minor,
                tracking_number: row.tracking_number,
                cancellation_reason: row.cancellation_reason,
                deadline_at: row.deadline_at,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}
