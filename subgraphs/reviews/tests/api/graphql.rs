//! The reviews schema without a socket: validation, who may write what, moderation and
//! hidden reviews, pages through the API, and `Product.rating` batched into one query.

use serde_json::{Value, json};
use shop_kernel::auth::Viewer;
use shop_testkit::{Backend, admin, customer, run_graphql};
use uuid::Uuid;

use crate::{TestApp, error_code, product, spawn_app};

shop_testkit::on_backends!(
    [sqlite => Sqlite, mongo => Mongo],
    [
        create_validates_every_field,
        authors_edit_and_delete_their_own_reviews,
        admins_hide_reviews_from_everyone_else,
        product_reviews_page_with_keyset_cursors,
    ]
);

const REVIEW: &str =
    "id rating title body verifiedPurchase hidden hiddenReason author { id } product { id } createdAt updatedAt";

fn create_op() -> String {
    format!(
        "mutation($input: ReviewCreateInput!) {{ reviewCreate(input: $input) {{ review {{ {REVIEW} }} userErrors {{ field message code }} }} }}"
    )
}

fn update_op() -> String {
    format!(
        "mutation($input: ReviewUpdateInput!) {{ reviewUpdate(input: $input) {{ review {{ {REVIEW} }} userErrors {{ field message code }} }} }}"
    )
}

fn hide_op() -> String {
    format!(
        "mutation($input: ReviewHideInput!) {{ reviewHide(input: $input) {{ review {{ {REVIEW} }} userErrors {{ field message code }} }} }}"
    )
}

const DELETE: &str =
    "mutation($id: ID!) { reviewDelete(id: $id) { deletedReviewId userErrors { field message code } } }";

/// Runs `query` as `viewer` and returns `data.<field>` (asserting there was no error).
async fn data(app: &TestApp, viewer: &Viewer, query: &str, variables: Value, field: &str) -> Value {
    let body = run_graphql(&app.service.schema, viewer, query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"][field].clone()
}

fn codes(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_array().unwrap().last().unwrap().as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn create(app: &TestApp, viewer: &Viewer, product: &str, rating: i32, title: &str, body: &str) -> Value {
    let input = json!({ "input": { "productId": product, "rating": rating, "title": title, "body": body } });
    data(app, viewer, &create_op(), input, "reviewCreate").await
}

/// A product's rating and reviews as anyone (or `viewer`) sees them, through `_entities`.
async fn product_view(app: &TestApp, viewer: &Viewer, product: &str) -> Value {
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
        id rating { average count histogram { stars count } } reviews(first: 100) { edges { node { id hidden } } } } } }";
    let entities =
        data(app, viewer, query, json!({ "r": [{ "__typename": "Product", "id": product }] }), "_entities").await;
    entities[0].clone()
}

async fn create_validates_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = customer(Uuid::new_v4());
    let p = product();

    let all_wrong = create(&app, &ada, " ", 0, "   ", &"x".repeat(5001)).await;
    assert_eq!(all_wrong["review"], Value::Null);
    let expected: Vec<(String, String)> =
        ["productId", "rating", "title", "body"].iter().map(|f| ((*f).to_owned(), "INVALID".to_owned())).collect();
    assert_eq!(codes(&all_wrong), expected, "{all_wrong}");
    assert_eq!(all_wrong["userErrors"][0]["field"], json!(["input", "productId"]));

    for (rating, title) in [(6, "ok"), (-1, "ok"), (3, &*"t".repeat(121))] {
        let refused = create(&app, &ada, &p, rating, title, "").await;
        assert_eq!(refused["userErrors"][0]["code"], "INVALID", "{refused}");
    }
    assert_eq!(product_view(&app, &Viewer::Anonymous, &p).await["rating"]["count"], 0, "nothing was written");

    let anonymous = run_graphql(
        &app.service.schema,
        &Viewer::Anonymous,
        &create_op(),
        json!({ "input": { "productId": p, "rating": 5, "title": "t" } }),
    )
    .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    // Limits count characters; text is stored exactly as written, markup included.
    let body = format!("  <script>alert('x')</script> & <b>bold</b>\n{}", "é".repeat(4950));
    let created = create(&app, &ada, &p, 5, &format!("  {}  ", "ü".repeat(120)), &body).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    assert_eq!(created["review"]["title"], "ü".repeat(120));
    assert_eq!(created["review"]["body"], body);
    assert_eq!(created["review"]["product"]["id"], p);
}

