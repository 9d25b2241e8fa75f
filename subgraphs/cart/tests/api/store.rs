//! The store contract: what `CartStore` promises, checked on Redis and on the in-memory twin.

use std::time::Duration;

use chrono::Utc;
use shop_cart::{
    domain::{Cart, NewLine, Quantity, Sku},
    store::{MergeError, SaveError},
};
use shop_testkit::Backend;
use uuid::Uuid;

use crate::{TEST_TTL, fresh_store};

fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine {
        product_id: Uuid::from_u128(7),
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::parse(quantity).unwrap(),
    }
}

fn cart(owner: Option<Uuid>, lines: &[(&str, i64)]) -> Cart {
    let lines: Vec<NewLine> = lines.iter().map(|(sku, q)| line(sku, *q)).collect();
    Cart::with_lines(Uuid::new_v4(), owner, &lines, Utc::now()).unwrap()
}

fn quantities(cart: &Cart) -> Vec<(String, u8)> {
    cart.lines().iter().map(|l| (l.sku.as_str().to_owned(), l.quantity.get())).collect()
}

fn pairs(list: &[(&str, u8)]) -> Vec<(String, u8)> {
    list.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect()
}

async fn create_and_get(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    store.ping().await.unwrap();
    let guest = cart(None, &[("A", 2)]);
    assert_eq!(store.create(&guest).await.unwrap(), guest);
    assert_eq!(store.get(guest.id()).await.unwrap(), Some(guest.clone()), "a cart reads back as written");
    assert_eq!(store.get(Uuid::new_v4()).await.unwrap(), None);

    let me = Uuid::new_v4();
    let mine = cart(Some(me), &[("B", 1)]);
    assert_eq!(store.create(&mine).await.unwrap(), mine);
    let second = cart(Some(me), &[("C", 5)]);
    assert_eq!(store.create(&second).await.unwrap(), mine, "a user has one cart: the first one wins");
    assert_eq!(store.get(second.id()).await.unwrap(), None, "and the second was not written");
    assert_eq!(store.cart_of_user(me).await.unwrap(), Some(mine));
}

async fn changes(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let first = store.create(&cart(None, &[("A", 1)])).await.unwrap();
    let now = Utc::now();
    let added = first.add_lines(&[line("A", 2), line("B", 1)], now).unwrap();
    store.replace(&added, first.version()).await.unwrap();
    let stored = store.get(first.id()).await.unwrap().unwrap();
    assert_eq!((stored.version(), quantities(&stored)), (2, pairs(&[("A", 3), ("B", 1)])));

    let b = shop_cart::domain::LineRef::Sku(Sku::parse("B").unwrap());
    let removed = stored.remove_lines(&[b], now).unwrap();
    store.replace(&removed, 2).await.unwrap();
    let stored = store.get(first.id()).await.unwrap().unwrap();
    assert_eq!((stored.version(), quantities(&stored)), (3, pairs(&[("A", 3)])));
    assert_eq!(stored, removed);
}

async fn version_conflicts(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let first = store.create(&cart(None, &[("A", 1)])).await.unwrap();
    let next = first.add_lines(&[line("B", 1)], Utc::now()).unwrap();
    store.replace(&next, 1).await.unwrap();

    let stale = first.add_lines(&[line("C", 1)], Utc::now()).unwrap();
    assert!(matches!(store.replace(&stale, 1).await, Err(SaveError::Conflict)));
    assert_eq!(store.get(first.id()).await.unwrap(), Some(next), "a refused write changes nothing");

    let never_stored = cart(None, &[("A", 1)]);
    assert!(matches!(store.replace(&never_stored, 1).await, Err(SaveError::Missing)));
    assert_eq!(store.get(never_stored.id()).await.unwrap(), None, "and creates nothing");
}

