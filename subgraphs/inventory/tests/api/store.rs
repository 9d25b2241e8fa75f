//! The store contract: reservations are all-or-nothing, idempotent, never oversell, and
//! stock invariants hold in the database itself.

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, Database};
use shop_inventory::{
    domain::{Adjustment, Line, ReservationRequest, ReservationStatus},
    store::{AdjustError, InventoryStore, ReserveError, TransitionError},
};
use shop_testkit::Backend;

use crate::fresh_store;

fn request(order: &str, lines: &[(&str, i64)]) -> ReservationRequest {
    ReservationRequest::new(
        order,
        lines.iter().map(|(sku, quantity)| Line { sku: (*sku).into(), quantity: *quantity }).collect(),
    )
    .unwrap()
}

async fn level(store: &InventoryStore, sku: &str) -> (i64, i64) {
    let levels = store.stock_levels(&[sku.to_owned()]).await.unwrap();
    let level = levels.first().expect("stock recorded");
    (level.on_hand, level.reserved)
}

fn later() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::minutes(15)
}

async fn reserve_then_commit(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    store.seed("A", 10).await.unwrap();
    store.seed("B", 5).await.unwrap();
    store.seed("A", 999).await.unwrap(); // seeding never overwrites

    let held = store.reserve(&request("order-1", &[("B", 2), ("A", 3)]), later()).await.unwrap();
    assert_eq!(held.status, ReservationStatus::Active);
    assert_eq!(held.lines, vec![Line { sku: "A".into(), quantity: 3 }, Line { sku: "B".into(), quantity: 2 }]);
    assert_eq!(level(&store, "A").await, (10, 3));

    let again = store.reserve(&request("order-1", &[("A", 3), ("B", 2)]), later()).await.unwrap();
    assert_eq!(again.id, held.id, "a second reserve for the same order returns the first");
    assert_eq!(level(&store, "A").await, (10, 3), "and holds nothing more");

    let committed = store.commit("order-1").await.unwrap();
    assert_eq!(committed.status, ReservationStatus::Committed);
    assert_eq!(level(&store, "A").await, (7, 0));
    assert_eq!(level(&store, "B").await, (3, 0));
    store.commit("order-1").await.expect("commit is idempotent");
    assert_eq!(level(&store, "A").await, (7, 0), "a repeated commit changes nothing");
    assert!(matches!(store.release("order-1").await, Err(TransitionError::Invalid { .. })));
    assert!(matches!(store.commit("no-such-order").await, Err(TransitionError::NotFound)));
}

async fn all_or_nothing(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    store.seed("A", 10).await.unwrap();
    store.seed("B", 5).await.unwrap();
    match store.reserve(&request("order-2", &[("A", 3), ("B", 6), ("GHOST", 1)]), later()).await {
        Err(ReserveError::Insufficient(shortages)) => {
            let named: Vec<(&str, i64, i64)> =
                shortages.iter().map(|s| (s.sku.as_str(), s.requested, s.available)).collect();
            assert_eq!(named, vec![("B", 6, 5), ("GHOST", 1, 0)]);
        }
        other => panic!("expected a shortage, got {other:?}"),
    }
    assert_eq!(level(&store, "A").await, (10, 0), "nothing was held");
    assert!(store.reservation("order-2").await.unwrap().is_none());
}

async fn release_and_expiry(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    store.seed("A", 4).await.unwrap();
    store.reserve(&request("keep", &[("A", 1)]), later()).await.unwrap();
    store.reserve(&request("drop", &[("A", 1)]), later()).await.unwrap();
    store.reserve(&request("stale", &[("A", 2)]), Utc::now() - Duration::seconds(1)).await.unwrap();
    assert_eq!(level(&store, "A").await, (4, 4));

    assert_eq!(store.release("drop").await.unwrap().status, ReservationStatus::Released);
    assert_eq!(level(&store, "A").await, (4, 3));

    let expired = store.expire_due(Utc::now(), 100, shop_inventory::events::expired_announcement).await.unwrap();
    assert_eq!(expired.iter().map(|r| r.order_id.as_str()).collect::<Vec<_>>(), vec!["stale"]);
    assert_eq!(expired[0].status, ReservationStatus::Expired);
    assert_eq!(level(&store, "A").await, (4, 1));
    assert!(
        store.expire_due(Utc::now(), 100, shop_inventory::events::expired_announcement).await.unwrap().is_empty(),
        "expiry happens once"
    );
    assert!(
        matches!(store.commit("stale").await, Err(TransitionError::Invalid { .. })),
        "an expired reservation cannot be committed"
    );
    // The expiry was announced in the same transaction, once.
    assert_eq!(shop_messaging::outbox::pending_count(store.connection()).await.unwrap(), 1);
}

