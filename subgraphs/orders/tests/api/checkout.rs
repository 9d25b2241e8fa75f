//! Placing orders: authoritative prices and totals, one transaction with the outbox,
//! idempotency, line refusals, and what happens when a neighbour is down.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shop_kernel::Subgraph;
use shop_messaging::contracts::CartCheckedOut;
use shop_testkit::{Backend, customer};
use uuid::Uuid;

use crate::{Fake, TestApp, checkout_op, user_of, with_defaults};

fn de_address() -> Value {
    json!({ "name": "Grace Hopper", "line1": "Unter den Linden 1", "line2": "3. OG", "city": "Berlin", "postalCode": "10117", "country": "de" })
}

fn codes(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_owned(),
                e["field"]
                    .as_array()
                    .map_or(String::new(), |f| f.iter().map(|p| p.as_str().unwrap()).collect::<Vec<_>>().join(".")),
            )
        })
        .collect()
}

async fn happy_path_writes_pending_order_and_reserve(backend: Backend) {
    let app = TestApp::new(backend).await;
    let viewer = customer(Uuid::new_v4());
    let payload = app
        .checkout(
            &viewer,
            json!({ "lines": [{ "sku": "TEE-M", "quantity": 2 }, { "sku": "MUG", "quantity": 1 }], "shippingAddress": de_address() }),
        )
        .await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let order = &payload["order"];
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["paymentStatus"], "PENDING");
    assert_eq!(order["user"]["id"], user_of(&viewer).to_string());
    // 2 × 24.99 + 12.00 = 61.98: free shipping from 50.00; tax 19 % per line, half up:
    // 49.98 → 9.4962 → 9.50, 12.00 → 2.28.
    assert_eq!(order["subtotal"], json!({ "amount": "61.98", "currencyCode": "USD" }));
    assert_eq!(order["shipping"]["amount"], "0.00");
    assert_eq!(order["tax"]["amount"], "11.78");
    assert_eq!(order["taxRateBasisPoints"], 1900);
    assert_eq!(order["total"], json!({ "amount": "73.76", "currencyCode": "USD" }));
    let line = &order["lines"][0];
    assert_eq!(line["sku"], "TEE-M");
    assert_eq!(line["productName"], "TEE-M product");
    assert_eq!(line["variantName"], "TEE-M variant");
    assert_eq!(line["productId"], "product-TEE-M");
    assert_eq!(line["unitPrice"]["amount"], "24.99");
    assert_eq!(line["lineSubtotal"]["amount"], "49.98");
    assert_eq!(line["tax"]["amount"], "9.50");
    assert_eq!(order["lines"][1]["tax"]["amount"], "2.28");
    assert_eq!(order["shippingAddress"]["country"], "DE", "the country is normalized");
    assert_eq!(order["shippingAddress"]["line2"], "3. OG");
    assert_eq!(order["events"].as_array().unwrap().len(), 1);
    assert_eq!(order["events"][0]["status"], "PENDING");

    let id = order["id"].as_str().unwrap();
    let messages = app.outbox(id).await;
    let kinds: Vec<&str> = messages.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["inventory.reserve.v1", "order.updated.v1"]);
    assert_eq!(messages[0].correlation_id, id);
    assert_eq!(
        messages[0].payload,
        json!({ "orderId": id, "lines": [{ "sku": "TEE-M", "quantity": 2 }, { "sku": "MUG", "quantity": 1 }] })
    );
    let stored = app.service.store.get(Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.payment_token.as_deref(), Some("tok_visa"), "kept until authorization is requested");
    assert!(stored.deadline_at.is_some());
}

