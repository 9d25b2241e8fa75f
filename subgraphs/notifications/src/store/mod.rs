//! Notifications persistence: one sea-orm implementation that runs on PostgreSQL
//! (production) and SQLite (embedded); the tests run against both.
//!
//! The `notifications` table is also the delivery queue. The worker leases due rows (a
//! `lease_token` and a `lease_until`; on PostgreSQL the pick takes `FOR UPDATE SKIP LOCKED`
//! so replicas never wait on each other, on SQLite the write transaction is exclusive), and
//! every outcome is written only while the lease is still held, so two workers never both
//! record a delivery. See [`crate::delivery`] for the one window this leaves.

mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict},
};
use shop_kernel::db;
use shop_messaging::inbox;
use shop_notifications_migration::{Migrator, MigratorTrait};
use uuid::Uuid;

use self::entity::{notification, preference, recipient};
use crate::domain::{
    ChannelKind, Facts, NewNotification, Notification, NotificationCategory, NotificationKind, NotificationStatus,
    OPTED_OUT, Preferences, Recipient,
};

/// Longest failure reason kept (the column's size).
const MAX_REASON_CHARS: usize = 500;

/// This store has no outcomes of its own beyond the store failing.
pub type StoreError = shop_kernel::store::StoreFailure;

/// What became of recording an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; this many notifications are now waiting to be sent.
    Done {
        /// Notifications queued (not skipped, not already there).
        queued: usize,
    },
    /// The message was handled before: nothing was written.
    Duplicate,
}

/// A notification to insert, subject rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// What to send.
    pub notification: NewNotification,
    /// Its subject.
    pub subject: String,
}

/// A notification leased for delivery: only the holder of `token` may record its outcome,
/// until the lease runs out.
#[derive(Debug, Clone, PartialEq)]
pub struct Leased {
    /// The notification as it was when leased.
    pub notification: Notification,
    /// The lease.
    pub token: Uuid,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to `address`.
    Sent {
        /// Where it went.
        address: String,
    },
    /// Not sent on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Failed for now; try again at `at`.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        reason: String,
    },
    /// Given up on.
    Failed {
        /// Why.
        reason: String,
    },
}

/// The notifications database.
#[derive(Clone)]
pub struct NotificationStore {
    db: DatabaseConnection,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

fn parse_uuid(what: &str, value: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(value).map_err(|_| corrupt(what, value))
}

fn to_notification(row: notification::Model) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: parse_uuid("id", &row.id)?,
        source_event_id: parse_uuid("source event id", &row.source_event_id)?,
        kind: NotificationKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
        category: NotificationCategory::parse(&row.category).ok_or_else(|| corrupt("category", &row.category))?,
        channel: ChannelKind::parse(&row.channel).ok_or_else(|| corrupt("channel", &row.channel))?,
        status: NotificationStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
        facts: serde_json::from_str(&row.context)
            .map_err(|e| StoreError::Corrupt(format!("notification context: {e}")))?,
        user_id: row.user_id,
        subject: row.subject,
        recipient: row.recipient,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        created_at: row.created_at,
        sent_at: row.sent_at,
        updated_at: row.updated_at,
    })
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_REASON_CHARS).collect()
}

fn encode(facts: &Facts) -> Result<String, StoreError> {
    serde_json::to_string(facts).map_err(|e| StoreError::Corrupt(format!("cannot encode a notification context: {e}")))
}

