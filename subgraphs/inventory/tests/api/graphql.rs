//! The inventory schema without a socket: entity resolution and admin adjustments.

use std::sync::Arc;

use serde_json::{Value, json};
use shop_inventory::{InventoryConfig, InventoryService};
use shop_kernel::auth::Viewer;
use shop_messaging::{contracts, memory::InMemoryBus};
use shop_testkit::{Backend, admin, customer, run_graphql};

use crate::fresh_store;

#[tokio::test]
async fn stock_extends_products_and_variants_in_one_batch() {
    let (store, _guard) = fresh_store(Backend::Sqlite).await;
    store.seed("RED-M", 4).await.unwrap();
    store.seed("RED-L", 0).await.unwrap();
    store.seed("BLUE-M", 2).await.unwrap();
    let service = InventoryService::from_parts(
        Arc::new(store),
        InMemoryBus::new(contracts::topology()),
        &InventoryConfig::default(),
    );
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { id stock { available inStock } }
        ... on ProductVariant { sku stock { available inStock } } } }"#;
    let representations = json!([
        { "__typename": "Product", "id": "p1", "variants": [{ "sku": "RED-M" }, { "sku": "RED-L" }] },
        { "__typename": "Product", "id": "p2", "variants": [{ "sku": "RED-L" }] },
        { "__typename": "ProductVariant", "sku": "BLUE-M" },
        { "__typename": "ProductVariant", "sku": "NEVER-STOCKED" },
    ]);
    let body = run_graphql(&service.schema, &admin(), query, json!({ "r": representations })).await;
    assert_eq!(
        body["data"]["_entities"],
        json!([
            { "id": "p1", "stock": { "available": 4, "inStock": true } },
            { "id": "p2", "stock": { "available": 0, "inStock": false } },
            { "sku": "BLUE-M", "stock": { "available": 2, "inStock": true } },
            { "sku": "NEVER-STOCKED", "stock": { "available": 0, "inStock": false } },
        ]),
        "{body}"
    );
}

const ADJUST: &str = r#"mutation($input: StockAdjustInput!) { stockAdjust(input: $input) {
    stockLevel { sku onHand reserved available adjustments(first: 5) { edges { node { delta reason onHandAfter } } } }
    userErrors { field message code } } }"#;

#[tokio::test]
async fn admin_operations_need_the_admin_role() {
    let (store, _guard) = fresh_store(Backend::Sqlite).await;
    let service = InventoryService::from_parts(
        Arc::new(store),
        InMemoryBus::new(contracts::topology()),
        &InventoryConfig::default(),
    );
    let input = json!({ "input": { "sku": "A", "delta": 5, "reason": "x" } });
    let body = run_graphql(&service.schema, &customer(uuid::Uuid::new_v4()), ADJUST, input.clone()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let body = run_graphql(&service.schema, &Viewer::Anonymous, ADJUST, input).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert!(service.store.stock_levels(&["A".into()]).await.unwrap().is_empty(), "nothing was written");
}

#[tokio::test]
async fn stock_adjust_validates_and_audits() {
    let (store, _guard) = fresh_store(Backend::Sqlite).await;
    let config = InventoryConfig::default();
    let service = InventoryService::from_parts(Arc::new(store), InMemoryBus::new(contracts::topology()), &config);

    let body = run_graphql(
        &service.schema,
        &admin(),
        ADJUST,
        json!({ "input": { "sku": "SKU-1", "delta": 7, "reason": "delivery" } }),
    )
    .await;
    assert_eq!(
        body["data"]["stockAdjust"]["stockLevel"],
        json!({ "sku": "SKU-1", "onHand": 7, "reserved": 0, "available": 7,
                "adjustments": { "edges": [{ "node": { "delta": 7, "reason": "delivery", "onHandAfter": 7 } }] } }),
        "{body}"
    );

    for (input, field, code) in [
        (json!({ "sku": "SKU-1", "delta": 0, "reason": "x" }), "delta", "INVALID"),
        (json!({ "sku": "bad sku", "delta": 1, "reason": "x" }), "sku", "INVALID"),
        (json!({ "sku": "SKU-1", "delta": 1, "reason": "" }), "reason", "INVALID"),
        (json!({ "sku": "SKU-1", "delta": -8, "reason": "lost" }), "delta", "INSUFFICIENT_STOCK"),
        (json!({ "sku": "NOPE", "delta": -1, "reason": "lost" }), "sku", "NOT_FOUND"),
    ] {
        let body = run_graphql(&service.schema, &admin(), ADJUST, json!({ "input": input })).await;
        let payload = &body["data"]["stockAdjust"];
        assert_eq!(payload["stockLevel"], Value::Null, "{body}");
        assert_eq!(payload["userErrors"][0]["code"], code, "{body}");
        assert_eq!(payload["userErrors"][0]["field"], json!(["input", field]), "{body}");
    }
    let level = service.store.stock_levels(&["SKU-1".into()]).await.unwrap();
    assert_eq!(level[0].on_hand, 7, "refused adjustments change nothing");
    assert_eq!(service.store.adjustments("SKU-1", 0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_pagination_is_a_client_error() {
    let (store, _guard) = fresh_store(Backend::Sqlite).await;
    store.seed("A", 1).await.unwrap();
    let config = InventoryConfig::default();
    let service = InventoryService::from_parts(Arc::new(store), InMemoryBus::new(contracts::topology()), &config);
    let body = run_graphql(
        &service.schema,
        &admin(),
        r#"{ stockLevel(sku: "A") { adjustments(first: 101) { edges { cursor } } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}
