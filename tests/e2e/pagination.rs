//! Relay pagination through the router: cursors walk the whole list once, page size is capped.

use std::collections::HashSet;

use serde_json::{Value, json};
use shop_catalog::CatalogService;
use shop_inventory::InventoryService;

use crate::stack::Stack;

const PAGE: &str = r#"query($first: Int, $after: String) { products(first: $first, after: $after, sort: PRICE_ASC) {
    edges { cursor node { id price { amount } stock { inStock } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"#;

#[tokio::test(flavor = "multi_thread")]
async fn cursors_walk_every_product_once() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let mut seen = HashSet::new();
    let mut after = Value::Null;
    let mut pages = 0;
    let mut last_price = rust_decimal_free_parse("0");
    loop {
        let (_, body) = stack.graphql(PAGE, json!({ "first": 25, "after": after })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let connection = &body["data"]["products"];
        for edge in connection["edges"].as_array().unwrap() {
            assert!(seen.insert(edge["node"]["id"].as_str().unwrap().to_owned()), "a product appeared twice");
            let price = rust_decimal_free_parse(edge["node"]["price"]["amount"].as_str().unwrap());
            assert!(price >= last_price, "sorted by price");
            last_price = price;
        }
        pages += 1;
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], pages > 1);
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!((pages, seen.len()), (3, 70));
}

/// Compares decimal strings like "24.00" without floats: as integer cents.
fn rust_decimal_free_parse(amount: &str) -> i64 {
    let (units, cents) = amount.split_once('.').unwrap_or((amount, "0"));
    units.parse::<i64>().unwrap() * 100 + format!("{cents:0<2}").parse::<i64>().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_pages_and_bad_cursors_are_refused() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    for variables in [json!({ "first": 101 }), json!({ "first": -1 }), json!({ "first": 5, "after": "not-a-cursor" })] {
        let (_, body) = stack.graphql(PAGE, variables.clone()).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{variables}: {body}");
        assert_eq!(body["data"], Value::Null, "{body}");
    }
}