impl NotificationStore {
    /// Opens the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let db = db::connect(url, max_connections).await?;
        Migrator::up(&db, None).await?;
        Ok(Self { db })
    }

    /// The connection pool.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// Records that `consumer` handled message `message_id`: upserts `recipient` (if the
    /// message introduced one) and inserts `notifications`, all in one transaction. A
    /// marketing notification for a customer who opted out is recorded as `SKIPPED`. A
    /// notification that exists for the same event, kind and channel is left alone, so even
    /// a message the inbox forgot causes nothing twice.
    ///
    /// A new recipient also makes their notifications that failed for want of an address
    /// due at once.
    pub async fn record_event(
        &self,
        consumer: &str,
        message_id: Uuid,
        recipient: Option<&Recipient>,
        notifications: &[Queued],
    ) -> Result<Recorded, StoreError> {
        let now = Utc::now();
        let tx = db::begin_write(&self.db).await?;
        if !inbox::claim(&tx, consumer, message_id).await? {
            tx.commit().await?;
            return Ok(Recorded::Duplicate);
        }
        if let Some(recipient) = recipient {
            let row = recipient::ActiveModel {
                user_id: Set(recipient.user_id.clone()),
                email: Set(recipient.email.clone()),
                name: Set(recipient.name.clone()),
                updated_at: Set(now),
            };
            recipient::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(recipient::Column::UserId)
                        .update_columns([
                            recipient::Column::Email,
                            recipient::Column::Name,
                            recipient::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
            notification::Entity::update_many()
                .col_expr(notification::Column::NextAttemptAt, Expr::value(now))
                .col_expr(notification::Column::UpdatedAt, Expr::value(now))
                .filter(notification::Column::UserId.eq(recipient.user_id.clone()))
                .filter(notification::Column::Status.eq(NotificationStatus::Queued.as_str()))
                .filter(notification::Column::Attempts.gt(0))
                .filter(notification::Column::NextAttemptAt.gt(now))
                .exec(&tx)
                .await?;
        }
        let mut queued = 0;
        for item in notifications {
            let new = &item.notification;
            let category = new.kind.category();
            let opted_out = category == NotificationCategory::Marketing
                && !preference::Entity::find_by_id(new.user_id.clone()).one(&tx).await?.is_none_or(|p| p.marketing);
            let (status, last_error) = if opted_out {
                (NotificationStatus::Skipped, Some(OPTED_OUT.to_owned()))
            } else {
                (NotificationStatus::Queued, None)
            };
            let row = notification::ActiveModel {
                id: Set(Uuid::now_v7().to_string()),
                user_id: Set(new.user_id.clone()),
                source_event_id: Set(message_id.to_string()),
                kind: Set(new.kind.as_str().to_owned()),
                category: Set(category.as_str().to_owned()),
                channel: Set(ChannelKind::Email.as_str().to_owned()),
                status: Set(status.as_str().to_owned()),
                subject: Set(item.subject.clone()),
                context: Set(encode(&new.facts)?),
                recipient: Set(None),
                attempts: Set(0),
                next_attempt_at: Set(new.due_at),
                lease_until: Set(None),
                lease_token: Set(None),
                last_error: Set(last_error),
                created_at: Set(now),
                sent_at: Set(None),
                updated_at: Set(now),
            };
            let inserted = notification::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        notification::Column::SourceEventId,
                        notification::Column::Kind,
                        notification::Column::Channel,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
            let fresh = inserted > 0;
            if fresh && status == NotificationStatus::Queued {
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(Recorded::Done { queued })
    }

    /// Leases up to `limit` due notifications until `lease_until`, oldest due first. On
    /// PostgreSQL rows another worker is picking are skipped, not waited for.
    pub async fn lease_due(&self, limit: u64, lease_until: DateTime<Utc>) -> Result<Vec<Leased>, StoreError> {
        let now = Utc::now();
        let tx = db::begin_write(&self.db).await?;
        let mut pick = notification::Entity::find()
            .filter(notification::Column::Status.eq(NotificationStatus::Queued.as_str()))
            .filter(notification::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(notification::Column::LeaseUntil.is_null())
                    .add(notification::Column::LeaseUntil.lte(now)),
            )
            .order_by_asc(notification::Column::NextAttemptAt)
            .order_by_asc(notification::Column::Id)
            .limit(limit);
        if self.db.get_database_backend() == DbBackend::Postgres {
            pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = pick.all(&tx).await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let token = Uuid::new_v4();
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        notification::Entity::update_many()
            .col_expr(notification::Column::LeaseToken, Expr::value(token.to_string()))
            .col_expr(notification::Column::LeaseUntil, Expr::value(lease_until))
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::Id.is_in(ids))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        rows.into_iter().map(|row| Ok(Leased { notification: to_notification(row)?, token })).collect()
    }

    /// Records how a leased delivery ended; `false` when the lease was lost (it ran out and
    /// another worker took the notification), in which case nothing is written.
    pub async fn finish(&self, id: Uuid, token: Uuid, outcome: &Outcome) -> Result<bool, StoreError> {
        let now = Utc::now();
        let attempted = Expr::col(notification::Column::Attempts).add(1);
        let mut update = notification::Entity::update_many()
            .col_expr(notification::Column::LeaseToken, Expr::value(Option::<String>::None))
            .col_expr(notification::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(notification::Column::UpdatedAt, Expr::value(now));
        update = match outcome {
            Outcome::Sent { address } => update
                .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Sent.as_str()))
                .col_expr(notification::Column::Recipient, Expr::value(address.clone()))
                .col_expr(notification::Column::SentAt, Expr::value(now))
                .col_expr(notification::Column::Attempts, attempted)
                .col_expr(notification::Column::LastError, Expr::value(Option::<String>::None)),
            Outcome::Skipped { reason } => update
                .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Skipped.as_str()))
                .col_expr(notification::Column::LastError, Expr::value(clip(reason))),
            Outcome::Retry { at, reason } => update
                .col_expr(notification::Column::NextAttemptAt, Expr::value(*at))
                .col_expr(notification::Column::Attempts, attempted)
                .col_expr(notification::Column::LastError, Expr::value(clip(reason))),
            Outcome::Failed { reason } => update
                .col_expr(notification::Column::Status, Expr::value(NotificationStatus::Failed.as_str()))
                .col_expr(notification::Column::Attempts, attempted)
                .col_expr(notification::Column::LastError, Expr::value(clip(reason))),
        };
        let written = update
            .filter(notification::Column::Id.eq(id.to_string()))
            .filter(notification::Column::LeaseToken.eq(token.to_string()))
            .filter(notification::Column::Status.eq(NotificationStatus::Queued.as_str()))
            .exec(&self.db)
            .await?;
        Ok(written.rows_affected == 1)
    }

    /// The customer `user_id`, if `user.registered` introduced them.
    pub async fn recipient(&self, user_id: &str) -> Result<Option<Recipient>, StoreError> {
        let row = recipient::Entity::find_by_id(user_id.to_owned()).one(&self.db).await?;
        Ok(row.map(|r| Recipient { user_id: r.user_id, email: r.email, name: r.name }))
    }

    /// What `user_id` agreed to receive (the defaults until they change them).
    pub async fn preferences(&self, user_id: &str) -> Result<Preferences, StoreError> {
        let row = preference::Entity::find_by_id(user_id.to_owned()).one(&self.db).await?;
        Ok(row.map_or_else(Preferences::default, |p| Preferences {
            marketing: p.marketing,
            updated_at: Some(p.updated_at),
        }))
    }

    /// Sets whether `user_id` receives marketing notifications.
    pub async fn set_marketing(&self, user_id: &str, marketing: bool) -> Result<Preferences, StoreError> {
        let now = Utc::now();
        let row = preference::ActiveModel {
            user_id: Set(user_id.to_owned()),
            marketing: Set(marketing),
            updated_at: Set(now),
        };
        preference::Entity::insert(row)
            .on_conflict(
                OnConflict::column(preference::Column::UserId)
                    .update_columns([preference::Column::Marketing, preference::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(Preferences { marketing, updated_at: Some(now) })
    }

    /// The notifications of `user_id`, newest first: `limit` of them after skipping `offset`.
    pub async fn of_user(&self, user_id: &str, offset: u64, limit: u64) -> Result<Vec<Notification>, StoreError> {
        let rows = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .order_by_desc(notification::Column::CreatedAt)
            .order_by_desc(notification::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_notification).collect()
    }

    /// A notification by id.
    pub async fn by_id(&self, id: Uuid) -> Result<Option<Notification>, StoreError> {
        notification::Entity::find_by_id(id.to_string()).one(&self.db).await?.map(to_notification).transpose()
    }

    /// The notifications caused by message `event_id`, oldest first.
    pub async fn of_event(&self, event_id: Uuid) -> Result<Vec<Notification>, StoreError> {
        let rows = notification::Entity::find()
            .filter(notification::Column::SourceEventId.eq(event_id.to_string()))
            .order_by_asc(notification::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_notification).collect()
    }

    /// How many notifications wait to be sent (due or not).
    pub async fn queued_count(&self) -> Result<u64, StoreError> {
        Ok(notification::Entity::find()
            .filter(notification::Column::Status.eq(NotificationStatus::Queued.as_str()))
            .count(&self.db)
            .await?)
    }

    /// When the next queued notification is due, if any is queued.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = notification::Entity::find()
            .filter(notification::Column::Status.eq(NotificationStatus::Queued.as_str()))
            .order_by_asc(notification::Column::NextAttemptAt)
            .one(&self.db)
            .await?;
        Ok(row.map(|row| row.next_attempt_at))
    }

    /// Forgets inbox records older than `before` (the inbox otherwise only grows).
    pub async fn purge_inbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(inbox::purge_processed(&self.db, before).await?)
    }
}
