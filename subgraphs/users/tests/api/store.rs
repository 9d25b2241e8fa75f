//! The store contract: what `UserStore` promises, checked on SQLite and on MongoDB.
//!
//! Each scenario opens a fresh store of the backend it is given; `on_backends!` runs it on a
//! fresh SQLite file and on a fresh MongoDB database.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use shop_kernel::input::PostalAddressDraft;
use shop_messaging::{
    Bus, ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{UserRegistered, notifications_queue, topology},
    memory::InMemoryBus,
    outbox::OutboxWaker,
};
use shop_testkit::{Backend, TempDir};
use shop_users::{
    domain::{AddressInput, AddressKind, NewUser, ProfilePatch, User, email_key},
    events::{self, registration_announcement},
    store::{Consumed, RefreshToken, StoreError, UserStore, mongo::MongoUserStore, sql::SqlUserStore},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Running one contract on both adapters.

/// A fresh, prepared store on `backend` (and the guard of its SQLite file, if any).
async fn fresh_store(backend: Backend) -> (Box<dyn UserStore>, Option<TempDir>) {
    match backend {
        Backend::Mongo => {
            let store = MongoUserStore::connect(&shop_testkit::mongo_url(), &shop_testkit::unique_name("shoptest"), 8)
                .await
                .expect("connect to MongoDB");
            store.prepare().await.expect("prepare the MongoDB store");
            (Box::new(store), None)
        }
        sql => {
            let (url, guard) = shop_testkit::fresh_sql_database(sql).await;
            let store = SqlUserStore::connect(&url, 8).await.expect("open the database");
            store.prepare().await.expect("prepare the SQL store");
            (Box::new(store), guard)
        }
    }
}

shop_testkit::on_backends!(
    [sqlite => Sqlite, mongo => Mongo],
    [
        users_read_back_by_id_and_email,
        a_taken_email_in_any_case_is_refused_and_writes_nothing,
        updates_apply_only_on_top_of_the_stored_version,
        lists_search_prefixes_literally_and_paginate,
        refresh_tokens_are_fresh_once_then_reused_expired_or_unknown,
        revoking_a_family_spares_other_families,
        revoking_a_user_spares_other_users,
        a_registration_and_its_announcement_commit_together_then_publish,
        concurrent_consumes_of_one_token_have_one_winner,
    ]
);

/// The announcement is written with the user, never without it, and the relay publishes it.
async fn a_registration_and_its_announcement_commit_together_then_publish(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let ada = user("ada@example.com", "Ada Lovelace", 1);
    let announcement = registration_announcement(&ada).expect("encode");
    store.insert_user(&ada, std::slice::from_ref(&announcement)).await.expect("insert Ada");
    assert_eq!(store.pending_announcements().await.expect("count"), 1);

    // A refused registration announces nothing.
    let twin = user("ADA@example.com", "Another Ada", 2);
    let refused = registration_announcement(&twin).expect("encode");
    let result = store.insert_user(&twin, &[refused]).await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "{result:?}");
    assert_eq!(store.pending_announcements().await.expect("count"), 1);

    // The relay publishes it: a consumer of `user.registered` receives Ada's announcement.
    let bus: Arc<dyn Bus> = InMemoryBus::new(topology());
    let (seen, received) = tokio::sync::mpsc::unbounded_channel();
    let spec = notifications_queue();
    let shutdown = CancellationToken::new();
    let consumer =
        bus.consume(ConsumerSpec::durable(spec), Arc::new(Collect(seen)), shutdown.clone()).await.expect("consume");
    let relay = events::spawn_relay(store, bus.clone(), OutboxWaker::new(), shutdown.clone());
    let mut received = received;
    let envelope = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv())
        .await
        .expect("published within 10 s")
        .expect("a message");
    assert_eq!(envelope.id, announcement.id);
    let event: UserRegistered = envelope.decode().expect("a user.registered payload");
    assert_eq!(event.user_id, ada.id.to_string());
    assert_eq!(event.email, "ada@example.com");
    assert_eq!(event.name, "Ada Lovelace");
    shutdown.cancel();
    relay.await.expect("relay stops");
    consumer.join().await;
    assert_eq!(store.pending_announcements().await.expect("count"), 0);
}

/// Forwards every message it handles.
struct Collect(tokio::sync::mpsc::UnboundedSender<Envelope>);

