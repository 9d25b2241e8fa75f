//! The saga commands: each answered once, in the same transaction as its effect, however
//! often the broker delivers it.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, Statement};
use shop_inventory::{domain::ReservationStatus, events::CommandHandler, service::Inventory, store::InventoryStore};
use shop_messaging::{Envelope, Handler, HandlerError, contracts, outbox::OutboxWaker};
use shop_testkit::Backend;

use crate::fresh_store;

fn handler(store: &Arc<InventoryStore>) -> CommandHandler {
    CommandHandler::new(Arc::new(Inventory::new(
        store.clone(),
        OutboxWaker::new(),
        std::time::Duration::from_secs(900),
    )))
}

/// Every answer in the outbox, oldest first.
async fn answers(store: &InventoryStore) -> Vec<Envelope> {
    let backend = store.connection().get_database_backend();
    let rows = store
        .connection()
        .query_all_raw(Statement::from_string(backend, "SELECT body FROM messaging_outbox ORDER BY id"))
        .await
        .unwrap();
    rows.into_iter()
        .map(|row| Envelope::from_json(row.try_get::<String>("", "body").unwrap().as_bytes()).unwrap())
        .collect()
}

fn reserve(order_id: &str, sku: &str, quantity: i64) -> Envelope {
    let lines = vec![contracts::StockLine { sku: sku.into(), quantity }];
    Envelope::new(&contracts::InventoryReserve { order_id: order_id.into(), lines }, order_id).unwrap()
}

async fn commands(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = Arc::new(store);
    store.seed("A", 3).await.unwrap();
    let handler = handler(&store);

    // Delivered twice: one hold, one answer.
    let first = reserve("order-1", "A", 2);
    handler.handle(&first).await.unwrap();
    handler.handle(&first).await.unwrap();
    let levels = store.stock_levels(&["A".into()]).await.unwrap();
    assert_eq!((levels[0].on_hand, levels[0].reserved), (3, 2));
    let sent = answers(&store).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].is::<contracts::InventoryReserved>());
    assert_eq!(sent[0].causation_id, Some(first.id));
    assert_eq!(sent[0].correlation_id, "order-1");

    // Not enough left: rejected with the shortage, nothing held.
    handler.handle(&reserve("order-2", "A", 2)).await.unwrap();
    let rejected: contracts::InventoryRejected = answers(&store).await[1].decode().unwrap();
    assert_eq!(rejected.shortages, vec![contracts::Shortage { sku: "A".into(), requested: 2, available: 1 }]);
    assert!(store.reservation("order-2").await.unwrap().is_none());

    // Commit takes the units out of stock; a release that overtakes its reserve leaves a
    // marker so the late reserve holds nothing.
    let commit = Envelope::new(&contracts::InventoryCommit { order_id: "order-1".into() }, "order-1").unwrap();
    handler.handle(&commit).await.unwrap();
    let release = Envelope::new(
        &contracts::InventoryRelease { order_id: "order-3".into(), reason: "cancelled".into() },
        "order-3",
    )
    .unwrap();
    handler.handle(&release).await.unwrap();
    handler.handle(&reserve("order-3", "A", 1)).await.unwrap();
    assert_eq!(store.reservation("order-3").await.unwrap().unwrap().status, ReservationStatus::Released);
    let levels = store.stock_levels(&["A".into()]).await.unwrap();
    assert_eq!((levels[0].on_hand, levels[0].reserved), (1, 0));
    let kinds: Vec<String> = answers(&store).await.into_iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        ["inventory.reserved.v1", "inventory.rejected.v1", "inventory.committed.v1", "inventory.rejected.v1"],
        "a release is answered with nothing"
    );

    // A message inventory does not handle is a poison message, not a silent drop.
    let stray = Envelope::new(&contracts::InventoryCommitted { order_id: "x".into() }, "x").unwrap();
    assert!(matches!(handler.handle(&stray).await, Err(HandlerError::Permanent(_))));
    // Committing an order that was never reserved is refused for an operator to look at.
    let orphan = Envelope::new(&contracts::InventoryCommit { order_id: "nobody".into() }, "nobody").unwrap();
    assert!(matches!(handler.handle(&orphan).await, Err(HandlerError::Permanent(_))));
}

fn commit(order_id: &str) -> Envelope {
    Envelope::new(&contracts::InventoryCommit { order_id: order_id.into() }, order_id).unwrap()
}

fn release(order_id: &str) -> Envelope {
    Envelope::new(&contracts::InventoryRelease { order_id: order_id.into(), reason: "cancelled".into() }, order_id)
        .unwrap()
}

async fn levels(store: &InventoryStore, sku: &str) -> (i64, i64) {
    let levels = store.stock_levels(&[sku.into()]).await.unwrap();
    (levels[0].on_hand, levels[0].reserved)
}