async fn same_key_same_body_is_the_same_order(backend: Backend) {
    let app = TestApp::new(backend).await;
    let viewer = customer(Uuid::new_v4());
    let input = with_defaults(json!({ "lines": [{ "sku": "TEE-M", "quantity": 1 }, { "sku": "MUG", "quantity": 2 }] }));
    let first = app.checkout(&viewer, input.clone()).await;
    let mut reordered = input.clone();
    reordered["lines"] = json!([{ "sku": "MUG", "quantity": 2 }, { "sku": "TEE-M", "quantity": 1 }]);
    let second = app.checkout(&viewer, reordered).await;
    assert_eq!(first["order"]["id"], second["order"]["id"], "{second}");
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.outbox(first["order"]["id"].as_str().unwrap()).await.len(), 2, "one reservation asked");

    let mut changed = input.clone();
    changed["lines"][0]["quantity"] = json!(3);
    let reused = app.checkout(&viewer, changed).await;
    assert_eq!(reused["order"], Value::Null);
    assert_eq!(codes(&reused), [("IDEMPOTENCY_KEY_REUSED".to_owned(), "input.idempotencyKey".to_owned())]);

    // Another user may use the same key for their own order.
    let other = app.checkout(&customer(Uuid::new_v4()), input).await;
    assert_ne!(other["order"]["id"], first["order"]["id"]);
    assert_eq!(app.order_count().await, 2);
}

