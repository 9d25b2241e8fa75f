//! The payments schema without a socket: refunds (admin only, never more than captured,
//! idempotent), and who may read a payment.

use serde_json::{Value, json};
use shop_kernel::{Subgraph, auth::Viewer};
use shop_messaging::contracts::PaymentRefunded;
use shop_testkit::{Backend, admin, customer, run_graphql};
use uuid::Uuid;

use crate::{TestApp, error_code, spawn_app};

const PAYMENT: &str = "id orderId status failureCode amount { amount currencyCode } capturedAmount { amount }
    refundedAmount { amount } refundableAmount { amount } refunds { id amount { amount currencyCode } reason status createdAt }";

fn refund_op() -> String {
    format!(
        "mutation($input: RefundCreateInput!) {{ refundCreate(input: $input) {{
            payment {{ {PAYMENT} }} refund {{ id amount {{ amount }} reason status }} userErrors {{ field message code }} }} }}"
    )
}

fn input(order_id: &str, amount: &str, key: &str) -> Value {
    json!({ "input": { "orderId": order_id, "amount": amount, "reason": "damaged in transit", "idempotencyKey": key } })
}

/// Runs `refundCreate` as `viewer` and returns its payload (asserting there was no error).
async fn refund(app: &TestApp, viewer: &Viewer, variables: Value) -> Value {
    let body = run_graphql(&app.service.schema, viewer, &refund_op(), variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["refundCreate"].clone()
}

fn code(payload: &Value) -> &str {
    payload["userErrors"][0]["code"].as_str().unwrap_or_else(|| panic!("no user error in {payload}"))
}

async fn partial_refunds_up_to_the_captured_amount(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.captured_order(Uuid::new_v4(), 1000).await;
    let admin = admin();

    let first = refund(&app, &admin, input(&order, "4.00", "r-1")).await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(first["refund"]["amount"]["amount"], "4.00");
    assert_eq!(first["refund"]["status"], "SUCCEEDED");
    assert_eq!(first["payment"]["status"], "PARTIALLY_REFUNDED");
    assert_eq!(first["payment"]["refundedAmount"]["amount"], "4.00");
    assert_eq!(first["payment"]["refundableAmount"]["amount"], "6.00");

    // The same request again: the same refund, and the provider refunds nothing more.
    let replay = refund(&app, &admin, input(&order, "4.00", "r-1")).await;
    assert_eq!(replay["refund"]["id"], first["refund"]["id"]);
    assert_eq!(replay["payment"]["refundedAmount"]["amount"], "4.00");
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    let authorization = payment.provider_reference.clone().unwrap();
    assert_eq!(app.simulated.hold(&authorization).unwrap().refunded_minor, 400);

    // The same key for another refund is refused.
    let reused = refund(&app, &admin, input(&order, "5.00", "r-1")).await;
    assert_eq!(code(&reused), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(reused["userErrors"][0]["field"], json!(["input", "idempotencyKey"]));

    let rest = refund(&app, &admin, input(&order, "6", "r-2")).await;
    assert_eq!(rest["userErrors"], json!([]), "{rest}");
    assert_eq!(rest["payment"]["status"], "REFUNDED");
    assert_eq!(rest["payment"]["refunds"].as_array().unwrap().len(), 2);

    let beyond = refund(&app, &admin, input(&order, "0.01", "r-3")).await;
    assert_eq!(code(&beyond), "AMOUNT_EXCEEDS_REFUNDABLE");
    assert_eq!(beyond["refund"], Value::Null);
    assert_eq!(app.simulated.hold(&authorization).unwrap().refunded_minor, 1000);

    // Each refund was announced once, in the transaction that recorded it.
    let announced: Vec<PaymentRefunded> = app.outbox().await.iter().filter_map(|m| m.decode().ok()).collect();
    let totals: Vec<(i64, i64)> = announced.iter().map(|r| (r.amount_minor, r.refunded_total_minor)).collect();
    assert_eq!(totals, vec![(400, 400), (600, 1000)]);
    assert!(announced.iter().all(|r| r.order_id == order && r.payment_id == payment.id.to_string()));
}

async fn refunds_are_refused_for_bad_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin();
    let captured = app.captured_order(Uuid::new_v4(), 1000).await;
    let authorized = app.authorized_order(Uuid::new_v4(), 1000, "tok_visa").await;

    let cases = [
        (input(&Uuid::now_v7().to_string(), "1.00", "a"), "PAYMENT_NOT_FOUND"),
        (input(&authorized, "1.00", "b"), "NOT_CAPTURED"),
        (input(&captured, "0", "c"), "INVALID_AMOUNT"),
        (input(&captured, "-1.00", "d"), "INVALID_AMOUNT"),
        (input(&captured, "1.005", "e"), "INVALID_AMOUNT"),
        (input(&captured, "10.01", "f"), "AMOUNT_EXCEEDS_REFUNDABLE"),
        (input(&captured, "1.00", "has space"), "INVALID"),
        (input(&captured, "1.00", "saga:void"), "INVALID"),
    ];
    for (variables, expected) in cases {
        let payload = refund(&app, &admin, variables.clone()).await;
        assert_eq!(code(&payload), expected, "{variables} -> {payload}");
    }
    let payment = app.service.store.by_order(&captured).await.unwrap().unwrap();
    assert_eq!(payment.refunded_minor, 0, "nothing was refunded");
}

async fn only_admins_refund(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = Uuid::new_v4();
    let order = app.captured_order(owner, 1000).await;
    let body = run_graphql(&app.service.schema, &customer(owner), &refund_op(), input(&order, "1.00", "k")).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = run_graphql(&app.service.schema, &Viewer::Anonymous, &refund_op(), input(&order, "1.00", "k")).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(app.service.store.by_order(&order).await.unwrap().unwrap().refunded_minor, 0);
}

async fn concurrent_refunds_never_exceed_the_capture(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.captured_order(Uuid::new_v4(), 1000).await;
    let admin = admin();
    let keys: Vec<String> = (0..6).map(|n| format!("race-{n}")).collect();
    let payloads =
        futures::future::join_all(keys.iter().map(|key| refund(&app, &admin, input(&order, "3.00", key)))).await;
    let made = payloads.iter().filter(|p| p["userErrors"] == json!([])).count();
    let refused = payloads.iter().filter(|p| p["userErrors"][0]["code"] == "AMOUNT_EXCEEDS_REFUNDABLE").count();
    assert_eq!((made, refused), (3, 3), "{payloads:?}");
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!(payment.refunded_minor, 900);
    assert_eq!(app.simulated.hold(payment.provider_reference.as_deref().unwrap()).unwrap().refunded_minor, 900);
}

const BY_ID: &str = "query($id: ID!) { payment(id: $id) { id orderId status amount { amount currencyCode } } }";

async fn a_payment_is_for_its_payer_and_admins(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = Uuid::new_v4();
    let order = app.authorized_order(owner, 2599, "tok_visa").await;
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    let id = json!({ "id": payment.id.to_string() });

    let mine = run_graphql(&app.service.schema, &customer(owner), BY_ID, id.clone()).await;
    assert_eq!(
        mine["data"]["payment"],
        json!({ "id": payment.id.to_string(), "orderId": order, "status": "AUTHORIZED", "amount": { "amount": "25.99", "currencyCode": "USD" } }),
        "{mine}"
    );
    let as_admin = run_graphql(&app.service.schema, &admin(), BY_ID, id.clone()).await;
    assert_eq!(as_admin["data"]["payment"]["id"], payment.id.to_string());
    let other = run_graphql(&app.service.schema, &customer(Uuid::new_v4()), BY_ID, id.clone()).await;
    assert_eq!(error_code(&other), "FORBIDDEN");
    assert_eq!(other["data"]["payment"], Value::Null);
    let anonymous = run_graphql(&app.service.schema, &Viewer::Anonymous, BY_ID, id).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let unknown =
        run_graphql(&app.service.schema, &customer(owner), BY_ID, json!({ "id": Uuid::now_v7().to_string() })).await;
    assert_eq!(unknown["data"]["payment"], Value::Null);
    assert!(unknown.get("errors").is_none());
}

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Order { id payment { id status failureCode } }
    ... on Payment { id orderId } } }"#;

