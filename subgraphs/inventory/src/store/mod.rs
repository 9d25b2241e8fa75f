//! Inventory persistence: one sea-orm implementation that runs on PostgreSQL (production)
//! and SQLite (embedded); the contract tests run against both.

mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use shop_inventory_migration::{Migrator, MigratorTrait};
use shop_kernel::db;
use shop_messaging::{Envelope, outbox};
use uuid::Uuid;

/// One row of a SKU's audit trail, as [`InventoryStore::adjustments`] returns it.
pub use self::entity::adjustment::Model as AdjustmentRecord;
use self::entity::{adjustment, reservation, reservation_line, stock};
use crate::domain::{Adjustment, Line, Reservation, ReservationRequest, ReservationStatus, Shortage, StockLevel};

/// This store has no outcomes of its own beyond the store failing.
pub type StoreError = shop_kernel::store::StoreFailure;

/// Why stock could not be reserved.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// Some lines lack stock; nothing was reserved.
    #[error("insufficient stock")]
    Insufficient(Vec<Shortage>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a reservation could not move to a final state.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no reservation for this order")]
    NotFound,
    /// It is already in another final state.
    #[error("reservation is {} and cannot become {}", .from.as_str(), .to.as_str())]
    Invalid { from: ReservationStatus, to: ReservationStatus },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an adjustment was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdjustError {
    /// The SKU has no stock record and the delta is negative.
    #[error("no stock recorded for this SKU")]
    UnknownSku,
    /// The result would be negative or below the reserved units.
    #[error("only {available} units can be removed")]
    WouldGoBelowReserved { available: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The inventory database.
#[derive(Clone)]
pub struct InventoryStore {
    db: DatabaseConnection,
}

fn to_level(row: stock::Model) -> StockLevel {
    StockLevel { sku: row.sku, on_hand: row.on_hand, reserved: row.reserved }
}

impl InventoryStore {
    /// Opens the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let db = db::connect(url, max_connections).await?;
        Migrator::up(&db, None).await?;
        Ok(Self { db })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// Stock of each SKU that has a record (in any order).
    pub async fn stock_levels(&self, skus: &[String]) -> Result<Vec<StockLevel>, StoreError> {
        let rows = stock::Entity::find().filter(stock::Column::Sku.is_in(skus.to_vec())).all(&self.db).await?;
        Ok(rows.into_iter().map(to_level).collect())
    }

    /// Sets the stock of a SKU if it has no record yet (seeding; idempotent).
    pub async fn seed(&self, sku: &str, on_hand: i64) -> Result<(), StoreError> {
        let row = stock::ActiveModel {
            sku: Set(sku.to_owned()),
            on_hand: Set(on_hand),
            reserved: Set(0),
            updated_at: Set(Utc::now()),
        };
        stock::Entity::insert(row)
            .on_conflict(OnConflict::column(stock::Column::Sku).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Applies an adjustment and records it in the audit trail, atomically.
    pub async fn adjust(&self, adjustment: &Adjustment) -> Result<StockLevel, AdjustError> {
        let now = Utc::now();
        let tx = db::begin_write(&self.db).await.map_err(StoreError::from)?;
        if adjustment.delta > 0 {
            let row = stock::ActiveModel {
                sku: Set(adjustment.sku.clone()),
                on_hand: Set(adjustment.delta),
                reserved: Set(0),
                updated_at: Set(now),
            };
            stock::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(stock::Column::Sku)
                        .value(
                            stock::Column::OnHand,
                            Expr::col((stock::Entity, stock::Column::OnHand)).add(adjustment.delta),
                        )
                        .value(stock::Column::UpdatedAt, now)
                        .to_owned(),
                )
                .exec_without_returning(&tx)
                .await
                .map_err(StoreError::from)?;
        } else {
            let updated = stock::Entity::update_many()
                .col_expr(stock::Column::OnHand, Expr::col(stock::Column::OnHand).add(adjustment.delta))
                .col_expr(stock::Column::UpdatedAt, Expr::value(now))
                .filter(stock::Column::Sku.eq(adjustment.sku.clone()))
                .filter(Expr::col(stock::Column::OnHand).add(adjustment.delta).gte(Expr::col(stock::Column::Reserved)))
                .exec(&tx)
                .await
                .map_err(StoreError::from)?;
            if updated.rows_affected == 0 {
                let current =
                    stock::Entity::find_by_id(adjustment.sku.clone()).one(&tx).await.map_err(StoreError::from)?;
                return Err(match current {
                    None => AdjustError::UnknownSku,
                    Some(row) => AdjustError::WouldGoBelowReserved { available: row.on_hand - row.reserved },
                });
            }
        }
        let level = stock::Entity::find_by_id(adjustment.sku.clone())
            .one(&tx)
            .await
            .map_err(StoreError::from)?
            .map(to_level)
            .ok_or_else(|| StoreError::Corrupt(format!("stock of {} vanished mid-transaction", adjustment.sku)))?;
        let audit = adjustment::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            sku: Set(adjustment.sku.clone()),
            delta: Set(adjustment.delta),
            reason: Set(adjustment.reason.clone()),
            on_hand_after: Set(level.on_hand),
            created_at: Set(now),
        };
        adjustment::Entity::insert(audit).exec_without_returning(&tx).await.map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(level)
    }

    /// Audit rows of a SKU, newest first.
    pub async fn adjustments(&self, sku: &str, offset: u64, limit: u64) -> Result<Vec<adjustment::Model>, StoreError> {
        Ok(adjustment::Entity::find()
            .filter(adjustment::Column::Sku.eq(sku))
            .order_by_desc(adjustment::Column::CreatedAt)
            .order_by_desc(adjustment::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Holds stock for an order: every line or none. A second call for the same order
    /// returns the existing reservation and holds nothing more.
    pub async fn reserve(
        &self,
        request: &ReservationRequest,
        expires_at: DateTime<Utc>,
    ) -> Result<Reservation, ReserveError> {
        let tx = db::begin_write(&self.db).await.map_err(StoreError::from)?;
        let reservation = reserve_within(&tx, request, expires_at).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(reservation)
    }

    /// The reservation held for an order, if any.
    pub async fn reservation(&self, order_id: &str) -> Result<Option<Reservation>, StoreError> {
        reservation_of(&self.db, order_id).await
    }

    /// The order was paid: its units leave the stock. Idempotent.
    pub async fn commit(&self, order_id: &str) -> Result<Reservation, TransitionError> {
        self.finish(order_id, ReservationStatus::Committed).await
    }

    /// The order gives its units back. Idempotent.
    pub async fn release(&self, order_id: &str) -> Result<Reservation, TransitionError> {
        self.finish(order_id, ReservationStatus::Released).await
    }

    async fn finish(&self, order_id: &str, to: ReservationStatus) -> Result<Reservation, TransitionError> {
        let tx = db::begin_write(&self.db).await.map_err(StoreError::from)?;
        let reservation = finish_within(&tx, order_id, to).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(reservation)
    }

    /// Begins a write transaction, for operations that must commit together with a message
    /// (inbox record, outbox rows).
    pub async fn begin(&self) -> Result<DatabaseTransaction, StoreError> {
        Ok(db::begin_write(&self.db).await?)
    }

    /// The connection, for the outbox relay.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Releases every active reservation past its expiry (at most `limit`), each in its own
    /// transaction together with the messages `announce` makes for it; returns them.
    pub async fn expire_due<F>(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        announce: F,
    ) -> Result<Vec<Reservation>, StoreError>
    where
        F: Fn(&Reservation) -> Vec<Envelope>,
    {
        let due = reservation::Entity::find()
            .filter(reservation::Column::Status.eq(ReservationStatus::Active.as_str()))
            .filter(reservation::Column::ExpiresAt.lt(now))
            .order_by_asc(reservation::Column::ExpiresAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut expired = Vec::with_capacity(due.len());
        for header in due {
            let tx = db::begin_write(&self.db).await?;
            match finish_within(&tx, &header.order_id, ReservationStatus::Expired).await {
                Ok(reservation) => {
                    outbox::enqueue(&tx, &announce(&reservation)).await?;
                    tx.commit().await?;
                    expired.push(reservation);
                }
                // Committed or released meanwhile: nothing to expire.
                Err(TransitionError::Invalid { .. } | TransitionError::NotFound) => tx.rollback().await?,
                Err(TransitionError::Store(error)) => return Err(error),
            }
        }
        Ok(expired)
    }
}

/// [`InventoryStore::reserve`] inside the caller's transaction. The attempt runs in a
/// savepoint, so a shortage or a lost race leaves the caller's transaction usable (the
/// caller still records the message and its answer).
pub async fn reserve_within(
    tx: &DatabaseTransaction,
    request: &ReservationRequest,
    expires_at: DateTime<Utc>,
) -> Result<Reservation, ReserveError> {
    if let Some(existing) = reservation_of(tx, request.order_id()).await? {
        return Ok(existing);
    }
    let now = Utc::now();
    let attempt = tx.begin().await.map_err(StoreError::from)?;
    let shortages = take_free(&attempt, request.lines(), Take::Hold, now).await?;
    if !shortages.is_empty() {
        attempt.rollback().await.map_err(StoreError::from)?;
        return Err(ReserveError::Insufficient(shortages));
    }
    let id = Uuid::now_v7();
    if let Err(error) =
        insert_header(&attempt, id, request.order_id(), ReservationStatus::Active, expires_at, now).await
    {
        if db::is_unique_violation(&error) {
            // A concurrent call for the same order won; give back what this one held.
            attempt.rollback().await.map_err(StoreError::from)?;
            return reservation_of(tx, request.order_id())
                .await?
                .ok_or_else(|| ReserveError::Store(StoreError::Corrupt("reservation vanished".into())));
        }
        return Err(StoreError::from(error).into());
    }
    let lines: Vec<reservation_line::ActiveModel> = request
        .lines()
        .iter()
        .map(|l| reservation_line::ActiveModel {
            reservation_id: Set(id.to_string()),
            sku: Set(l.sku.clone()),
            quantity: Set(l.quantity),
        })
        .collect();
    reservation_line::Entity::insert_many(lines).exec_without_returning(&attempt).await.map_err(StoreError::from)?;
    attempt.commit().await.map_err(StoreError::from)?;
    Ok(Reservation {
        id,
        order_id: request.order_id().to_owned(),
        status: ReservationStatus::Active,
        lines: request.lines().to_vec(),
        expires_at,
    })
}

/// How [`take_free`] takes units from the free stock.
#[derive(Clone, Copy)]
enum Take {
    /// Held for an order: `reserved` grows.
    Hold,
    /// Sold outright (a paid order whose hold lapsed): `on_hand` shrinks.
    Sell,
}

/// Takes each line from the free stock (on hand − reserved) inside `attempt`, each only if
/// enough is free; returns the lines that were short (the caller rolls `attempt` back then).
async fn take_free(
    attempt: &DatabaseTransaction,
    lines: &[Line],
    take: Take,
    now: DateTime<Utc>,
) -> Result<Vec<Shortage>, StoreError> {
    let mut shortages = Vec::new();
    // Lines are sorted by SKU: every transaction locks rows in the same order.
    for line in lines {
        let update = match take {
            Take::Hold => stock::Entity::update_many()
                .col_expr(stock::Column::Reserved, Expr::col(stock::Column::Reserved).add(line.quantity)),
            Take::Sell => stock::Entity::update_many()
                .col_expr(stock::Column::OnHand, Expr::col(stock::Column::OnHand).sub(line.quantity)),
        };
        let updated = update
            .col_expr(stock::Column::UpdatedAt, Expr::value(now))
            .filter(stock::Column::Sku.eq(line.sku.clone()))
            .filter(Expr::col(stock::Column::OnHand).sub(Expr::col(stock::Column::Reserved)).gte(line.quantity))
            .exec(attempt)
            .await?;
        if updated.rows_affected == 0 {
            let available = stock::Entity::find_by_id(line.sku.clone())
                .one(attempt)
                .await?
                .map_or(0, |row| row.on_hand - row.reserved);
            shortages.push(Shortage { sku: line.sku.clone(), requested: line.quantity, available });
        }
    }
    Ok(shortages)
}

/// A commit that arrived after its order's hold lapsed (the sweeper expired it): takes the
/// units from what is free now, every line or none, and marks the reservation committed, so a
/// paid order still gets its stock when the stock is there. The shortages when it is not, with
/// nothing taken. Inside the caller's transaction; a reservation committed meanwhile is
/// returned as it is.
pub async fn commit_lapsed_within(tx: &DatabaseTransaction, order_id: &str) -> Result<Reservation, ReserveError> {
    let current =
        reservation_of(tx, order_id).await?.ok_or(StoreError::Corrupt(format!("no reservation of {order_id}")))?;
    if current.status != ReservationStatus::Expired {
        return Ok(current);
    }
    let now = Utc::now();
    let attempt = tx.begin().await.map_err(StoreError::from)?;
    // Claims the lapsed reservation first, so two racing commits cannot both take the units.
    let claimed = reservation::Entity::update_many()
        .col_expr(reservation::Column::Status, Expr::value(ReservationStatus::Committed.as_str()))
        .col_expr(reservation::Column::UpdatedAt, Expr::value(now))
        .filter(reservation::Column::Id.eq(current.id.to_string()))
        .filter(reservation::Column::Status.eq(ReservationStatus::Expired.as_str()))
        .exec(&attempt)
        .await
        .map_err(StoreError::from)?;
    if claimed.rows_affected == 0 {
        attempt.rollback().await.map_err(StoreError::from)?;
        return Ok(reservation_of(tx, order_id).await?.unwrap_or(current));
    }
    let shortages = take_free(&attempt, &current.lines, Take::Sell, now).await?;
    if !shortages.is_empty() {
        attempt.rollback().await.map_err(StoreError::from)?;
        return Err(ReserveError::Insufficient(shortages));
    }
    attempt.commit().await.map_err(StoreError::from)?;
    Ok(Reservation { status: ReservationStatus::Committed, ..current })
}

/// Records that an order gave up stock it never held (a release that overtook its reserve):
/// a released reservation without lines, so the late reserve finds it and holds nothing.
pub async fn record_release_without_reservation(
    tx: &DatabaseTransaction,
    order_id: &str,
) -> Result<Reservation, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    insert_header(tx, id, order_id, ReservationStatus::Released, now, now).await?;
    Ok(Reservation {
        id,
        order_id: order_id.to_owned(),
        status: ReservationStatus::Released,
        lines: Vec::new(),
        expires_at: now,
    })
}

async fn insert_header(
    conn: &impl ConnectionTrait,
    id: Uuid,
    order_id: &str,
    status: ReservationStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let header = reservation::ActiveModel {
        id: Set(id.to_string()),
        order_id: Set(order_id.to_owned()),
        status: Set(status.as_str().to_owned()),
        expires_at: Set(expires_at),
        created_at: Set(now),
        updated_at: Set(now),
        restocked_at: Set(None),
    };
    reservation::Entity::insert(header).exec_without_returning(conn).await?;
    Ok(())
}

/// The reservation held for an order, if any.
async fn reservation_of(conn: &impl ConnectionTrait, order_id: &str) -> Result<Option<Reservation>, StoreError> {
    let Some(header) = reservation::Entity::find().filter(reservation::Column::OrderId.eq(order_id)).one(conn).await?
    else {
        return Ok(None);
    };
    Ok(Some(with_lines(conn, header).await?))
}

async fn with_lines(conn: &impl ConnectionTrait, header: reservation::Model) -> Result<Reservation, StoreError> {
    let lines = reservation_line::Entity::find()
        .filter(reservation_line::Column::ReservationId.eq(header.id.clone()))
        .order_by_asc(reservation_line::Column::Sku)
        .all(conn)
        .await?;
    Ok(Reservation {
        id: Uuid::parse_str(&header.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        order_id: header.order_id,
        status: match header.restocked_at {
            Some(_) => ReservationStatus::Restocked,
            None => ReservationStatus::parse(&header.status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown reservation status {}", header.status)))?,
        },
        lines: lines.into_iter().map(|l| Line { sku: l.sku, quantity: l.quantity }).collect(),
        expires_at: header.expires_at,
    })
}

/// Moves an order's reservation to `to` inside the caller's transaction and moves its units
/// accordingly: committed (they leave the stock), released or expired (they are no longer
/// held), restocked (a committed order's units go back on hand). Only an active reservation
/// moves, except that a committed one may be restocked. Idempotent: a reservation already
/// at `to` is returned unchanged.
pub async fn finish_within(
    tx: &DatabaseTransaction,
    order_id: &str,
    to: ReservationStatus,
) -> Result<Reservation, TransitionError> {
    let from =
        if to == ReservationStatus::Restocked { ReservationStatus::Committed } else { ReservationStatus::Active };
    if !from.can_become(to) {
        return Err(TransitionError::Invalid { from, to });
    }
    let now = Utc::now();
    let header = reservation::Entity::find()
        .filter(reservation::Column::OrderId.eq(order_id))
        .one(tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(TransitionError::NotFound)?;
    // Conditional on the state it moves from, so two racing moves cannot both apply. A restock
    // is recorded in `restocked_at` (the status CHECK predates it; see the migration).
    let update = if to == ReservationStatus::Restocked {
        reservation::Entity::update_many()
            .col_expr(reservation::Column::RestockedAt, Expr::value(now))
            .filter(reservation::Column::Status.eq(ReservationStatus::Committed.as_str()))
            .filter(reservation::Column::RestockedAt.is_null())
    } else {
        reservation::Entity::update_many()
            .col_expr(reservation::Column::Status, Expr::value(to.as_str()))
            .filter(reservation::Column::Status.eq(ReservationStatus::Active.as_str()))
    };
    let moved = update
        .col_expr(reservation::Column::UpdatedAt, Expr::value(now))
        .filter(reservation::Column::Id.eq(header.id.clone()))
        .exec(tx)
        .await
        .map_err(StoreError::from)?;
    if moved.rows_affected == 0 {
        // Another transaction moved it first (a commit racing this release, the sweeper):
        // decide on what it is now, not on the row read before the update waited for it.
        let current = reservation_of(tx, order_id).await?.ok_or(TransitionError::NotFound)?;
        return if current.status == to {
            Ok(current)
        } else {
            Err(TransitionError::Invalid { from: current.status, to })
        };
    }
    let mut reservation = with_lines(tx, header).await?;
    for line in &reservation.lines {
        apply_final(tx, line, to, now).await?;
    }
    reservation.status = to;
    Ok(reservation)
}

async fn apply_final(
    tx: &DatabaseTransaction,
    line: &Line,
    to: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (reserved, on_hand) = match to {
        ReservationStatus::Committed => (-line.quantity, -line.quantity),
        ReservationStatus::Released | ReservationStatus::Expired => (-line.quantity, 0),
        ReservationStatus::Restocked => (0, line.quantity),
        // Refused above: nothing moves to ACTIVE.
        ReservationStatus::Active => (0, 0),
    };
    stock::Entity::update_many()
        .col_expr(stock::Column::Reserved, Expr::col(stock::Column::Reserved).add(reserved))
        .col_expr(stock::Column::OnHand, Expr::col(stock::Column::OnHand).add(on_hand))
        .col_expr(stock::Column::UpdatedAt, Expr::value(now))
        .filter(stock::Column::Sku.eq(line.sku.clone()))
        .exec(tx)
        .await?;
    Ok(())
}