/// A confirmed order cancelled before it ships: its committed units go back on hand, once,
/// however often the release is delivered and whichever of commit and release comes first.
async fn a_committed_order_released_is_restocked_once(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = Arc::new(store);
    store.seed("A", 10).await.unwrap();
    let handler = handler(&store);

    handler.handle(&reserve("paid", "A", 4)).await.unwrap();
    handler.handle(&commit("paid")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (6, 0), "committed: the units left the stock");
    let first = release("paid");
    handler.handle(&first).await.unwrap();
    assert_eq!(levels(&store, "A").await, (10, 0), "restocked");
    assert_eq!(store.reservation("paid").await.unwrap().unwrap().status, ReservationStatus::Restocked);
    // The same release redelivered, and a second release (a second cancel's message): no
    // second restock, both answered.
    handler.handle(&first).await.unwrap();
    handler.handle(&release("paid")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (10, 0), "restocked once");
    // A commit that arrives after the order's release changes nothing and is not a poison
    // message (the order was cancelled).
    handler.handle(&commit("paid")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (10, 0));

    // The release first, the commit after it: the hold is released, the commit is a no-op.
    handler.handle(&reserve("overtaken", "A", 3)).await.unwrap();
    handler.handle(&release("overtaken")).await.unwrap();
    handler.handle(&commit("overtaken")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (10, 0));
    assert_eq!(store.reservation("overtaken").await.unwrap().unwrap().status, ReservationStatus::Released);

    let kinds: Vec<String> = answers(&store).await.into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["inventory.reserved.v1", "inventory.committed.v1", "inventory.reserved.v1"]);
}

/// A commit that arrives after the sweeper expired its hold: the units are taken again if they
/// are free, and the order is told what is short if they are not; never a dead letter.
async fn a_commit_after_the_hold_lapsed_takes_free_units_or_names_the_shortage(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = Arc::new(store);
    store.seed("A", 5).await.unwrap();
    let handler = handler(&store);
    let later = chrono::Utc::now() + chrono::Duration::hours(1);

    // Lapsed, still free: committed after all.
    handler.handle(&reserve("late", "A", 2)).await.unwrap();
    store.expire_due(later, 100, shop_inventory::events::expired_announcement).await.unwrap();
    assert_eq!(levels(&store, "A").await, (5, 0), "the hold lapsed");
    handler.handle(&commit("late")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (3, 0), "the paid order got its units");
    assert_eq!(store.reservation("late").await.unwrap().unwrap().status, ReservationStatus::Committed);
    // The same commit again: nothing more taken.
    handler.handle(&commit("late")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (3, 0));

    // Lapsed, and another order holds the units now: nothing taken, the shortage answered.
    handler.handle(&reserve("slow", "A", 2)).await.unwrap();
    store.expire_due(later, 100, shop_inventory::events::expired_announcement).await.unwrap();
    handler.handle(&reserve("fast", "A", 2)).await.unwrap();
    handler.handle(&commit("slow")).await.unwrap();
    assert_eq!(levels(&store, "A").await, (3, 2), "only the other order's hold");
    assert_eq!(store.reservation("slow").await.unwrap().unwrap().status, ReservationStatus::Expired);
    let last = answers(&store).await.pop().unwrap();
    let failed: contracts::InventoryCommitFailed = last.decode().unwrap();
    assert_eq!(failed.shortages, vec![contracts::Shortage { sku: "A".into(), requested: 2, available: 1 }]);
}

/// A cancellation's release that waits on the row lock of a commit in flight (an order
/// cancelled while inventory commits it) finds the units committed when the lock is released,
/// and restocks them; deciding on the row it read before waiting parked it as a dead letter
/// ("ACTIVE cannot become RELEASED") with the units gone for good. PostgreSQL only: SQLite
/// writers take turns for a whole transaction, so the two cannot interleave there.
#[tokio::test]
async fn a_release_that_waited_for_a_commit_restocks() {
    let (store, _guard) = fresh_store(Backend::Postgres).await;
    let store = Arc::new(store);
    store.seed("A", 10).await.unwrap();
    let inventory = Arc::new(Inventory::new(store.clone(), OutboxWaker::new(), std::time::Duration::from_secs(900)));
    CommandHandler::new(inventory.clone()).handle(&reserve("raced", "A", 4)).await.unwrap();

    let committing = inventory.claim("test", &commit("raced")).await.unwrap().unwrap();
    committing.commit("raced").await.unwrap();
    let releasing = {
        let inventory = inventory.clone();
        tokio::spawn(async move {
            let step = inventory.claim("test", &release("raced")).await.unwrap().unwrap();
            let released = step.release("raced").await;
            step.answer(&[]).await.unwrap();
            released
        })
    };
    // The release reads the hold as ACTIVE, then waits for the commit's row lock.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!releasing.is_finished(), "the release waits for the commit");
    committing.answer(&[]).await.unwrap();

    let released = releasing.await.unwrap().expect("the release succeeds");
    assert_eq!(released.status, ReservationStatus::Restocked);
    assert_eq!(levels(&store, "A").await, (10, 0), "the committed units are back on hand");
}

shop_testkit::on_sql_backends!(
    commands,
    a_committed_order_released_is_restocked_once,
    a_commit_after_the_hold_lapsed_takes_free_units_or_names_the_shortage,
);