#[async_trait::async_trait]
impl Handler for Collect {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.0.send(envelope.clone()).map_err(|e| HandlerError::Permanent(e.to_string()))
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures.

/// A fixed instant plus whole minutes: fixtures get distinct, predictable creation times.
fn at(minute: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600 + minute * 60, 0).expect("a valid timestamp")
}

/// "Now" for refresh tokens.
fn now() -> DateTime<Utc> {
    at(1_000)
}

/// A customer registered at `at(minute)`, version 1.
fn user(email: &str, name: &str, minute: i64) -> User {
    NewUser::parse(email, name, None, "correct horse battery")
        .expect("a valid registration")
        .into_user("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(), at(minute))
}

fn address(kind: AddressKind, city: &str) -> AddressInput {
    AddressInput {
        kind,
        is_default: false,
        postal: PostalAddressDraft {
            name: "Ada Lovelace".into(),
            line1: "12 St James's Square".into(),
            line2: Some("Flat 3".into()),
            city: city.into(),
            region: None,
            postal_code: "SW1Y 4JH".into(),
            country: "gb".into(),
            phone: Some("+44 20 7946 0000".into()),
        },
    }
}

/// A token of `user_id` in `family_id`, issued a minute before [`now`], that expires
/// `expires_in` after it.
fn token(hash: &str, user_id: Uuid, family_id: Uuid, expires_in: Duration) -> RefreshToken {
    RefreshToken {
        hash: hash.to_owned(),
        user_id,
        family_id,
        issued_at: now() - Duration::minutes(1),
        expires_at: now() + expires_in,
    }
}

async fn stored(store: &dyn UserStore, token: &RefreshToken) -> RefreshToken {
    store.insert_refresh_token(token).await.expect("insert a refresh token");
    token.clone()
}

async fn consume(store: &dyn UserStore, hash: &str) -> Consumed {
    store.consume_refresh_token(hash, now()).await.expect("consume a refresh token")
}

fn by_id(mut users: Vec<User>) -> Vec<User> {
    users.sort_by_key(|u| u.id);
    users
}

async fn read(store: &dyn UserStore, id: Uuid) -> Option<User> {
    let mut found = store.users_by_ids(&[id]).await.expect("read a user by id");
    assert!(found.len() <= 1, "one user per id");
    found.pop()
}

async fn everyone(store: &dyn UserStore) -> (Vec<User>, u64) {
    store.list_users(None, 0, 1_000).await.expect("list every user")
}

fn emails(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.email.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Users.

/// What is inserted reads back whole, by id and by email key.
async fn users_read_back_by_id_and_email(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    store.ping().await.expect("the store answers");
    store.prepare().await.expect("prepare is idempotent");

    let ada = NewUser::parse(" Ada@Example.com ", "Ada Lovelace", Some("+44 20 7946 0000"), "correct horse battery")
        .expect("a valid registration")
        .into_user("hash".into(), at(1))
        .with_address_added(&address(AddressKind::Shipping, "London"), Uuid::new_v4(), at(2))
        .expect("add a shipping address")
        .with_address_added(&address(AddressKind::Billing, "Ockham"), Uuid::new_v4(), at(3))
        .expect("add a billing address");
    assert_eq!(ada.version, 3);
    let alan = user("alan@example.com", "Alan Turing", 4);
    store.insert_user(&ada, &[]).await.expect("insert Ada");
    store.insert_user(&alan, &[]).await.expect("insert Alan");

    let found = store.users_by_ids(&[alan.id, ada.id, Uuid::new_v4()]).await.expect("read by ids");
    assert_eq!(by_id(found), by_id(vec![ada.clone(), alan.clone()]), "unknown ids are skipped");
    assert!(store.users_by_ids(&[]).await.expect("read no ids").is_empty());
    assert!(store.users_by_ids(&[Uuid::new_v4()]).await.expect("read an unknown id").is_empty());

    assert_eq!(store.user_by_email("ada@example.com").await.expect("read by email"), Some(ada.clone()));
    assert_eq!(store.user_by_email(&email_key("ALAN@example.com")).await.expect("read by email"), Some(alan));
    assert_eq!(store.user_by_email("nobody@example.com").await.expect("read an unknown email"), None);

    let stored = store.user_by_email("ada@example.com").await.expect("read by email").expect("Ada");
    assert_eq!(stored.email, "Ada@Example.com", "the email is kept as typed");
    assert_eq!(stored.addresses.len(), 2);
    assert_eq!(stored.created_at, at(1));
    assert_eq!(stored.updated_at, at(3));
}

/// An email that differs only in case is taken; a refused insert writes nothing.
async fn a_taken_email_in_any_case_is_refused_and_writes_nothing(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let ada = user("ada@example.com", "Ada Lovelace", 1);
    store.insert_user(&ada, &[]).await.expect("insert Ada");

    let twin = user("ADA@Example.COM", "Another Ada", 2);
    assert_eq!(twin.email_key, ada.email_key);
    let result = store.insert_user(&twin, &[]).await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "same email, other case: {result:?}");

    let result = store.insert_user(&ada, &[]).await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "the same user twice: {result:?}");

    assert_eq!(read(store, twin.id).await, None, "the refused user was not written");
    assert_eq!(store.user_by_email("ada@example.com").await.expect("read by email"), Some(ada.clone()));
    let (users, total) = everyone(store).await;
    assert_eq!((users, total), (vec![ada], 1));
    assert!(
        store.list_users(Some("another"), 0, 10).await.expect("search").0.is_empty(),
        "the refused user's name is not searchable"
    );
}

