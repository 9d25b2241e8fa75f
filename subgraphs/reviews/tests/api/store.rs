//! The store contract: what `ReviewStore` promises, on SQLite, MongoDB and PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use shop_kernel::store::StoreFailure;
use shop_reviews::{
    domain::{Position, ProductRating, Review, ReviewChange, ReviewDraft, ReviewSort, Stars, now_millis},
    store::{ReviewStore, StoreError},
};
use shop_testkit::Backend;
use uuid::Uuid;

use crate::{fresh_store, product};

shop_testkit::on_backends!(
    [sqlite => Sqlite, mongo => Mongo, postgres => Postgres],
    [
        one_review_per_user_and_product,
        aggregates_follow_every_write,
        concurrent_writes_keep_aggregates_exact,
        pages_follow_every_sort_and_skip_hidden_reviews,
        purchases_verify_reviews_before_and_after_they_are_written,
        a_purchase_racing_a_review_is_never_missed,
        a_cancelled_order_takes_the_verified_badge_back,
        a_pair_stays_purchased_while_another_order_stands,
        a_cancellation_before_its_confirmation_is_final,
        redelivered_orders_converge_in_any_order,
        ratings_of_many_products_come_in_one_call,
    ]
);

/// A fixed instant plus whole minutes: fixtures get distinct, predictable creation times.
fn at(minute: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap() + Duration::minutes(minute)
}

fn draft(product: &str, rating: i32) -> ReviewDraft {
    ReviewDraft::parse(product, rating, "Solid", "Does what it says.").unwrap()
}

async fn write(store: &Arc<dyn ReviewStore>, author: Uuid, product: &str, rating: i32) -> Review {
    store.insert_review(&draft(product, rating).into_review(author, now_millis())).await.unwrap()
}

/// Runs `write` again while it fails the way SecantusDB, the MongoDB-protocol server these
/// tests run on, reports some write conflicts between concurrent transactions: as a duplicate
/// key (E11000) on a unique index, where MongoDB reports a `WriteConflict` that the driver's
/// transaction helper retries by itself. Either way the transaction was aborted and wrote
/// nothing, so running the call again is what the driver does against MongoDB; the store's
/// code stays written for MongoDB. The other stores never fail this way.
async fn as_against_mongodb<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    for _ in 0..50 {
        match write().await {
            Err(StoreError::Failure(StoreFailure::Corrupt(message))) if message.contains("E11000") => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            result => return result,
        }
    }
    write().await
}

fn change(rating: Option<i32>, title: Option<&str>) -> ReviewChange {
    ReviewChange::parse(rating, title, None).unwrap()
}

async fn rating_of(store: &Arc<dyn ReviewStore>, product: &str) -> ProductRating {
    let kept =
        store.ratings_for(&[product.to_owned()]).await.unwrap().pop().unwrap_or_else(|| ProductRating::empty(product));
    let recounted = store.recount_rating(product).await.unwrap();
    assert_eq!(kept, recounted, "the kept aggregate differs from a recount");
    kept
}

async fn one_review_per_user_and_product(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (ada, bob, p, q) = (Uuid::new_v4(), Uuid::new_v4(), product(), product());

    let first = write(&store, ada, &p, 4).await;
    assert!(!first.verified_purchase);
    assert_eq!(store.reviews_by_ids(&[first.id]).await.unwrap(), vec![first.clone()], "read back as written");
    let again = store.insert_review(&draft(&p, 1).into_review(ada, now_millis())).await;
    assert!(matches!(again, Err(StoreError::AlreadyReviewed)), "{again:?}");
    assert_eq!(rating_of(&store, &p).await.count, 1, "the refused review counts nowhere");

    // A hidden review still holds its author's place.
    store.set_hidden(first.id, true, Some("spam")).await.unwrap().unwrap();
    let again = store.insert_review(&draft(&p, 1).into_review(ada, now_millis())).await;
    assert!(matches!(again, Err(StoreError::AlreadyReviewed)), "{again:?}");

    write(&store, bob, &p, 2).await;
    write(&store, ada, &q, 5).await;
    // Deleting the review frees the place.
    store.delete_review(first.id, Some(ada)).await.unwrap().unwrap();
    write(&store, ada, &p, 3).await;
    let rating = rating_of(&store, &p).await;
    assert_eq!((rating.count, rating.sum), (2, 5));
}

