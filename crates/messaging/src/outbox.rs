//! Transactional outbox: messages are written in the same transaction as the state change
//! and a relay publishes them afterwards, so a commit never loses or invents a message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType},
};
use shop_kernel::{db, worker};
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, BusError};
use crate::envelope::Envelope;

/// Rows published per transaction.
const BATCH_SIZE: u64 = 100;
/// Relay loops per process on PostgreSQL.
const PARALLEL_LOOPS: usize = 4;
/// How often the relay refreshes the `messaging_outbox_pending` gauge.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// How often the relay clears out old outbox and inbox rows.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// Sent messages are kept this long (for inspection), then deleted.
const SENT_RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// Processed message ids are kept this long: far beyond any redelivery or dead-letter replay
/// an operator would still make.
const INBOX_RETENTION: chrono::Duration = chrono::Duration::days(14);

/// The `messaging_outbox` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One message waiting to be (or already) published.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_outbox")]
    pub struct Model {
        /// The envelope id (UUIDv7, so ordering by it is ordering by creation).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The envelope type.
        pub kind: String,
        /// The envelope correlation id, to find an order's messages.
        pub correlation_id: String,
        /// The envelope as JSON.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// When it was enqueued.
        pub created_at: DateTimeUtc,
        /// When the broker confirmed it; `NULL` while pending.
        pub sent_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity as Outbox};