async fn concurrent_duplicates_make_one_order(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let viewer = customer(Uuid::new_v4());
    let input = with_defaults(json!({ "lines": [{ "sku": "TEE-M", "quantity": 1 }] }));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (app, viewer, input) = (app.clone(), viewer.clone(), input.clone());
            tokio::spawn(async move { app.checkout(&viewer, input).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let payload = task.await.unwrap();
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        ids.push(payload["order"]["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every duplicate answers with the winner's order");
    assert_eq!(app.order_count().await, 1);
}

async fn short_lines_are_refused_at_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let payload = app
        .checkout(
            &customer(Uuid::new_v4()),
            json!({ "lines": [{ "sku": "TEE-M", "quantity": 2 }, { "sku": "CAP", "quantity": 3 }, { "sku": "MUG", "quantity": 1 }] }),
        )
        .await;
    assert_eq!(payload["order"], Value::Null);
    assert_eq!(codes(&payload), [("OUT_OF_STOCK".to_owned(), "lines.1".to_owned())]);
    let message = payload["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.contains("CAP") && message.contains("1 available"), "{message}");
    assert_eq!(app.order_count().await, 0, "nothing written");
}

shop_testkit::on_sql_backends!(
    happy_path_writes_pending_order_and_reserve,
    same_key_same_body_is_the_same_order,
    concurrent_duplicates_make_one_order,
    short_lines_are_refused_at_once,
    inventory_down_still_accepts_the_order,
);

#[tokio::test]
async fn lines_the_catalog_cannot_sell_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let payload = app
        .checkout(
            &customer(Uuid::new_v4()),
            json!({ "lines": [
                { "sku": "GHOST", "quantity": 1 }, { "sku": "OLD", "quantity": 1 },
                { "sku": "EURO", "quantity": 1 }, { "sku": "MUG", "quantity": 1 }] }),
        )
        .await;
    assert_eq!(
        codes(&payload),
        [
            ("UNKNOWN_SKU".to_owned(), "lines.0".to_owned()),
            ("PRODUCT_UNAVAILABLE".to_owned(), "lines.1".to_owned()),
            ("CURRENCY_MISMATCH".to_owned(), "lines.2".to_owned()),
        ]
    );
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn invalid_input_is_refused_with_every_field() {
    let app = TestApp::new(Backend::Sqlite).await;
    let payload = app
        .checkout(
            &customer(Uuid::new_v4()),
            json!({
                "cartId": Uuid::new_v4().to_string(),
                "lines": [{ "sku": "MUG", "quantity": 1 }],
                "shippingAddress": { "name": "", "line1": "x", "city": "y", "postalCode": "z", "country": "ZZ" },
                "idempotencyKey": "short",
            }),
        )
        .await;
    assert_eq!(
        codes(&payload),
        [
            ("INVALID".to_owned(), "input.cartId".to_owned()),
            ("INVALID".to_owned(), "input.shippingAddress.country".to_owned()),
            ("INVALID".to_owned(), "input.shippingAddress.name".to_owned()),
            ("INVALID".to_owned(), "input.idempotencyKey".to_owned()),
        ]
    );
    let zero = app.checkout(&customer(Uuid::new_v4()), json!({ "lines": [{ "sku": "MUG", "quantity": 0 }] })).await;
    assert_eq!(codes(&zero), [("INVALID".to_owned(), "input.lines.0.quantity".to_owned())]);
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn checkout_needs_a_signed_in_user() {
    let app = TestApp::new(Backend::Sqlite).await;
    let body = app
        .run(
            &shop_kernel::auth::Viewer::Anonymous,
            &checkout_op(),
            json!({ "input": with_defaults(json!({ "lines": [{ "sku": "MUG", "quantity": 1 }] })) }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn catalog_down_is_a_user_error_within_the_budget() {
    let closed = Fake::closed_url().await;
    let app = TestApp::with(Backend::Sqlite, |config, _| config.catalog_url = closed).await;
    let started = Instant::now();
    let payload = app.checkout(&customer(Uuid::new_v4()), json!({ "lines": [{ "sku": "MUG", "quantity": 1 }] })).await;
    assert_eq!(codes(&payload), [("CATALOG_UNAVAILABLE".to_owned(), String::new())]);
    assert!(started.elapsed() < Duration::from_millis(app.config.upstream_timeout_ms), "{:?}", started.elapsed());
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_hanging_catalog_costs_at_most_the_budget_then_the_breaker_opens() {
    let app = TestApp::with(Backend::Sqlite, |config, fake| {
        config.catalog_url = fake.url("slow");
        config.upstream_timeout_ms = 300;
    })
    .await;
    let viewer = customer(Uuid::new_v4());
    for _ in 0..5 {
        let started = Instant::now();
        let payload = app.checkout(&viewer, json!({ "lines": [{ "sku": "MUG", "quantity": 1 }] })).await;
        assert_eq!(codes(&payload), [("CATALOG_UNAVAILABLE".to_owned(), String::new())]);
        // The budget, plus generous scheduling slack: never a hang.
        assert!(started.elapsed() < Duration::from_millis(300 + 1_000), "{:?}", started.elapsed());
    }
    assert_eq!(app.fake.lock().slow_calls, 5);
    // Five failures in a row open the breaker: the next checkout does not even try.
    let started = Instant::now();
    let payload = app.checkout(&viewer, json!({ "lines": [{ "sku": "MUG", "quantity": 1 }] })).await;
    assert_eq!(codes(&payload), [("CATALOG_UNAVAILABLE".to_owned(), String::new())]);
    assert_eq!(app.fake.lock().slow_calls, 5, "the open breaker does not call the catalog");
    assert!(started.elapsed() < Duration::from_millis(300), "{:?}", started.elapsed());
}

async fn inventory_down_still_accepts_the_order(backend: Backend) {
    let closed = Fake::closed_url().await;
    let app = TestApp::with(backend, |config, _| config.inventory_url = closed).await;
    // CAP has 1 unit, but without inventory the reservation decides.
    let payload = app.checkout(&customer(Uuid::new_v4()), json!({ "lines": [{ "sku": "CAP", "quantity": 3 }] })).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["order"]["status"], "PENDING");
    assert_eq!(
        app.outbox_kinds(payload["order"]["id"].as_str().unwrap()).await,
        ["inventory.reserve.v1", "order.updated.v1"]
    );
}

#[tokio::test]
async fn a_checkout_from_a_cart_takes_its_lines_out_in_the_same_transaction() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (cart, empty) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    {
        let mut state = app.fake.lock();
        state.carts.insert(cart.clone(), vec![("MUG".into(), 2), ("TEE-M".into(), 1)]);
        state.carts.insert(empty.clone(), vec![]);
    }
    let viewer = customer(Uuid::new_v4());
    let payload = app.checkout(&viewer, json!({ "cartId": cart })).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let skus: Vec<&str> =
        payload["order"]["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["MUG", "TEE-M"]);
    assert_eq!(payload["order"]["subtotal"]["amount"], "48.99");
    // What it bought leaves the cart through the outbox, in the order's own transaction.
    let order_id = payload["order"]["id"].as_str().unwrap();
    let outbox = app.outbox(order_id).await;
    let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["inventory.reserve.v1", "order.updated.v1", "cart.checked_out.v1"]);
    let checked_out: CartCheckedOut = outbox[2].decode().unwrap();
    assert_eq!((checked_out.cart_id.as_str(), checked_out.order_id.as_str()), (cart.as_str(), order_id));
    let taken: Vec<(&str, i64)> = checked_out.lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
    assert_eq!(taken, [("MUG", 2), ("TEE-M", 1)]);

    let empty = app.checkout(&viewer, json!({ "cartId": empty })).await;
    assert_eq!(codes(&empty), [("EMPTY_CART".to_owned(), "input.cartId".to_owned())]);
    let missing = app.checkout(&viewer, json!({ "cartId": Uuid::new_v4().to_string() })).await;
    assert_eq!(codes(&missing), [("CART_NOT_FOUND".to_owned(), "input.cartId".to_owned())]);
    let malformed = app.checkout(&viewer, json!({ "cartId": "not-a-cart" })).await;
    assert_eq!(codes(&malformed), [("CART_NOT_FOUND".to_owned(), "input.cartId".to_owned())]);
}

#[tokio::test]
async fn a_saved_address_is_copied_onto_the_order() {
    let app = TestApp::new(Backend::Sqlite).await;
    let viewer = customer(Uuid::new_v4());
    app.fake.lock().addresses.insert(
        user_of(&viewer).to_string(),
        vec![json!({ "id": "addr-1", "kind": "SHIPPING", "name": "Ada", "line1": "10 Downing St", "line2": null,
                     "city": "London", "region": null, "postalCode": "SW1A 2AA", "country": "GB", "phone": "+44 20 7946 0000" })],
    );
    let payload =
        app.checkout(&viewer, json!({ "lines": [{ "sku": "MUG", "quantity": 1 }], "addressId": "addr-1" })).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["order"]["shippingAddress"]["line1"], "10 Downing St");
    assert_eq!(payload["order"]["shippingAddress"]["phone"], "+44 20 7946 0000");
    // GB: 20 % of 12.00 = 2.40, plus 4.99 shipping.
    assert_eq!(payload["order"]["tax"]["amount"], "2.40");
    assert_eq!(payload["order"]["total"]["amount"], "19.39");
    let missing =
        app.checkout(&viewer, json!({ "lines": [{ "sku": "MUG", "quantity": 1 }], "addressId": "addr-2" })).await;
    assert_eq!(codes(&missing), [("ADDRESS_NOT_FOUND".to_owned(), "input.addressId".to_owned())]);
}

#[tokio::test]
async fn the_sdl_is_a_federation_subgraph_with_the_subscription() {
    let sdl = shop_orders::OrdersService::sdl();
    for expected in [
        "type Order @key(fields: \"id\")",
        "type User @key(fields: \"id\")",
        "orderUpdated(orderId: ID!): Order! @authenticated",
        "checkout(input: CheckoutInput!): CheckoutPayload! @authenticated",
        "orderShip(id: ID!, trackingNumber: String!): OrderShipPayload! @requiresScopes(scopes: [[\"admin\"]])",
        "\"@authenticated\"]",
    ] {
        assert!(sdl.contains(expected), "missing {expected} in\n{sdl}");
    }
}