/// Twenty writers read the same version and write at once: exactly one wins.
async fn concurrent_writers(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let me = Uuid::new_v4();
    let base = store.create(&cart(Some(me), &[])).await.unwrap();
    let writers = (0..20).map(|i| {
        let store = store.clone();
        let next = base.add_lines(&[line(&format!("W-{i}"), 1)], Utc::now()).unwrap();
        tokio::spawn(async move { store.replace(&next, 1).await.map(|()| next) })
    });
    let mut winners = Vec::new();
    for result in futures::future::join_all(writers).await {
        match result.unwrap() {
            Ok(next) => winners.push(next),
            Err(SaveError::Conflict) => {}
            Err(other) => panic!("unexpected failure under contention: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    let stored = store.get(base.id()).await.unwrap().unwrap();
    assert_eq!(Some(&stored), winners.first());
    assert_eq!(store.cart_of_user(me).await.unwrap(), Some(stored));
}

/// Carts (and the user index) expire a TTL after their last write; a write restarts it.
async fn expiry(backend: Backend) {
    let ttl = Duration::from_millis(1_000);
    let store = fresh_store(backend, ttl).await;
    let me = Uuid::new_v4();
    let mine = store.create(&cart(Some(me), &[("A", 1)])).await.unwrap();
    let guest = store.create(&cart(None, &[("A", 1)])).await.unwrap();

    tokio::time::sleep(Duration::from_millis(600)).await;
    let touched = mine.add_lines(&[line("B", 1)], Utc::now()).unwrap();
    store.replace(&touched, 1).await.unwrap();

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(store.get(guest.id()).await.unwrap(), None, "an idle cart expires");
    assert_eq!(store.get(mine.id()).await.unwrap(), Some(touched.clone()), "a write restarts the clock");
    assert_eq!(store.cart_of_user(me).await.unwrap(), Some(touched.clone()), "for the index too");

    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(store.get(mine.id()).await.unwrap(), None);
    assert_eq!(store.cart_of_user(me).await.unwrap(), None);
    let again = touched.clear(Utc::now());
    assert!(matches!(store.replace(&again, 2).await, Err(SaveError::Missing)), "an expired cart cannot be written");
    let fresh = cart(Some(me), &[]);
    assert_eq!(store.create(&fresh).await.unwrap(), fresh, "a user whose cart expired gets a new one");
}

async fn merge(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let me = Uuid::new_v4();
    let guest = store.create(&cart(None, &[("A", 60), ("G", 1)])).await.unwrap();
    let mine = store.create(&cart(Some(me), &[("A", 50), ("M", 2)])).await.unwrap();

    let merged = Cart::merge(Some(&mine), &guest, me, Uuid::new_v4(), Utc::now()).unwrap();
    let stale_guest = guest.add_lines(&[line("X", 1)], Utc::now()).unwrap();
    assert!(matches!(store.merge(&merged, Some(1), &stale_guest).await, Err(MergeError::GuestChanged)));
    assert!(matches!(store.merge(&merged, Some(7), &guest).await, Err(MergeError::TargetChanged)));
    assert!(matches!(store.merge(&merged, None, &guest).await, Err(MergeError::TargetChanged)), "the user has a cart");
    assert_eq!(store.get(guest.id()).await.unwrap(), Some(guest.clone()), "refused merges change nothing");
    assert_eq!(store.cart_of_user(me).await.unwrap(), Some(mine.clone()));

    store.merge(&merged, Some(mine.version()), &guest).await.unwrap();
    assert_eq!(store.get(guest.id()).await.unwrap(), None, "the guest cart is gone");
    let stored = store.cart_of_user(me).await.unwrap().unwrap();
    assert_eq!((stored.id(), stored.version()), (mine.id(), 2));
    assert_eq!(quantities(&stored), pairs(&[("A", 99), ("M", 2), ("G", 1)]));
    assert!(
        matches!(store.merge(&merged, Some(2), &guest).await, Err(MergeError::GuestMissing)),
        "a guest cart merges once"
    );

    // Into a user with no cart: the merged cart is new and indexed.
    let newcomer = Uuid::new_v4();
    let guest = store.create(&cart(None, &[("A", 1)])).await.unwrap();
    let merged = Cart::merge(None, &guest, newcomer, Uuid::new_v4(), Utc::now()).unwrap();
    store.merge(&merged, None, &guest).await.unwrap();
    assert_eq!(store.cart_of_user(newcomer).await.unwrap(), Some(merged.clone()));
    assert_eq!(store.get(merged.id()).await.unwrap(), Some(merged));
}

/// Two sign-ins race to merge the same guest cart: exactly one wins.
async fn concurrent_merges(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let guest = store.create(&cart(None, &[("A", 1)])).await.unwrap();
    let users: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let merges = users.iter().map(|user| {
        let (store, guest) = (store.clone(), guest.clone());
        let merged = Cart::merge(None, &guest, *user, Uuid::new_v4(), Utc::now()).unwrap();
        tokio::spawn(async move { store.merge(&merged, None, &guest).await })
    });
    let outcomes: Vec<_> = futures::future::join_all(merges).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Ok(()) | Err(MergeError::GuestMissing))), "{outcomes:?}");
    assert_eq!(store.carts_of_users(&users).await.unwrap().len(), 1);
}

async fn user_index(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let cart_a = store.create(&cart(Some(a), &[("A", 1)])).await.unwrap();
    let cart_b = store.create(&cart(Some(b), &[("B", 2)])).await.unwrap();
    store.create(&cart(None, &[("G", 1)])).await.unwrap();
    let found = store.carts_of_users(&[a, b, c]).await.unwrap();
    assert_eq!(found.len(), 2, "users without a cart are absent");
    assert_eq!(found.get(&a), Some(&cart_a));
    assert_eq!(found.get(&b), Some(&cart_b));
    assert!(store.carts_of_users(&[]).await.unwrap().is_empty());
    assert_eq!(store.cart_of_user(c).await.unwrap(), None);
}

shop_testkit::on_backends!(
    [redis => Redis, memory => Memory],
    [create_and_get, changes, version_conflicts, concurrent_writers, expiry, merge, concurrent_merges, user_index]
);
