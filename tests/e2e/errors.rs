//! Bad input gets a clear error with a code, through the router.

use serde_json::{Value, json};
use shop_catalog::CatalogService;
use shop_inventory::InventoryService;

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_ids() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let (status, body) = stack
        .graphql(
            "query($id: ID!) { product(id: $id) { name stock { available } } }",
            json!({ "id": uuid::Uuid::new_v4().to_string() }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "data": { "product": null } }), "an unknown product is null, not an error");

    let (_, body) = stack.graphql("query($id: ID!) { product(id: $id) { name } }", json!({ "id": "not-an-id" })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["data"]["product"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_queries_are_refused_before_planning() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let (status, body) = stack.graphql("{ products(first: 1) { edges { node { name } } ", json!({})).await;
    assert!(status == 400 || status == 200, "status {status}");
    let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned();
    assert!(code.contains("PARSE"), "parse failure code, got {body}");
    assert!(body.get("data").is_none_or(Value::is_null));

    let (_, body) = stack.graphql("{ products { edges { node { noSuchField } } } }", json!({})).await;
    // hive-router names the failed validation rule as the code.
    assert_eq!(body["errors"][0]["extensions"]["code"], "FieldsOnCorrectType", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("noSuchField"), "{body}");
    assert!(body.get("data").is_none_or(Value::is_null));
}

#[tokio::test(flavor = "multi_thread")]
async fn too_deep_queries_are_refused() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let deep = "{ categories { children { children { parent { parent { children { parent { children { parent { children { parent { children { slug } } } } } } } } } } } } }";
    let (_, body) = stack.graphql(deep, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(message.contains("depth"), "depth limit error, got {body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
}