/// `update_user` writes only over the version it was derived from, and a taken email is
/// refused without changing anything.
async fn updates_apply_only_on_top_of_the_stored_version(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let v1 = user("ada@example.com", "Ada Lovelace", 1);
    let grace = user("grace@navy.mil", "Grace Hopper", 2);
    store.insert_user(&v1, &[]).await.expect("insert Ada");
    store.insert_user(&grace, &[]).await.expect("insert Grace");

    let v2 =
        v1.with_profile(ProfilePatch::parse(Some("Ada King"), Some("+44 20 7946 0001")).expect("a valid patch"), at(5));
    assert_eq!(v2.version, 2);
    store.update_user(&v2).await.expect("update on top of version 1");
    assert_eq!(read(store, v1.id).await, Some(v2.clone()));
    let search = |text: &'static str| async move { store.list_users(Some(text), 0, 10).await.expect("search").0 };
    assert_eq!(search("ada k").await, vec![v2.clone()], "the new name is searchable");
    assert!(search("ada l").await.is_empty(), "the old name is forgotten");

    // Derived from version 1, which is no longer stored.
    let stale = v1.with_address_added(&address(AddressKind::Shipping, "London"), Uuid::new_v4(), at(6)).expect("add");
    assert_eq!(stale.version, 2);
    let result = store.update_user(&stale).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "stale version: {result:?}");
    let result = store.update_user(&v2).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "the same update twice: {result:?}");
    assert_eq!(read(store, v1.id).await, Some(v2.clone()), "a refused update changes nothing");

    // A user that was never stored has no version to match, and is not created.
    let ghost = user("ghost@example.com", "Ghost", 7).touched(at(8));
    let result = store.update_user(&ghost).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "unknown user: {result:?}");
    assert_eq!(read(store, ghost.id).await, None, "update never inserts");

    // Taking Grace's email (in another case) is refused; nothing changes.
    let mut clash = v2.touched(at(9));
    clash.email = "GRACE@Navy.mil".into();
    clash.email_key = email_key(&clash.email);
    let result = store.update_user(&clash).await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "taken email on update: {result:?}");
    assert_eq!(read(store, v1.id).await, Some(v2.clone()));
    assert_eq!(store.user_by_email("grace@navy.mil").await.expect("read Grace"), Some(grace));

    // Changing to a free email moves the key.
    let mut v3 = v2.touched(at(10));
    v3.email = "Countess@Example.com".into();
    v3.email_key = email_key(&v3.email);
    store.update_user(&v3).await.expect("update on top of version 2");
    assert_eq!(store.user_by_email("ada@example.com").await.expect("old email"), None, "the old email is released");
    assert_eq!(store.user_by_email("countess@example.com").await.expect("new email"), Some(v3.clone()));
    let reuse = user("ada@example.com", "New Ada", 11);
    store.insert_user(&reuse, &[]).await.expect("a released email can be registered again");
    assert_eq!(read(store, v1.id).await, Some(v3));
}

