//! One request, two subgraphs: products from the catalog with stock from inventory.

use serde_json::json;
use shop_catalog::CatalogService;
use shop_inventory::InventoryService;

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread")]
async fn products_come_with_their_stock() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let (status, body) = stack
        .graphql(
            r#"query($first: Int) { products(first: $first, sort: NAME_ASC) {
                totalCount
                edges { node { id name slug price { amount currencyCode }
                    stock { available inStock }
                    variants { sku price { amount } stock { available inStock } } } } } }"#,
            json!({ "first": 100 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let edges = body["data"]["products"]["edges"].as_array().unwrap();
    assert_eq!(body["data"]["products"]["totalCount"], 70);
    assert_eq!(edges.len(), 70);

    // The seed: NW-TEE-ORG-WHT-L has 0 units, so its variant is out of stock while its
    // product, with other variants in stock, is in stock with the sum of the rest.
    let tee = edges.iter().map(|e| &e["node"]).find(|n| n["slug"] == "organic-cotton-tee").expect("seeded tee");
    let variants = tee["variants"].as_array().unwrap();
    let white_l = variants.iter().find(|v| v["sku"] == "NW-TEE-ORG-WHT-L").unwrap();
    assert_eq!(white_l["stock"], json!({ "available": 0, "inStock": false }));
    let sum: i64 = variants.iter().map(|v| v["stock"]["available"].as_i64().unwrap()).sum();
    assert!(sum > 0);
    assert_eq!(tee["stock"], json!({ "available": sum, "inStock": true }));
    assert_eq!(tee["price"]["currencyCode"], "USD");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_product_by_slug_joins_too() {
    let stack = Stack::builder().with::<CatalogService>().with::<InventoryService>().start().await;
    let (_, body) = stack
        .graphql(
            r#"{ product(slug: "organic-cotton-tee") { name category { slug parent { slug } } variants { sku stock { inStock } } stock { available } } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let product = &body["data"]["product"];
    assert_eq!(product["category"]["parent"]["slug"], "apparel", "{body}");
    assert!(product["stock"]["available"].as_i64().unwrap() > 0);
}