async fn aggregates_follow_every_write(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let p = product();
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let five = write(&store, a, &p, 5).await;
    let three = write(&store, b, &p, 3).await;
    write(&store, c, &p, 1).await;
    let rating = rating_of(&store, &p).await;
    assert_eq!((rating.count, rating.sum, rating.stars), (3, 9, [1, 0, 1, 0, 1]));
    assert_eq!(rating.average(), Some(3.0));

    let updated =
        store.update_review(three.id, b, &change(Some(4), Some("Better")), now_millis()).await.unwrap().unwrap();
    assert_eq!((updated.rating.get(), updated.title.as_str(), updated.version), (4, "Better", 2));
    assert_eq!(store.reviews_by_ids(&[three.id]).await.unwrap(), vec![updated]);
    store.update_review(three.id, b, &change(None, Some("Title only")), now_millis()).await.unwrap().unwrap();
    let rating = rating_of(&store, &p).await;
    assert_eq!((rating.count, rating.sum, rating.stars), (3, 10, [1, 0, 0, 1, 1]));

    // Someone else's review cannot be changed or deleted through the author's filter.
    assert_eq!(store.update_review(three.id, a, &change(Some(1), None), now_millis()).await.unwrap(), None);
    assert_eq!(store.delete_review(three.id, Some(a)).await.unwrap(), None);
    assert_eq!(store.update_review(Uuid::now_v7(), a, &change(Some(1), None), now_millis()).await.unwrap(), None);
    assert_eq!(store.set_hidden(Uuid::now_v7(), true, None).await.unwrap(), None);

    // Hidden reviews count nowhere, whatever happens to them meanwhile; hiding twice is once.
    let hidden = store.set_hidden(five.id, true, Some("off-topic")).await.unwrap().unwrap();
    assert_eq!((hidden.hidden, hidden.hidden_reason.as_deref()), (true, Some("off-topic")));
    store.set_hidden(five.id, true, Some("off-topic")).await.unwrap().unwrap();
    assert_eq!((rating_of(&store, &p).await.count, rating_of(&store, &p).await.sum), (2, 5));
    store.update_review(five.id, a, &change(Some(2), None), now_millis()).await.unwrap().unwrap();
    assert_eq!(rating_of(&store, &p).await.sum, 5);
    let shown = store.set_hidden(five.id, false, Some("ignored when showing")).await.unwrap().unwrap();
    assert_eq!((shown.hidden, shown.hidden_reason), (false, None));
    let rating = rating_of(&store, &p).await;
    assert_eq!((rating.count, rating.sum, rating.stars), (3, 7, [1, 1, 0, 1, 0]));

    // Deleting a hidden review changes nothing; deleting a visible one uncounts it.
    store.set_hidden(five.id, true, None).await.unwrap().unwrap();
    let deleted = store.delete_review(five.id, None).await.unwrap().unwrap();
    assert_eq!(deleted.id, five.id);
    assert_eq!(rating_of(&store, &p).await.count, 2);
    store.delete_review(three.id, Some(b)).await.unwrap().unwrap();
    let rating = rating_of(&store, &p).await;
    assert_eq!((rating.count, rating.sum, rating.stars), (1, 1, [1, 0, 0, 0, 0]));
    assert_eq!(store.delete_review(three.id, None).await.unwrap(), None, "deleted once");
}