/// Prefix search on email or name, case-insensitive, with metacharacters taken literally;
/// oldest first with the id breaking ties; pages that add up to the whole list.
async fn lists_search_prefixes_literally_and_paginate(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let mut users = vec![
        user("ada@example.com", "Ada Lovelace", 1),
        user("alan@example.com", "Alan Turing", 2),
        user("Grace@Navy.mil", "Grace Hopper", 3),
        user("a.%x@example.com", "Percent Sign", 4),
        user("abc@example.com", "Abc Def", 5),
        user("a_c@example.com", "Under Score", 6),
        user("a\\b@example.com", "Back Slash", 7),
        user("zed@example.com", "Adalbert Zed", 8),
        user("tie-one@example.com", "Tie", 9),
        user("tie-two@example.com", "Tie", 9),
    ];
    // Insert out of order: the list order must come from the store.
    for u in users.iter().rev() {
        store.insert_user(u, &[]).await.expect("insert a fixture user");
    }
    users.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.to_string().cmp(&b.id.to_string())));

    let (all, total) = everyone(store).await;
    assert_eq!(total, 10);
    assert_eq!(all, users, "oldest first, then by id");

    let cases: &[(&str, &[&str])] = &[
        ("ADA", &["ada@example.com", "zed@example.com"]),
        ("al", &["alan@example.com"]),
        ("grace", &["Grace@Navy.mil"]),
        ("GRACE H", &["Grace@Navy.mil"]),
        ("hopper", &[]),
        ("navy", &[]),
        ("a.%", &["a.%x@example.com"]),
        ("a.", &["a.%x@example.com"]),
        ("a.*", &[]),
        ("a%", &[]),
        ("a_", &["a_c@example.com"]),
        ("a\\", &["a\\b@example.com"]),
        ("a\\b", &["a\\b@example.com"]),
        ("(", &[]),
        ("[a", &[]),
        ("^a", &[]),
        ("a|z", &[]),
        ("tie", &["tie-one@example.com", "tie-two@example.com"]),
    ];
    for (search, expected) in cases {
        let (found, total) = store.list_users(Some(search), 0, 100).await.expect("search");
        let mut found_emails = emails(&found);
        found_emails.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(found_emails, expected, "search {search:?}");
        assert_eq!(total, expected.len() as u64, "total of search {search:?}");
    }
    let (found, total) = store.list_users(Some(""), 0, 100).await.expect("empty search");
    assert_eq!((found, total), (users.clone(), 10), "an empty prefix matches everyone");

    // Pages.
    for size in [1_u64, 3, 4, 10] {
        let mut seen = Vec::new();
        let mut offset = 0;
        while offset < 12 {
            let (page, total) = store.list_users(None, offset, size).await.expect("a page");
            assert_eq!(total, 10, "the total does not depend on the page");
            assert!(page.len() as u64 <= size);
            seen.extend(page);
            offset += size;
        }
        assert_eq!(seen, users, "pages of {size} add up to the list");
    }
    let (page, total) = store.list_users(None, 10, 5).await.expect("past the end");
    assert!(page.is_empty());
    assert_eq!(total, 10);
    let (page, total) = store.list_users(None, 3, 0).await.expect("an empty page");
    assert!(page.is_empty());
    assert_eq!(total, 10);

    // A search is paginated too: everyone whose email or name starts with "a".
    let starts_with_a: Vec<User> = users
        .iter()
        .filter(|u| u.email_key.starts_with('a') || u.name.to_lowercase().starts_with('a'))
        .cloned()
        .collect();
    assert_eq!(starts_with_a.len(), 7);
    let (page, total) = store.list_users(Some("A"), 1, 2).await.expect("a page of a search");
    assert_eq!(total, 7);
    assert_eq!(page, starts_with_a[1..3].to_vec());
}

// ---------------------------------------------------------------------------------------
// Refresh tokens.