async fn authors_edit_and_delete_their_own_reviews(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ada_id, bob_id) = (Uuid::new_v4(), Uuid::new_v4());
    let (ada, bob, admin) = (customer(ada_id), customer(bob_id), admin());
    let p = product();

    let created = create(&app, &ada, &p, 2, "Meh", "It broke.").await;
    let review = created["review"].clone();
    assert_eq!(
        (review["author"]["id"].as_str(), review["verifiedPurchase"].as_bool()),
        (Some(&*ada_id.to_string()), Some(false))
    );
    let again = create(&app, &ada, &p, 5, "Changed my mind", "").await;
    assert_eq!(codes(&again), vec![("productId".to_owned(), "ALREADY_REVIEWED".to_owned())]);

    let id = review["id"].as_str().unwrap();
    let edit = |rating: i32| json!({ "input": { "id": id, "rating": rating } });
    for viewer in [&bob, &admin] {
        let refused = data(&app, viewer, &update_op(), edit(1), "reviewUpdate").await;
        assert_eq!(codes(&refused), vec![("id".to_owned(), "FORBIDDEN".to_owned())], "{refused}");
    }
    let invalid = data(&app, &ada, &update_op(), edit(9), "reviewUpdate").await;
    assert_eq!(codes(&invalid), vec![("rating".to_owned(), "INVALID".to_owned())]);
    let missing =
        data(&app, &ada, &update_op(), json!({ "input": { "id": "nope", "title": "x" } }), "reviewUpdate").await;
    assert_eq!(codes(&missing), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);

    let edited = data(
        &app,
        &ada,
        &update_op(),
        json!({ "input": { "id": id, "rating": 4, "body": "Fixed by support." } }),
        "reviewUpdate",
    )
    .await;
    assert_eq!(edited["userErrors"], json!([]));
    assert_eq!((edited["review"]["rating"].as_i64(), edited["review"]["title"].as_str()), (Some(4), Some("Meh")));
    assert_eq!(edited["review"]["body"], "Fixed by support.");
    assert_eq!(product_view(&app, &Viewer::Anonymous, &p).await["rating"]["average"], 4.0);

    let refused = data(&app, &bob, DELETE, json!({ "id": id }), "reviewDelete").await;
    assert_eq!(codes(&refused), vec![("id".to_owned(), "FORBIDDEN".to_owned())]);
    let deleted = data(&app, &ada, DELETE, json!({ "id": id }), "reviewDelete").await;
    assert_eq!(deleted, json!({ "deletedReviewId": id, "userErrors": [] }));
    let gone = data(&app, &ada, DELETE, json!({ "id": id }), "reviewDelete").await;
    assert_eq!(codes(&gone), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
    assert_eq!(product_view(&app, &Viewer::Anonymous, &p).await["rating"]["count"], 0);

    // Admins may delete anyone's review.
    let bobs = create(&app, &bob, &p, 1, "Bad", "").await["review"]["id"].clone();
    let deleted = data(&app, &admin, DELETE, json!({ "id": bobs }), "reviewDelete").await;
    assert_eq!(deleted["deletedReviewId"], bobs);
    let anonymous = run_graphql(&app.service.schema, &Viewer::Anonymous, DELETE, json!({ "id": bobs })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

async fn admins_hide_reviews_from_everyone_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada_id = Uuid::new_v4();
    let (ada, bob, admin) = (customer(ada_id), customer(Uuid::new_v4()), admin());
    let p = product();
    let id = create(&app, &ada, &p, 1, "Spam", "Buy my stuff").await["review"]["id"].as_str().unwrap().to_owned();
    create(&app, &bob, &p, 5, "Great", "").await;

    let hide = |hidden: bool| json!({ "input": { "id": id, "hidden": hidden, "reason": "advertising" } });
    let refused = run_graphql(&app.service.schema, &bob, &hide_op(), hide(true)).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let hidden = data(&app, &admin, &hide_op(), hide(true), "reviewHide").await;
    assert_eq!(
        (hidden["review"]["hidden"].as_bool(), hidden["review"]["hiddenReason"].as_str()),
        (Some(true), Some("advertising"))
    );
    let too_long = json!({ "input": { "id": id, "hidden": true, "reason": "x".repeat(501) } });
    assert_eq!(
        codes(&data(&app, &admin, &hide_op(), too_long, "reviewHide").await),
        vec![("reason".to_owned(), "INVALID".to_owned())]
    );

    // Gone from the product's list and rating, for everyone.
    let view = product_view(&app, &admin, &p).await;
    assert_eq!(view["rating"]["count"], 1);
    assert_eq!(
        view["rating"]["histogram"],
        json!([
            { "stars": 5, "count": 1 }, { "stars": 4, "count": 0 }, { "stars": 3, "count": 0 }, { "stars": 2, "count": 0 }, { "stars": 1, "count": 0 }
        ])
    );
    assert_eq!(view["reviews"]["edges"].as_array().unwrap().len(), 1);

    // The review itself: null for others, visible to its author and admins.
    let by_id = "query($id: ID!) { review(id: $id) { id hidden hiddenReason } }";
    for viewer in [&Viewer::Anonymous, &bob] {
        assert_eq!(data(&app, viewer, by_id, json!({ "id": id }), "review").await, Value::Null);
        let entity = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Review { id } } }";
        let entities =
            data(&app, viewer, entity, json!({ "r": [{ "__typename": "Review", "id": id }] }), "_entities").await;
        assert_eq!(entities, json!([null]));
    }
    for viewer in [&ada, &admin] {
        let review = data(&app, viewer, by_id, json!({ "id": id }), "review").await;
        assert_eq!(review, json!({ "id": id, "hidden": true, "hiddenReason": "advertising" }));
    }
    let user_reviews = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { reviews { edges { node { id hidden } } } } } }";
    let author = json!({ "r": [{ "__typename": "User", "id": ada_id }] });
    let own = data(&app, &ada, user_reviews, author.clone(), "_entities").await;
    assert_eq!(own[0]["reviews"]["edges"], json!([{ "node": { "id": id, "hidden": true } }]));
    let others = data(&app, &bob, user_reviews, author.clone(), "_entities").await;
    assert_eq!(others[0]["reviews"]["edges"], json!([]));
    // Hidden reviews cannot be edited away by others either: they do not exist for them.
    let edit = data(&app, &bob, DELETE, json!({ "id": id }), "reviewDelete").await;
    assert_eq!(codes(&edit), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);

    let shown = data(&app, &admin, &hide_op(), hide(false), "reviewHide").await;
    assert_eq!((shown["review"]["hidden"].as_bool(), &shown["review"]["hiddenReason"]), (Some(false), &Value::Null));
    assert_eq!(product_view(&app, &bob, &p).await["rating"]["average"], 3.0);
    let missing =
        data(&app, &admin, &hide_op(), json!({ "input": { "id": Uuid::now_v7(), "hidden": true } }), "reviewHide")
            .await;
    assert_eq!(codes(&missing), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
}