/// Many writers on one product at once: creates (some duplicates), rating changes of the same
/// reviews from several tasks, hide/show toggles and deletes. The aggregate must equal a
/// recount afterwards, and the recount what the surviving reviews say.
async fn concurrent_writes_keep_aggregates_exact(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let p = product();
    let authors: Vec<Uuid> = (0..12).map(|_| Uuid::new_v4()).collect();

    let creates = authors.iter().enumerate().flat_map(|(i, author)| {
        let rating = i32::try_from(i % 5).unwrap() + 1;
        // Every author tries twice at once: exactly one of each pair wins.
        [draft(&p, rating).into_review(*author, now_millis()), draft(&p, 6 - rating).into_review(*author, now_millis())]
    });
    let results = join_all(creates.map(|review| {
        let store = store.clone();
        async move { as_against_mongodb(|| store.insert_review(&review)).await }
    }))
    .await;
    let created: Vec<Review> = results.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    assert_eq!(created.len(), authors.len(), "one review per author: {results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(_) | Err(StoreError::AlreadyReviewed))), "{results:?}");
    assert_eq!(rating_of(&store, &p).await.count, 12);

    let mut writes = Vec::new();
    for (i, review) in created.iter().enumerate() {
        for round in 0..3 {
            let (store, id, author) = (store.clone(), review.id, review.user_id);
            let stars = i32::try_from((i + round) % 5).unwrap() + 1;
            writes.push(tokio::spawn(async move {
                let change = change(Some(stars), None);
                as_against_mongodb(|| store.update_review(id, author, &change, now_millis())).await.map(drop)
            }));
        }
        if i % 3 == 0 {
            for hidden in [true, false, true] {
                let (store, id) = (store.clone(), review.id);
                writes.push(tokio::spawn(async move {
                    as_against_mongodb(|| store.set_hidden(id, hidden, None)).await.map(drop)
                }));
            }
        }
        if i % 4 == 1 {
            let (store, id, author) = (store.clone(), review.id, review.user_id);
            writes.push(tokio::spawn(async move {
                as_against_mongodb(|| store.delete_review(id, Some(author))).await.map(drop)
            }));
        }
    }
    for write in join_all(writes).await {
        write.unwrap().unwrap();
    }

    let survivors = store.reviews_by_ids(&created.iter().map(|r| r.id).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(survivors.len(), 9, "three reviews were deleted");
    let expected = ProductRating::recount(p.clone(), survivors.iter().filter_map(Review::counted_rating));
    assert_eq!(rating_of(&store, &p).await, expected);
}

/// `count` reviews of `product` by new authors, created at the given minutes with the given
/// ratings (written directly, so times are chosen, ties included).
async fn seed(store: &Arc<dyn ReviewStore>, product: &str, fixtures: &[(i64, i32)]) -> Vec<Review> {
    let mut reviews = Vec::new();
    for (minute, rating) in fixtures {
        let review = draft(product, *rating).into_review(Uuid::new_v4(), at(*minute));
        reviews.push(store.insert_review(&review).await.unwrap());
    }
    reviews
}

/// Every review of `product` in `sort` order, read in pages of `size`.
async fn read_all(store: &Arc<dyn ReviewStore>, product: &str, sort: ReviewSort, size: u64) -> Vec<Uuid> {
    let (mut seen, mut after): (Vec<Uuid>, Option<Position>) = (Vec::new(), None);
    loop {
        let page = store.product_reviews(product, sort, after.as_ref(), size).await.unwrap();
        assert!(page.len() <= usize::try_from(size).unwrap());
        seen.extend(page.iter().map(|r| r.id));
        match page.last() {
            Some(last) if page.len() == usize::try_from(size).unwrap() => after = Some(Position::of(last)),
            _ => return seen,
        }
    }
}

async fn pages_follow_every_sort_and_skip_hidden_reviews(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (p, other) = (product(), product());
    // Ties on time and on rating, so the tie-breakers decide.
    let reviews = seed(&store, &p, &[(1, 3), (2, 5), (2, 1), (3, 3), (4, 5), (5, 2), (5, 3), (6, 4)]).await;
    seed(&store, &other, &[(1, 5), (7, 1)]).await;
    let hidden = &reviews[3];
    store.set_hidden(hidden.id, true, None).await.unwrap();
    let visible: Vec<&Review> = reviews.iter().filter(|r| r.id != hidden.id).collect();

    let key = |r: &&Review| (r.created_at, r.id);
    let mut newest = visible.clone();
    newest.sort_by_key(|r| std::cmp::Reverse(key(r)));
    let mut oldest = visible.clone();
    oldest.sort_by_key(key);
    let mut highest = visible.clone();
    highest.sort_by_key(|r| std::cmp::Reverse((r.rating, r.created_at, r.id)));
    let mut lowest = visible.clone();
    lowest.sort_by_key(|r| (r.rating, std::cmp::Reverse((r.created_at, r.id))));

    for (sort, expected) in [
        (ReviewSort::Newest, newest),
        (ReviewSort::Oldest, oldest),
        (ReviewSort::HighestRating, highest),
        (ReviewSort::LowestRating, lowest),
    ] {
        let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
        for size in [1, 3, 100] {
            assert_eq!(read_all(&store, &p, sort, size).await, expected, "{sort:?} in pages of {size}");
        }
    }
    assert!(
        store.product_reviews(&p, ReviewSort::Newest, None, 0).await.unwrap().is_empty(),
        "a page of none is empty"
    );

    // A user's reviews across products, newest first; hidden ones only on request.
    let author = Uuid::new_v4();
    let mine: Vec<Review> = join_all((0..3).map(|minute| {
        let store = store.clone();
        async move { store.insert_review(&draft(&product(), 4).into_review(author, at(minute))).await.unwrap() }
    }))
    .await;
    store.set_hidden(mine[1].id, true, Some("spam")).await.unwrap();
    let page = store.user_reviews(author, true, None, 2).await.unwrap();
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![mine[2].id, mine[1].id]);
    let rest = store.user_reviews(author, true, Some(&Position::of(&page[1])), 2).await.unwrap();
    assert_eq!(rest.iter().map(|r| r.id).collect::<Vec<_>>(), vec![mine[0].id]);
    let public = store.user_reviews(author, false, None, 10).await.unwrap();
    assert_eq!(public.iter().map(|r| r.id).collect::<Vec<_>>(), vec![mine[2].id, mine[0].id]);
}

async fn purchases_verify_reviews_before_and_after_they_are_written(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (ada, bob, p, q) = (Uuid::new_v4(), Uuid::new_v4(), product(), product());
    assert!(!store.has_purchased(ada, &p).await.unwrap());

    // Reviewed first, bought later: the purchase marks the review.
    let early = write(&store, ada, &p, 4).await;
    assert!(!early.verified_purchase);
    let order = order();
    let marked = store.record_purchases(ada, &order, &[p.clone(), q.clone(), p.clone()]).await.unwrap();
    assert_eq!(marked, 1);
    assert!(store.has_purchased(ada, &p).await.unwrap() && store.has_purchased(ada, &q).await.unwrap());
    assert!(store.reviews_by_ids(&[early.id]).await.unwrap()[0].verified_purchase);
    // Recording it again changes nothing.
    assert_eq!(store.record_purchases(ada, &order, &[p.clone(), q.clone()]).await.unwrap(), 0);

    // Bought first, reviewed later: verified from the start.
    assert!(write(&store, ada, &q, 5).await.verified_purchase);
    // Someone else's purchase verifies nothing of Ada's, and Ada's nothing of Bob's.
    assert!(!write(&store, bob, &p, 2).await.verified_purchase);
    assert!(!store.has_purchased(bob, &q).await.unwrap());
    assert_eq!(store.record_purchases(bob, &order, &[]).await.unwrap(), 0);
    assert_eq!(rating_of(&store, &p).await.count, 2, "purchases do not touch ratings");
}

/// A review and its author's purchase written at the same moment, many times: the review ends
/// verified every time, whichever transaction commits first.
async fn a_purchase_racing_a_review_is_never_missed(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let p = product();
    let races = (0..12).map(|_| {
        let store = store.clone();
        let p = p.clone();
        async move {
            let author = Uuid::new_v4();
            let (review, order) = (draft(&p, 5).into_review(author, now_millis()), order());
            let (created, purchased) = tokio::join!(
                as_against_mongodb(|| store.insert_review(&review)),
                as_against_mongodb(|| store.record_purchases(author, &order, std::slice::from_ref(&p)))
            );
            let (created, _) = (created.unwrap(), purchased.unwrap());
            store.reviews_by_ids(&[created.id]).await.unwrap()[0].verified_purchase
        }
    });
    let verified = join_all(races).await;
    assert!(verified.iter().all(|v| *v), "{verified:?}");
}

/// An order id no other test uses.
fn order() -> String {
    Uuid::now_v7().to_string()
}

async fn is_verified(store: &Arc<dyn ReviewStore>, review: &Review) -> bool {
    store.reviews_by_ids(&[review.id]).await.unwrap()[0].verified_purchase
}

async fn a_cancelled_order_takes_the_verified_badge_back(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (ada, p, q, bought) = (Uuid::new_v4(), product(), product(), order());
    store.record_purchases(ada, &bought, &[p.clone(), q.clone()]).await.unwrap();
    let review = write(&store, ada, &p, 5).await;
    assert!(review.verified_purchase);

    assert_eq!(store.record_cancellation(ada, &bought, &[p.clone(), q.clone()]).await.unwrap(), 1);
    assert!(!is_verified(&store, &review).await, "the badge outlived the cancelled order");
    assert!(!store.has_purchased(ada, &p).await.unwrap() && !store.has_purchased(ada, &q).await.unwrap());
    // A review written after the cancellation is not verified either.
    assert!(!write(&store, ada, &q, 4).await.verified_purchase);
    store.delete_review(review.id, Some(ada)).await.unwrap().unwrap();
    assert!(!write(&store, ada, &p, 3).await.verified_purchase);
    // A new order of the product verifies again.
    let again = order();
    assert_eq!(store.record_purchases(ada, &again, std::slice::from_ref(&p)).await.unwrap(), 1);
    assert!(store.has_purchased(ada, &p).await.unwrap());
    assert_eq!(rating_of(&store, &p).await.count, 1, "cancellations do not touch ratings");
}

async fn a_pair_stays_purchased_while_another_order_stands(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (ada, p, first, second) = (Uuid::new_v4(), product(), order(), order());
    let review = write(&store, ada, &p, 4).await;
    store.record_purchases(ada, &first, std::slice::from_ref(&p)).await.unwrap();
    store.record_purchases(ada, &second, std::slice::from_ref(&p)).await.unwrap();
    assert!(is_verified(&store, &review).await);

    assert_eq!(store.record_cancellation(ada, &first, std::slice::from_ref(&p)).await.unwrap(), 0);
    assert!(is_verified(&store, &review).await, "the second order still stands");
    assert!(store.has_purchased(ada, &p).await.unwrap());
    assert_eq!(store.record_cancellation(ada, &second, std::slice::from_ref(&p)).await.unwrap(), 1);
    assert!(!is_verified(&store, &review).await);
    assert!(!store.has_purchased(ada, &p).await.unwrap());
}

async fn a_cancellation_before_its_confirmation_is_final(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let (ada, p, cancelled) = (Uuid::new_v4(), product(), order());
    let review = write(&store, ada, &p, 2).await;
    // Reordered on the way: the cancellation is handled before the order's confirmation.
    assert_eq!(store.record_cancellation(ada, &cancelled, std::slice::from_ref(&p)).await.unwrap(), 0);
    assert_eq!(store.record_purchases(ada, &cancelled, std::slice::from_ref(&p)).await.unwrap(), 0);
    assert!(!store.has_purchased(ada, &p).await.unwrap(), "the confirmation resurrected a cancelled order");
    assert!(!is_verified(&store, &review).await);
    store.delete_review(review.id, Some(ada)).await.unwrap().unwrap();
    assert!(!write(&store, ada, &p, 2).await.verified_purchase);
}

async fn redelivered_orders_converge_in_any_order(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let ada = Uuid::new_v4();
    // Each sequence delivers every message twice; `true` is the order's confirmation.
    let sequences: [&[bool]; 4] = [
        &[true, true, false, false],
        &[false, false, true, true],
        &[true, false, true, false],
        &[false, true, false, true],
    ];
    for sequence in sequences {
        let (p, cancelled, standing) = (product(), order(), order());
        let products = std::slice::from_ref(&p);
        let review = write(&store, ada, &p, 3).await;
        store.record_purchases(ada, &standing, products).await.unwrap();
        for confirmation in sequence {
            if *confirmation {
                store.record_purchases(ada, &cancelled, products).await.unwrap();
            } else {
                store.record_cancellation(ada, &cancelled, products).await.unwrap();
            }
            store.record_purchases(ada, &standing, products).await.unwrap();
            assert!(is_verified(&store, &review).await, "{sequence:?}: the other order stands");
        }
        // The standing order cancelled twice: nothing stands any more.
        store.record_cancellation(ada, &standing, products).await.unwrap();
        store.record_cancellation(ada, &standing, products).await.unwrap();
        store.record_purchases(ada, &standing, products).await.unwrap();
        assert!(!is_verified(&store, &review).await, "{sequence:?}");
        assert!(!store.has_purchased(ada, &p).await.unwrap(), "{sequence:?}");
    }
}

async fn ratings_of_many_products_come_in_one_call(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let products: Vec<String> = (0..3).map(|_| product()).collect();
    for (i, p) in products.iter().enumerate() {
        for stars in 1..=i32::try_from(i + 1).unwrap() {
            write(&store, Uuid::new_v4(), p, stars).await;
        }
    }
    let mut asked = products.clone();
    asked.push(product());
    let mut ratings = store.ratings_for(&asked).await.unwrap();
    ratings.sort_by_key(|r| products.iter().position(|p| *p == r.product_id));
    let expected: Vec<ProductRating> = products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            ProductRating::recount(p.clone(), (1..=i32::try_from(i + 1).unwrap()).map(|s| Stars::new(s).unwrap()))
        })
        .collect();
    assert_eq!(ratings, expected, "the unknown product has no aggregate");
    assert!(store.ratings_for(&[]).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// What the SQL schema refuses by itself, whatever the code does.

mod sql_constraints {
    use sea_orm::ConnectionTrait;
    use shop_reviews::store::{ReviewStore, sql::SqlReviewStore};

    #[tokio::test]
    async fn the_database_refuses_bad_ratings_and_aggregates_that_do_not_add_up() {
        let (url, _guard) = shop_testkit::fresh_sqlite_database();
        let store = SqlReviewStore::connect(&url, 2).await.unwrap();
        store.prepare().await.unwrap();
        let db = store.connection();
        let review = |rating: i32, title: &str| {
            format!(
                "INSERT INTO reviews_reviews (id, product_id, user_id, rating, title, body, created_at_ms, updated_at_ms, version)
                 VALUES ('{}', 'p', 'u{rating}{}', {rating}, '{title}', '', 0, 0, 1)",
                uuid::Uuid::now_v7(),
                title.len()
            )
        };
        assert!(db.execute_unprepared(&review(6, "t")).await.is_err(), "rating 6");
        assert!(db.execute_unprepared(&review(0, "t")).await.is_err(), "rating 0");
        assert!(db.execute_unprepared(&review(3, "")).await.is_err(), "empty title");
        assert!(db.execute_unprepared(&review(3, &"t".repeat(121))).await.is_err(), "long title");
        db.execute_unprepared(&review(3, "t")).await.unwrap();
        assert!(db.execute_unprepared(&review(3, "t")).await.is_err(), "second review of the pair");

        let rating = |count: i64, sum: i64, stars_3: i64| {
            format!(
                "INSERT INTO reviews_product_ratings (product_id, review_count, rating_sum, stars_3) VALUES ('{}', {count}, {sum}, {stars_3})",
                uuid::Uuid::now_v7()
            )
        };
        assert!(db.execute_unprepared(&rating(-1, -3, -1)).await.is_err(), "negative counts");
        assert!(db.execute_unprepared(&rating(2, 6, 1)).await.is_err(), "count and buckets disagree");
        assert!(db.execute_unprepared(&rating(1, 4, 1)).await.is_err(), "sum and buckets disagree");
        db.execute_unprepared(&rating(1, 3, 1)).await.unwrap();
    }
}