/// A live token is fresh once, then reused; expired and unknown tokens say so.
async fn refresh_tokens_are_fresh_once_then_reused_expired_or_unknown(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let (user_id, family_id) = (Uuid::new_v4(), Uuid::new_v4());

    let live = stored(store, &token("live", user_id, family_id, Duration::hours(1))).await;
    assert_eq!(consume(store, "live").await, Consumed::Fresh(live.clone()));
    assert_eq!(consume(store, "live").await, Consumed::Reused(live.clone()), "a second use is a replay");
    let later = now() + Duration::days(1);
    assert_eq!(
        store.consume_refresh_token("live", later).await.expect("consume after expiry"),
        Consumed::Reused(live.clone()),
        "a spent token stays a replay after it expires"
    );

    stored(store, &token("expired", user_id, family_id, -Duration::seconds(1))).await;
    assert_eq!(consume(store, "expired").await, Consumed::Expired);
    assert_eq!(consume(store, "expired").await, Consumed::Expired, "an expired token is not spent");

    stored(store, &token("edge", user_id, family_id, Duration::zero())).await;
    assert_eq!(consume(store, "edge").await, Consumed::Expired, "a token is dead at its expiry instant");
    let last_ms = stored(store, &token("last-ms", user_id, family_id, Duration::milliseconds(1))).await;
    assert_eq!(consume(store, "last-ms").await, Consumed::Fresh(last_ms), "times compare to the millisecond");

    assert_eq!(consume(store, "unknown").await, Consumed::Unknown);

    // Times read back as stored, across a day boundary and far in the future.
    let long =
        RefreshToken { expires_at: now() + Duration::days(400), ..token("long", user_id, family_id, Duration::zero()) };
    stored(store, &long).await;
    assert_eq!(consume(store, "long").await, Consumed::Fresh(long));
}

/// Revoking a family turns each of its tokens into a replay; other families are untouched.
async fn revoking_a_family_spares_other_families(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let user_id = Uuid::new_v4();
    let (family_a, family_b) = (Uuid::new_v4(), Uuid::new_v4());
    let a1 = stored(store, &token("a1", user_id, family_a, Duration::hours(1))).await;
    let a2 = stored(store, &token("a2", user_id, family_a, Duration::hours(1))).await;
    let a_expired = stored(store, &token("a-expired", user_id, family_a, -Duration::hours(1))).await;
    let b1 = stored(store, &token("b1", user_id, family_b, Duration::hours(1))).await;

    store.revoke_family(family_a).await.expect("revoke family A");
    store.revoke_family(Uuid::new_v4()).await.expect("revoking an unknown family is fine");

    assert_eq!(consume(store, "a1").await, Consumed::Reused(a1));
    assert_eq!(consume(store, "a2").await, Consumed::Reused(a2));
    assert_eq!(consume(store, "a-expired").await, Consumed::Reused(a_expired), "revoked wins over expired");
    assert_eq!(consume(store, "b1").await, Consumed::Fresh(b1));
}

/// Revoking a user's tokens ends all their sessions and nobody else's.
async fn revoking_a_user_spares_other_users(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let (ada, alan) = (Uuid::new_v4(), Uuid::new_v4());
    let phone = stored(store, &token("ada-phone", ada, Uuid::new_v4(), Duration::hours(1))).await;
    let laptop = stored(store, &token("ada-laptop", ada, Uuid::new_v4(), Duration::hours(1))).await;
    let other = stored(store, &token("alan", alan, Uuid::new_v4(), Duration::hours(1))).await;

    store.revoke_user_tokens(ada).await.expect("revoke Ada's tokens");
    store.revoke_user_tokens(Uuid::new_v4()).await.expect("revoking a user without tokens is fine");

    assert_eq!(consume(store, "ada-phone").await, Consumed::Reused(phone));
    assert_eq!(consume(store, "ada-laptop").await, Consumed::Reused(laptop));
    assert_eq!(consume(store, "alan").await, Consumed::Fresh(other));
}

/// Of many concurrent spends of one token, exactly one wins.
async fn concurrent_consumes_of_one_token_have_one_winner(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let store = &*store;
    let raced = stored(store, &token("raced", Uuid::new_v4(), Uuid::new_v4(), Duration::hours(1))).await;
    let attempts = (0..20).map(|_| store.consume_refresh_token("raced", now()));
    let results = futures::future::join_all(attempts).await;
    let mut fresh = 0;
    let mut reused = 0;
    for result in results {
        match result.expect("every attempt gets an answer") {
            Consumed::Fresh(token) => {
                assert_eq!(token, raced);
                fresh += 1;
            }
            Consumed::Reused(token) => {
                assert_eq!(token, raced);
                reused += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((fresh, reused), (1, 19), "exactly one concurrent consume wins");
}