async fn orders_resolve_with_or_without_a_payment(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = Uuid::new_v4();
    let paid = app.authorized_order(owner, 1000, "tok_visa").await;
    let failed = app.authorized_order(owner, 1000, "tok_declined").await;
    let unpaid = Uuid::now_v7().to_string();
    let paid_payment = app.service.store.by_order(&paid).await.unwrap().unwrap();
    let representations = json!({ "r": [
        { "__typename": "Order", "id": paid },
        { "__typename": "Order", "id": unpaid },
        { "__typename": "Order", "id": failed },
        { "__typename": "Payment", "id": paid_payment.id.to_string() },
    ] });

    let body = run_graphql(&app.service.schema, &customer(owner), ENTITIES, representations.clone()).await;
    assert!(body.get("errors").is_none(), "{body}");
    let entities = &body["data"]["_entities"];
    assert_eq!(entities[0]["payment"]["id"], paid_payment.id.to_string());
    assert_eq!(entities[0]["payment"]["status"], "AUTHORIZED");
    assert_eq!(entities[1], json!({ "id": unpaid, "payment": null }), "an order without payment still resolves");
    assert_eq!(entities[2]["payment"]["failureCode"], "DECLINED");
    assert_eq!(entities[3], json!({ "id": paid_payment.id.to_string(), "orderId": paid }));

    // Someone else sees the orders resolve but not their payments; each refusal nulls one
    // field or entity, never the batch.
    let body = run_graphql(&app.service.schema, &customer(Uuid::new_v4()), ENTITIES, representations).await;
    let entities = &body["data"]["_entities"];
    assert_eq!(entities[0]["id"], paid, "{body}");
    assert_eq!(entities[0]["payment"], Value::Null);
    assert_eq!(entities[1], json!({ "id": unpaid, "payment": null }));
    assert_eq!(entities[2]["payment"], Value::Null);
    assert_eq!(entities[3]["orderId"], Value::Null, "only the id, which the caller sent");
    let codes: Vec<&str> =
        body["errors"].as_array().unwrap().iter().filter_map(|e| e["extensions"]["code"].as_str()).collect();
    assert_eq!(codes, vec!["FORBIDDEN"; 3], "{body}");
}

shop_testkit::on_sql_backends!(
    partial_refunds_up_to_the_captured_amount,
    refunds_are_refused_for_bad_requests,
    only_admins_refund,
    concurrent_refunds_never_exceed_the_capture,
    a_payment_is_for_its_payer_and_admins,
    orders_resolve_with_or_without_a_payment,
);

#[tokio::test]
async fn the_sdl_declares_the_entities() {
    let sdl = shop_payments::PaymentsService::sdl();
    assert!(sdl.contains("type Payment @key(fields: \"id\")"), "{sdl}");
    assert!(sdl.contains("type Order @key(fields: \"id\")"), "{sdl}");
    assert!(sdl.contains("refundCreate(input: RefundCreateInput!): RefundCreatePayload! @requiresScopes"), "{sdl}");
    assert!(sdl.contains("AMOUNT_EXCEEDS_REFUNDABLE"));
}