async fn adjustments(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let restock = Adjustment::new("NEW-SKU", 5, "first delivery").unwrap();
    let level_after = store.adjust(&restock).await.unwrap();
    assert_eq!((level_after.on_hand, level_after.reserved), (5, 0));
    store.adjust(&Adjustment::new("NEW-SKU", 3, "second delivery").unwrap()).await.unwrap();
    store.reserve(&request("order", &[("NEW-SKU", 6)]), later()).await.unwrap();

    let too_much = Adjustment::new("NEW-SKU", -3, "damaged").unwrap();
    match store.adjust(&too_much).await {
        Err(AdjustError::WouldGoBelowReserved { available }) => assert_eq!(available, 2),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(level(&store, "NEW-SKU").await, (8, 6), "a refused adjustment changes nothing");
    let ok = store.adjust(&Adjustment::new("NEW-SKU", -2, "damaged").unwrap()).await.unwrap();
    assert_eq!((ok.on_hand, ok.reserved), (6, 6));
    assert!(matches!(store.adjust(&Adjustment::new("UNKNOWN", -1, "x").unwrap()).await, Err(AdjustError::UnknownSku)));

    let audit = store.adjustments("NEW-SKU", 0, 10).await.unwrap();
    assert_eq!(
        audit.iter().map(|a| a.delta).collect::<Vec<_>>(),
        vec![-2, 3, 5],
        "one audit row per applied change, newest first"
    );
    assert_eq!(audit[0].on_hand_after, 6);
}

/// 50 buyers race for the last 10 units: exactly 10 win and nothing is oversold.
async fn last_units_race(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    store.seed("LAST", 10).await.unwrap();
    let store = Arc::new(store);
    let attempts = (0..50).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.reserve(&request(&format!("racer-{i}"), &[("LAST", 1)]), later()).await })
    });
    let mut won = 0;
    let mut lost = 0;
    for attempt in futures::future::join_all(attempts).await {
        match attempt.unwrap() {
            Ok(_) => won += 1,
            Err(ReserveError::Insufficient(_)) => lost += 1,
            Err(other) => panic!("unexpected failure under contention: {other}"),
        }
    }
    assert_eq!((won, lost), (10, 40));
    assert_eq!(level(&store, "LAST").await, (10, 10));
}

shop_testkit::on_sql_backends!(reserve_then_commit, all_or_nothing, release_and_expiry, adjustments, last_units_race);

/// The database refuses what the code must never do, even if a bug tried.
#[tokio::test]
async fn postgres_constraints_guard_stock_invariants() {
    let url = shop_testkit::fresh_postgres_database().await;
    let store = InventoryStore::connect(&url, 2).await.unwrap();
    store.seed("GUARDED", 3).await.unwrap();
    let db = Database::connect(url.as_str()).await.unwrap();
    for statement in [
        "UPDATE inventory_stock SET reserved = 4 WHERE sku = 'GUARDED'",
        "UPDATE inventory_stock SET on_hand = -1 WHERE sku = 'GUARDED'",
        "UPDATE inventory_stock SET reserved = -1 WHERE sku = 'GUARDED'",
    ] {
        assert!(db.execute_unprepared(statement).await.is_err(), "{statement} must violate a constraint");
    }
    assert_eq!(level(&store, "GUARDED").await, (3, 0));
}
