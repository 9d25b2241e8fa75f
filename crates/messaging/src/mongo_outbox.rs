//! Transactional outbox for services on MongoDB: the counterpart of [`crate::outbox`].
//!
//! A message is one [`OutboxDocument`] (`_id` = the envelope id), inserted with [`enqueue`] in
//! the caller's multi-document transaction, so it commits (or aborts) with the state change.
//! [`MongoOutboxRelay`] publishes the pending documents afterwards.
//!
//! MongoDB has no `SELECT … FOR UPDATE SKIP LOCKED`, so replicas share the work with leases: a
//! relay claims up to 100 pending documents, oldest first, with a conditional `update_many`
//! (`sent_at` null and no live lease → `lease_until` = now + 30 s, `lease_owner` = this pass),
//! publishes the batch with confirms, then marks the documents it still owns sent. The server
//! checks the condition per document as it writes, so of two relays only one can claim a
//! document while its lease lives, and under normal operation every message is published once. A failed publish clears the lease, so the next pass retries
//! at once; a relay that dies mid-pass leaves a lease that lapses, and another relay publishes
//! the documents again. Messages are thus published at least once and never lost; duplicates
//! (only after a lapsed lease) are absorbed by the consumers' inbox.
//!
//! Leases compare the relays' clocks: they must agree far better than the lease duration.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::{
    ClientSession, Collection, IndexModel,
    bson::{Bson, DateTime, Document, doc},
    options::IndexOptions,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::bus::{Bus, BusError};
use crate::envelope::Envelope;
use crate::outbox::OutboxWaker;

/// The collection name services use for the outbox.
pub const COLLECTION: &str = "messaging_outbox";
/// Documents claimed and published per pass.
const BATCH_SIZE: usize = 100;
/// Claim rounds per pass at most: a round claims less than it read only when another relay
/// won some of the documents, and then the next round reads the following ones.
const CLAIM_ROUNDS: usize = 4;
/// How long a claim keeps other relays off a document (default).
const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How often the relay refreshes the `messaging_outbox_pending` gauge.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// The `store` label of the relay's metrics.
const STORE: &str = "mongo";

/// One message waiting to be (or already) published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxDocument {
    /// The envelope id (UUIDv7, so ordering by it is ordering by creation); stored as `_id`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The envelope type.
    pub kind: String,
    /// The envelope correlation id, to find an order's messages.
    pub correlation_id: String,
    /// The envelope as JSON.
    pub body: String,
    /// When it was enqueued.
    pub created_at: DateTime,
    /// When the broker confirmed it; null while pending.
    #[serde(default)]
    pub sent_at: Option<DateTime>,
    /// Until when a relay holds its claim; null (or past) when no relay does.
    #[serde(default)]
    pub lease_until: Option<DateTime>,
    /// The relay pass that claimed it last.
    #[serde(default)]
    pub lease_owner: Option<String>,
}

impl OutboxDocument {
    /// The pending document of `message`, created at `created_at`.
    fn pending(message: &Envelope, created_at: DateTime) -> Result<Self, mongodb::error::Error> {
        let body = serde_json::to_string(message).map_err(|e| {
            mongodb::error::Error::from(<mongodb::bson::ser::Error as serde::ser::Error>::custom(format!(
                "cannot encode message {}: {e}",
                message.id
            )))
        })?;
        Ok(Self {
            id: message.id.to_string(),
            kind: message.kind.clone(),
            correlation_id: message.correlation_id.clone(),
            body,
            created_at,
            sent_at: None,
            lease_until: None,
            lease_owner: None,
        })
    }
}

/// Inserts messages in the caller's transaction (same commit as the state change).
///
/// `session` must be in a transaction started with `start_transaction`: outside one the
/// documents are written at once, whatever happens to the state change. The collection must
/// exist before the transaction on servers older than MongoDB 4.4 ([`ensure_indexes`] creates it).
pub async fn enqueue(
    collection: &Collection<OutboxDocument>,
    session: &mut ClientSession,
    messages: &[Envelope],
) -> Result<(), mongodb::error::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = DateTime::now();
    let documents =
        messages.iter().map(|message| OutboxDocument::pending(message, now)).collect::<Result<Vec<_>, _>>()?;
    collection.insert_many(documents).session(session).await?;
    Ok(())
}

