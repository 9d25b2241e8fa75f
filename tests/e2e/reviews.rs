//! Reviews through the router: a buyer's review is a verified purchase (learned from the
//! order events, not by asking orders), ratings aggregate per product, and a product list with
//! ratings costs the reviews subgraph one batched request.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    checkout::{checkout, wait_for_status},
    stack::Stack,
};

// `author { id }` only: the users subgraph shows a user's name to that user and admins alone.
const REVIEW: &str = "id rating title body verifiedPurchase author { id } product { id }";

/// A product of the seeded catalog with a variant in stock: (product id, sku).
async fn a_product_in_stock(stack: &Stack, skip: usize) -> (String, String) {
    let (_, body) = stack
        .graphql(
            "{ products(first: 20, sort: NAME_ASC) { edges { node { id variants { sku stock { available } } } } } }",
            json!({}),
        )
        .await;
    body["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|edge| {
            let node = &edge["node"];
            let variant =
                node["variants"].as_array()?.iter().find(|v| v["stock"]["available"].as_i64().unwrap_or(0) >= 5)?;
            Some((node["id"].as_str()?.to_owned(), variant["sku"].as_str()?.to_owned()))
        })
        .nth(skip)
        .unwrap_or_else(|| panic!("no product in stock: {body}"))
}