/// The batching test runs on a single-threaded runtime: there the loader's timer cannot fire
/// in the middle of the pass over the batch, so the count is exact however loaded the host
/// is. (On many threads a descheduled pass can outlast the batching window; the window is
/// sized for that, see `graphql::RATING_BATCH_WINDOW`.)
mod batching {
    #[tokio::test(flavor = "current_thread")]
    async fn product_ratings_of_a_list_are_one_query_on_sqlite() {
        super::product_ratings_of_a_list_are_one_query(shop_testkit::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn product_ratings_of_a_list_are_one_query_on_mongo() {
        super::product_ratings_of_a_list_are_one_query(shop_testkit::Backend::Mongo).await;
    }
}

/// The router asks for the rating of every product of a list in one `_entities` call; the
/// subgraph must answer it with one store query, not one per product.
async fn product_ratings_of_a_list_are_one_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let products: Vec<String> = (0..6).map(|_| product()).collect();
    // Product i has i reviews: 5, 4, 4, 3, … stars.
    for (i, p) in products.iter().enumerate() {
        for n in 0..i {
            app.review(Uuid::new_v4(), p, if n == 0 { 5 } else { 4 - i32::try_from(n % 3).unwrap() }).await;
        }
    }
    let representations: Vec<Value> = products.iter().map(|p| json!({ "__typename": "Product", "id": p })).collect();
    let before = app.store.rating_queries().len();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id rating { average count histogram { stars count } } } } }";
    let entities = data(&app, &Viewer::Anonymous, query, json!({ "r": representations }), "_entities").await;

    let queries = app.store.rating_queries();
    assert_eq!(queries.len() - before, 1, "one ratings query for {} products: {queries:?}", products.len());
    let mut asked = queries.last().unwrap().clone();
    asked.sort();
    let mut expected = products.clone();
    expected.sort();
    assert_eq!(asked, expected);

    assert_eq!(
        entities[0]["rating"],
        json!({ "average": null, "count": 0, "histogram": [
        { "stars": 5, "count": 0 }, { "stars": 4, "count": 0 }, { "stars": 3, "count": 0 }, { "stars": 2, "count": 0 }, { "stars": 1, "count": 0 }
    ] })
    );
    assert_eq!(entities[1]["rating"]["average"], 5.0);
    // 5 + 3 + 2 = 10 / 3 = 3.33; 5 + 3 + 2 + 4 + 3 = 17 / 5 = 3.4
    assert_eq!(
        (entities[3]["rating"]["average"].as_f64(), entities[3]["rating"]["count"].as_i64()),
        (Some(3.33), Some(3))
    );
    assert_eq!(entities[5]["rating"]["average"], 3.4);
    assert_eq!(entities[5]["rating"]["histogram"][0], json!({ "stars": 5, "count": 1 }));
    assert!(entities.as_array().unwrap().iter().zip(&products).all(|(e, p)| e["id"] == *p), "in request order");
}