/// Creates the index relays search pending documents with, `{sent_at: 1, _id: 1}` (idempotent;
/// creates the collection too). Run it at startup.
pub async fn ensure_indexes(collection: &Collection<OutboxDocument>) -> Result<(), mongodb::error::Error> {
    let index = IndexModel::builder()
        .keys(doc! { "sent_at": 1, "_id": 1 })
        .options(IndexOptions::builder().name("pending".to_owned()).build())
        .build();
    collection.create_index(index).await?;
    Ok(())
}

/// Messages enqueued but not yet confirmed by the broker.
pub async fn pending_count(collection: &Collection<OutboxDocument>) -> Result<u64, mongodb::error::Error> {
    collection.count_documents(doc! { "sent_at": null }).await
}

/// Deletes documents sent before `before`; the collection otherwise only grows. Returns how many.
pub async fn purge_sent(
    collection: &Collection<OutboxDocument>,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, mongodb::error::Error> {
    let before = DateTime::from_millis(before.timestamp_millis());
    let result = collection.delete_many(doc! { "sent_at": { "$ne": null, "$lt": before } }).await?;
    Ok(result.deleted_count)
}

/// Why a relay pass failed; the documents stay pending and a later pass retries them.
#[derive(Debug, thiserror::Error)]
pub enum MongoRelayError {
    /// MongoDB failed.
    #[error("outbox database error: {0}")]
    Db(#[from] mongodb::error::Error),
    /// The broker failed or did not confirm.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Publishes the pending documents of a MongoDB outbox; any number of replicas may run one on
/// the same collection.
pub struct MongoOutboxRelay {
    collection: Collection<OutboxDocument>,
    bus: Arc<dyn Bus>,
    waker: OutboxWaker,
    poll_interval: Duration,
    lease: Duration,
    id: String,
}

impl MongoOutboxRelay {
    /// A relay of `collection` to `bus`, woken by `waker`.
    pub fn new(collection: Collection<OutboxDocument>, bus: Arc<dyn Bus>, waker: OutboxWaker) -> Self {
        Self {
            collection,
            bus,
            waker,
            poll_interval: Duration::from_millis(200),
            lease: DEFAULT_LEASE,
            id: Uuid::new_v4().simple().to_string(),
        }
    }

    /// How often to look for documents without a wake (default 200 ms): documents committed by
    /// another replica, leases that lapsed, or a wake that was missed.
    #[must_use]
    pub fn with_poll_interval(self, poll_interval: Duration) -> Self {
        Self { poll_interval, ..self }
    }

    /// How long a claim keeps other relays off a document (default 30 s). A pass that takes
    /// longer (a publish stuck that long) lets another relay publish the documents again.
    #[must_use]
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// Claims up to 100 pending documents (oldest first) with a lease, publishes them with
    /// confirms, then marks them sent. Returns how many were published.
    ///
    /// On a failed publish the lease is cleared so the next pass retries the documents; if
    /// clearing fails too, the lease lapses instead. A crash after the confirm publishes the
    /// documents again once the lease lapsed (at least once), which the consumers' inbox absorbs.
    pub async fn relay_once(&self) -> Result<usize, MongoRelayError> {
        let started = Instant::now();
        // Unique per pass, so a pass only ever marks or releases what it claimed itself.
        let owner = format!("{}-{}", self.id, Uuid::new_v4().simple());
        let claimed = match self.claim(&owner).await {
            Ok(claimed) => claimed,
            Err(error) => {
                self.release(&owner).await;
                return Err(error.into());
            }
        };
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut messages = Vec::with_capacity(claimed.len());
        for document in &claimed {
            match Envelope::from_json(document.body.as_bytes()) {
                Ok(message) => messages.push(message),
                // Only `enqueue` writes documents, so this is corruption; skipping it (marked
                // sent below) keeps one bad document from blocking every later message.
                Err(error) => {
                    tracing::error!(id = %document.id, %error, "dropping an undecodable outbox document");
                }
            }
        }
        if let Err(error) = self.bus.publish(&messages).await {
            self.release(&owner).await;
            return Err(error.into());
        }
        let ids: Vec<&str> = claimed.iter().map(|document| document.id.as_str()).collect();
        let marked = self
            .collection
            .update_many(
                doc! { "_id": { "$in": ids }, "lease_owner": &owner },
                doc! { "$set": { "sent_at": DateTime::now(), "lease_until": null } },
            )
            .await?;
        if marked.matched_count < claimed.len() as u64 {
            tracing::warn!(
                claimed = claimed.len(),
                marked = marked.matched_count,
                "outbox lease lapsed before the publish was confirmed; another relay may publish these messages again"
            );
        }
        metrics::histogram!("messaging_outbox_relay_seconds", "store" => STORE).record(started.elapsed().as_secs_f64());
        Ok(claimed.len())
    }

    /// Claims up to [`BATCH_SIZE`] pending documents, oldest first, for pass `owner`, and
    /// returns them oldest first.
    ///
    /// Each round reads the oldest claimable ids, then claims them with one `update_many` whose
    /// filter repeats the claimable condition: the server checks it per document as it writes, so
    /// of two relays racing for a document only one claims it. The loser's next round reads the
    /// documents after those. A few round trips per batch, whatever its size.
    async fn claim(&self, owner: &str) -> Result<Vec<OutboxDocument>, mongodb::error::Error> {
        let now = DateTime::now();
        let lease_millis = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let lease_until = DateTime::from_millis(now.timestamp_millis().saturating_add(lease_millis));
        let claimable = doc! {
            "sent_at": null,
            "$or": [ { "lease_until": null }, { "lease_until": { "$lt": now } } ],
        };
        let update = doc! { "$set": { "lease_until": lease_until, "lease_owner": owner } };
        let mut claimed = 0;
        for _ in 0..CLAIM_ROUNDS {
            let wanted = BATCH_SIZE - claimed;
            let candidates: Vec<Document> = self
                .collection
                .clone_with_type::<Document>()
                .find(claimable.clone())
                .projection(doc! { "_id": 1 })
                .sort(doc! { "_id": 1 })
                .limit(i64::try_from(wanted).unwrap_or(i64::MAX))
                .await?
                .try_collect()
                .await?;
            if candidates.is_empty() {
                break;
            }
            let ids: Vec<Bson> = candidates.iter().filter_map(|candidate| candidate.get("_id").cloned()).collect();
            let mut filter = claimable.clone();
            filter.insert("_id", doc! { "$in": ids });
            let result = self.collection.update_many(filter, update.clone()).await?;
            claimed += usize::try_from(result.modified_count).unwrap_or(usize::MAX);
            // Fewer candidates than wanted: nothing else is waiting.
            if claimed >= BATCH_SIZE || candidates.len() < wanted {
                break;
            }
        }
        if claimed == 0 {
            return Ok(Vec::new());
        }
        self.collection
            .find(doc! { "lease_owner": owner, "sent_at": null })
            .sort(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await
    }

    /// Gives up the claims of pass `owner`, so the next pass retries the documents at once. On
    /// failure the leases lapse instead.
    async fn release(&self, owner: &str) {
        let filter = doc! { "lease_owner": owner, "sent_at": null };
        let update = doc! { "$set": { "lease_until": null } };
        if let Err(error) = self.collection.update_many(filter, update).await {
            tracing::warn!(%error, "cannot release outbox claims; the documents wait until the lease lapses");
        }
    }

    /// Loops until shutdown: after a wake() or every poll interval (default 200 ms); errors back
    /// off and retry.
    pub async fn run(self, shutdown: CancellationToken) {
        let pacing = shop_kernel::worker::Pacing {
            poll_interval: self.poll_interval,
            batch_size: BATCH_SIZE,
            wake_sibling_when_full: false,
            // Counting pending documents is a query of its own: refresh the gauge now and then.
            upkeep_interval: GAUGE_INTERVAL,
        };
        shop_kernel::worker::drain(
            "mongo outbox relay",
            &self.waker,
            &pacing,
            &shutdown,
            || self.relay_once(),
            || self.record_pending(),
        )
        .await;
    }

    async fn record_pending(&self) {
        if let Ok(pending) = pending_count(&self.collection).await {
            metrics::gauge!("messaging_outbox_pending", "store" => STORE).set(pending as f64);
        }
    }
}