/// Registers a customer named `name`; returns (token, user id).
async fn customer(stack: &Stack, name: &str) -> (String, String) {
    let email = format!("{}@example.com", shop_testkit::unique_name("reviewer"));
    let (status, body) = stack
        .graphql(
            "mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } userErrors { code message } } }",
            json!({ "input": { "email": email, "password": "correct horse battery staple", "name": name } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let payload = &body["data"]["register"];
    (
        payload["accessToken"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned(),
        payload["user"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn create_review(stack: &Stack, token: &str, product_id: &str, rating: i64, title: &str) -> Value {
    let (status, body) = stack
        .graphql_as(
            token,
            &format!("mutation($input: ReviewCreateInput!) {{ reviewCreate(input: $input) {{ review {{ {REVIEW} }} userErrors {{ field message code }} }} }}"),
            json!({ "input": { "productId": product_id, "rating": rating, "title": title, "body": "<b>as typed</b> & kept" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["reviewCreate"].clone()
}

async fn review(stack: &Stack, id: &str) -> Value {
    let (_, body) =
        stack.graphql(&format!("query($id: ID!) {{ review(id: $id) {{ {REVIEW} }} }}"), json!({ "id": id })).await;
    body["data"]["review"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_buyers_review_is_a_verified_purchase_and_a_strangers_is_not() {
    let stack = Stack::everything().await;
    let (product_id, sku) = a_product_in_stock(&stack, 0).await;
    let (buyer, buyer_id) = customer(&stack, "Bea Buyer").await;
    let placed = checkout(&stack, &buyer, &sku, 1, "tok_visa", "buy-to-review").await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();
    wait_for_status(&stack, &buyer, &order_id, "CONFIRMED").await;

    let created = create_review(&stack, &buyer, &product_id, 5, "Does what it says").await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let review_id = created["review"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["review"]["author"], json!({ "id": buyer_id }), "{created}");
    assert_eq!(created["review"]["body"], "<b>as typed</b> & kept", "text is stored as given");
    // `order.confirmed` reaches reviews through RabbitMQ; it may land just after the review.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let current = review(&stack, &review_id).await;
        if current["verifiedPurchase"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "the buyer's review never became a verified purchase: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Someone who never bought it: a review, but not a verified one.
    let (stranger, _) = customer(&stack, "Sam Stranger").await;
    let unverified = create_review(&stack, &stranger, &product_id, 2, "Not for me").await;
    assert_eq!(unverified["userErrors"], json!([]), "{unverified}");
    assert_eq!(unverified["review"]["verifiedPurchase"], false);
    // One review per user and product.
    let again = create_review(&stack, &stranger, &product_id, 4, "Changed my mind").await;
    assert_eq!(again["review"], Value::Null);
    assert_eq!(again["userErrors"][0]["code"], "ALREADY_REVIEWED", "{again}");
    // Out-of-range input is refused with the field named.
    let bad = create_review(&stack, &stranger, &product_id, 6, " ").await;
    assert_eq!(bad["review"], Value::Null);
    let codes: Vec<&str> = bad["userErrors"].as_array().unwrap().iter().filter_map(|e| e["code"].as_str()).collect();
    assert!(codes.contains(&"INVALID"), "{bad}");

    // The product's reviews and rating, joined onto the catalog's product.
    let (_, body) = stack
        .graphql(
            "query($id: ID!) { product(id: $id) { id reviews(first: 10, sort: HIGHEST_RATING) { edges { node { rating verifiedPurchase author { id } } } } rating { average count histogram { stars count } } } }",
            json!({ "id": product_id }),
        )
        .await;
    let product = &body["data"]["product"];
    let ratings: Vec<i64> =
        product["reviews"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["rating"].as_i64().unwrap()).collect();
    assert_eq!(ratings, vec![5, 2], "{body}");
    assert_eq!(product["reviews"]["edges"][0]["node"]["author"]["id"], buyer_id.as_str());
    assert_eq!(product["reviews"]["edges"][0]["node"]["verifiedPurchase"], true);
    assert_eq!(product["reviews"]["edges"][1]["node"]["verifiedPurchase"], false);
    assert_eq!(product["rating"]["count"], 2, "{body}");
    assert_eq!(product["rating"]["average"].as_f64(), Some(3.5), "{body}");
    let histogram: Vec<(i64, i64)> = product["rating"]["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["stars"].as_i64().unwrap(), b["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(histogram, vec![(5, 1), (4, 0), (3, 0), (2, 1), (1, 0)]);

    // The buyer's own reviews, on their user.
    let (_, me) = stack
        .graphql_as(&buyer, "{ me { reviews(first: 5) { edges { node { id verifiedPurchase } } } } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"]["reviews"]["edges"],
        json!([{ "node": { "id": review_id, "verifiedPurchase": true } }]),
        "{me}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_product_list_with_ratings_is_one_batched_request_to_reviews() {
    let stack = Stack::everything().await;
    let (first, _) = a_product_in_stock(&stack, 0).await;
    let (second, _) = a_product_in_stock(&stack, 1).await;
    let (ada, _) = customer(&stack, "Ada").await;
    let (bob, _) = customer(&stack, "Bob").await;
    for (token, product, rating) in [(&ada, &first, 4), (&bob, &first, 5), (&ada, &second, 1)] {
        let created = create_review(&stack, token, product, rating, "Rated").await;
        assert_eq!(created["userErrors"], json!([]), "{created}");
    }

    let before = stack.requests_to("reviews").await;
    let (_, body) = stack
        .graphql(
            "{ products(first: 20, sort: NAME_ASC) { edges { node { id name rating { average count } } } } }",
            json!({}),
        )
        .await;
    let after = stack.requests_to("reviews").await;
    assert!(body["errors"].is_null(), "{body}");
    let edges = body["data"]["products"]["edges"].as_array().unwrap();
    assert!(edges.len() > 2, "the seeded catalog has several products: {body}");
    assert_eq!(after - before, 1, "ratings of {} products took {} requests to reviews", edges.len(), after - before);

    let rating_of =
        |id: &str| edges.iter().find(|e| e["node"]["id"] == id).map(|e| e["node"]["rating"].clone()).unwrap();
    assert_eq!(rating_of(&first), json!({ "average": 4.5, "count": 2 }));
    assert_eq!(rating_of(&second), json!({ "average": 1.0, "count": 1 }));
    let unrated =
        edges.iter().find(|e| e["node"]["id"] != first.as_str() && e["node"]["id"] != second.as_str()).unwrap();
    assert_eq!(unrated["node"]["rating"], json!({ "average": null, "count": 0 }));
}