/// Writes messages in the caller's transaction (same commit as the state change).
pub async fn enqueue<C: ConnectionTrait>(tx: &C, messages: &[Envelope]) -> Result<(), DbErr> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = messages
        .iter()
        .map(|message| {
            let body =
                serde_json::to_string(message).map_err(|e| DbErr::Custom(format!("cannot encode message: {e}")))?;
            Ok(entity::ActiveModel {
                id: Set(message.id.to_string()),
                kind: Set(message.kind.clone()),
                correlation_id: Set(message.correlation_id.clone()),
                body: Set(body),
                created_at: Set(now),
                sent_at: Set(None),
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Outbox::insert_many(rows).exec_without_returning(tx).await?;
    Ok(())
}

/// Messages enqueued but not yet confirmed by the broker.
pub async fn pending_count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    Outbox::find().filter(Column::SentAt.is_null()).count(db).await
}

/// Deletes rows sent before `before`; the table otherwise only grows. Returns how many.
pub async fn purge_sent<C: ConnectionTrait>(db: &C, before: chrono::DateTime<Utc>) -> Result<u64, DbErr> {
    let result =
        Outbox::delete_many().filter(Column::SentAt.is_not_null()).filter(Column::SentAt.lt(before)).exec(db).await?;
    Ok(result.rows_affected)
}

/// Wakes the relay right after a commit, so messages go out without waiting for the next poll.
pub type OutboxWaker = shop_kernel::worker::Waker;

/// Why a relay pass failed; the rows stay pending and the next pass retries them.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The database failed.
    #[error("outbox database error: {0}")]
    Db(#[from] DbErr),
    /// The broker failed or did not confirm.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Publishes the outbox's pending rows.
pub struct OutboxRelay {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    waker: OutboxWaker,
    poll_interval: Duration,
    /// When this relay last purged old rows.
    purged: std::sync::Mutex<Option<Instant>>,
}

impl OutboxRelay {
    /// A relay of `db`'s outbox to `bus`, woken by `waker`.
    pub fn new(db: DatabaseConnection, bus: Arc<dyn Bus>, waker: OutboxWaker) -> Self {
        Self { db, bus, waker, poll_interval: Duration::from_millis(200), purged: std::sync::Mutex::new(None) }
    }

    /// How often to look for rows without a wake (default 200 ms): rows committed by another
    /// replica, or a wake that was missed.
    #[must_use]
    pub fn with_poll_interval(self, poll_interval: Duration) -> Self {
        Self { poll_interval, ..self }
    }

    /// Publishes pending rows (oldest first, batches of 100, `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL so replicas share the work), with confirms, then marks them sent in the same
    /// transaction. Returns how many were sent.
    ///
    /// Holding the row locks across the publish is what makes two relays publish each row once;
    /// a crash between confirm and commit publishes again (at least once), which the consumers'
    /// inbox absorbs. On SQLite the IMMEDIATE transaction serializes relays instead.
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let started = Instant::now();
        let tx = db::begin_write(&self.db).await?;
        let mut query = Outbox::find().filter(Column::SentAt.is_null()).order_by_asc(Column::Id).limit(BATCH_SIZE);
        if self.db.get_database_backend() == DbBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(&tx).await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            match Envelope::from_json(row.body.as_bytes()) {
                Ok(message) => messages.push(message),
                // Only `enqueue` writes rows, so this is corruption; skipping it (marked sent
                // below) keeps one bad row from blocking every later message.
                Err(error) => {
                    tracing::error!(id = %row.id, %error, "dropping an undecodable outbox row")
                }
            }
        }
        self.bus.publish(&messages).await?;
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        Outbox::update_many()
            .col_expr(Column::SentAt, Expr::value(Utc::now()))
            .filter(Column::Id.is_in(ids))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        metrics::histogram!("messaging_outbox_relay_seconds").record(started.elapsed().as_secs_f64());
        Ok(rows.len())
    }

    /// Loops until shutdown: after a wake() or every poll interval (default 200 ms); errors back off and retry.
    ///
    /// On PostgreSQL several loops share the work (`SKIP LOCKED` gives each its own rows):
    /// a batch spends most of its time waiting for the broker's confirms, so one loop alone
    /// caps a busy service at a few hundred messages a second. Order between batches is not
    /// kept, which the saga does not need (each step is caused by the answer to the previous).
    pub async fn run(self, shutdown: CancellationToken) {
        let loops = if self.db.get_database_backend() == DbBackend::Postgres { PARALLEL_LOOPS } else { 1 };
        let relay = Arc::new(self);
        let workers = (0..loops).map(|index| relay.clone().work(shutdown.clone(), index == 0));
        futures::future::join_all(workers).await;
    }

    /// One relay loop; the `lead` one also refreshes the gauge and, when due, purges old rows.
    async fn work(self: Arc<Self>, shutdown: CancellationToken, lead: bool) {
        let pacing = worker::Pacing {
            poll_interval: self.poll_interval,
            batch_size: BATCH_SIZE as usize,
            // More is waiting: bring another loop in while this one goes again.
            wake_sibling_when_full: true,
            upkeep_interval: GAUGE_INTERVAL,
        };
        worker::drain(
            "sql outbox relay",
            &self.waker,
            &pacing,
            &shutdown,
            || self.relay_once(),
            || async {
                if lead {
                    self.record_pending().await;
                    self.purge_when_due().await;
                }
            },
        )
        .await;
    }

    /// Runs [`Self::purge`] if the last one was [`PURGE_INTERVAL`] ago (or never).
    async fn purge_when_due(&self) {
        let due = {
            let Ok(mut last) = self.purged.lock() else { return };
            let due = last.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.purge().await;
        }
    }

    /// Deletes sent outbox rows and old inbox records of this database. Several replicas may
    /// run it at once: the deletes are idempotent.
    async fn purge(&self) {
        let now = Utc::now();
        match purge_sent(&self.db, now - SENT_RETENTION).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "purged sent outbox rows"),
            Err(error) => tracing::warn!(%error, "cannot purge the outbox"),
        }
        match crate::inbox::purge_processed(&self.db, now - INBOX_RETENTION).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "purged old inbox records"),
            // A service that consumes nothing has no inbox table to purge.
            Err(error) => tracing::debug!(%error, "cannot purge the inbox"),
        }
    }

    async fn record_pending(&self) {
        if let Ok(pending) = pending_count(&self.db).await {
            metrics::gauge!("messaging_outbox_pending").set(pending as f64);
        }
    }
}