async fn product_reviews_page_with_keyset_cursors(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = product();
    let mut written = Vec::new();
    for rating in [3, 5, 1, 4, 2] {
        written.push((rating, app.review(Uuid::new_v4(), &p, rating).await.id.to_string()));
        // Distinct milliseconds, so "newest first" has one right answer.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let page = "query($r: [_Any!]!, $after: String, $sort: ReviewSort, $first: Int) { _entities(representations: $r) {
        ... on Product { reviews(first: $first, after: $after, sort: $sort) { edges { cursor node { id rating } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } } } }";
    let read = |after: Value, sort: &str, first: i32| json!({ "r": [{ "__typename": "Product", "id": p }], "after": after, "sort": sort, "first": first });

    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let reviews = data(&app, &Viewer::Anonymous, page, read(after.clone(), "HIGHEST_RATING", 2), "_entities").await
            [0]["reviews"]
            .clone();
        assert_eq!(reviews["pageInfo"]["hasPreviousPage"], !after.is_null());
        seen.extend(reviews["edges"].as_array().unwrap().iter().map(|e| e["node"]["rating"].as_i64().unwrap()));
        if reviews["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = reviews["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, vec![5, 4, 3, 2, 1]);

    // Default: newest first.
    let newest =
        data(&app, &Viewer::Anonymous, page, json!({ "r": [{ "__typename": "Product", "id": p }] }), "_entities").await;
    let ids: Vec<&str> =
        newest[0]["reviews"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = written.iter().map(|(_, id)| id.as_str()).collect();
    expected.reverse();
    assert_eq!(ids, expected);

    // A cursor belongs to its sort; `first` is capped at 100.
    let first = data(&app, &Viewer::Anonymous, page, read(Value::Null, "LOWEST_RATING", 1), "_entities").await;
    assert_eq!(first[0]["reviews"]["edges"][0]["node"]["rating"], 1);
    let cursor = first[0]["reviews"]["pageInfo"]["endCursor"].clone();
    let mismatch = run_graphql(&app.service.schema, &Viewer::Anonymous, page, read(cursor, "NEWEST", 1)).await;
    assert_eq!(error_code(&mismatch), "BAD_USER_INPUT");
    let too_many = run_graphql(&app.service.schema, &Viewer::Anonymous, page, read(Value::Null, "NEWEST", 101)).await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_sdl_extends_product_and_user_and_owns_review() {
    let sdl = <shop_reviews::ReviewsService as shop_kernel::Subgraph>::sdl();
    for expected in [
        "type Review @key(fields: \"id\")",
        "type Product @key(fields: \"id\")",
        "type User @key(fields: \"id\")",
        "reviews(first: Int, after: String, sort: ReviewSort = NEWEST): ReviewConnection!",
        "rating: ProductRating!",
        "histogram: [RatingBucket!]!",
        "review(id: ID!): Review",
        "reviewHide(input: ReviewHideInput!): ReviewHidePayload! @requiresScopes(scopes: [[\"admin\"]])",
        "reviewCreate(input: ReviewCreateInput!): ReviewCreatePayload! @authenticated",
        "enum ReviewErrorCode",
    ] {
        assert!(sdl.contains(expected), "missing `{expected}` in\n{sdl}");
    }
}
