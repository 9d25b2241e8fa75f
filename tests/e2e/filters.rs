//! Filters, search and facets through the router.

use serde_json::{Value, json};
use shop_catalog::CatalogService;

use crate::stack::Stack;

const LIST: &str = r#"query($filter: ProductFilterInput) { products(first: 100, filter: $filter) {
    totalCount
    edges { node { name brand description category { slug parent { slug } } price { amount }
        attributes { name value } variants { attributes { name value } } } }
    facets { brands { value count } categories { count category { slug } }
        attributes { name values { value count } } priceRange { min { amount } max { amount } } } } }"#;

async fn list(stack: &crate::stack::Stack, filter: Value) -> Value {
    let (_, body) = stack.graphql(LIST, json!({ "filter": filter })).await;
    assert!(body.get("errors").is_none(), "{filter}: {body}");
    body["data"]["products"].clone()
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_narrow_the_list_and_facets_count_it() {
    let stack = Stack::builder().with::<CatalogService>().start().await;
    let (_, categories) = stack.graphql("{ categories { id slug children { id slug } } }", json!({})).await;
    let footwear =
        categories["data"]["categories"].as_array().unwrap().iter().find(|c| c["slug"] == "footwear").unwrap().clone();

    let shoes = list(&stack, json!({ "categoryId": footwear["id"] })).await;
    let shoe_nodes = nodes(&shoes);
    assert!(!shoe_nodes.is_empty());
    assert!(
        shoe_nodes.iter().all(|n| n["category"]["parent"]["slug"] == "footwear"),
        "a parent category includes its children"
    );
    assert_eq!(shoes["totalCount"], shoe_nodes.len());
    let brand_total: u64 =
        shoes["facets"]["brands"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(brand_total, shoe_nodes.len() as u64, "brand facet counts add up to the list");

    let brand = shoes["facets"]["brands"][0]["value"].as_str().unwrap().to_owned();
    let by_brand = list(&stack, json!({ "categoryId": footwear["id"], "brands": [brand] })).await;
    assert_eq!(by_brand["totalCount"], shoes["facets"]["brands"][0]["count"]);
    assert!(nodes(&by_brand).iter().all(|n| n["brand"] == brand));

    let cheap = list(&stack, json!({ "priceRange": { "max": { "amount": "20.00", "currencyCode": "USD" } } })).await;
    assert!(
        nodes(&cheap).iter().all(|n| n["price"]["amount"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            < 20
            || n["price"]["amount"] == "20.00")
    );
    assert!(cheap["facets"]["priceRange"]["max"]["amount"].as_str().is_some());

    let black = list(&stack, json!({ "attributes": [{ "name": "Colour", "values": ["BLACK"] }] })).await;
    assert!(black["totalCount"].as_u64().unwrap() > 0);
    for node in nodes(&black) {
        let all_attrs: Vec<&Value> = node["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .chain(node["variants"].as_array().unwrap().iter().flat_map(|v| v["attributes"].as_array().unwrap()))
            .collect();
        assert!(all_attrs.iter().any(|a| a["name"] == "colour" && a["value"] == "black"), "{node}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_words_by_prefix_and_treats_symbols_literally() {
    let stack = Stack::builder().with::<CatalogService>().start().await;
    let cotton = list(&stack, json!({ "search": "COTTON" })).await;
    assert!(cotton["totalCount"].as_u64().unwrap() > 0);
    for node in nodes(&cotton) {
        let text = format!("{} {} {} {}", node["name"], node["brand"], node["description"], node).to_lowercase();
        assert!(text.contains("cotton"), "{node}");
    }
    let prefix = list(&stack, json!({ "search": "cott" })).await;
    assert_eq!(prefix["totalCount"], cotton["totalCount"], "words match by prefix");
    let nothing = list(&stack, json!({ "search": "zzzqqq" })).await;
    assert_eq!(nothing["totalCount"], 0);
    assert_eq!(nothing["facets"]["priceRange"], Value::Null);
    let symbols = list(&stack, json!({ "search": ".* ^$ (" })).await;
    assert_eq!(symbols["totalCount"], 70, "symbols are not words, so they do not filter");
}
