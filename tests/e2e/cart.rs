//! A guest fills a cart, signs in and merges it into their own; names and prices come from
//! the catalog through the router.

use serde_json::{Value, json};
use shop_cart::CartService;
use shop_catalog::CatalogService;
use shop_users::UsersService;

use crate::stack::Stack;

const CART: &str =
    "id version totalQuantity lines { sku quantity product { name } variant { sku price { amount currencyCode } } }";

#[tokio::test(flavor = "multi_thread")]
async fn guest_cart_merges_into_the_user_cart_on_login() {
    let stack = Stack::builder().with::<UsersService>().with::<CatalogService>().with::<CartService>().start().await;
    let (_, body) = stack
        .graphql(
            "{ products(first: 2, sort: NAME_ASC) { edges { node { id name variants { sku price { amount } } } } } }",
            json!({}),
        )
        .await;
    let products: Vec<Value> =
        body["data"]["products"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    let line = |p: &Value, quantity: i64| json!({ "productId": p["id"], "sku": p["variants"][0]["sku"], "quantity": quantity });

    // A guest starts a cart and gets an unguessable id for it.
    let create = format!(
        "mutation($lines: [CartLineInput!]) {{ cartCreate(input: {{ lines: $lines }}) {{ cart {{ {CART} }} userErrors {{ code }} }} }}"
    );
    let (_, body) = stack.graphql(&create, json!({ "lines": [line(&products[0], 2), line(&products[1], 1)] })).await;
    let guest = &body["data"]["cartCreate"]["cart"];
    let guest_id = guest["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    assert_eq!(guest["totalQuantity"], 3, "{body}");
    assert_eq!(guest["lines"][0]["product"]["name"], products[0]["name"], "names resolve from the catalog: {body}");
    assert_eq!(
        guest["lines"][0]["variant"]["price"]["amount"], products[0]["variants"][0]["price"]["amount"],
        "{body}"
    );

    // Invalid quantities are refused and change nothing.
    let add = format!(
        "mutation($id: ID!, $lines: [CartLineInput!]!, $v: Int) {{ cartLinesAdd(cartId: $id, lines: $lines, expectedVersion: $v) {{ cart {{ {CART} }} userErrors {{ code }} }} }}"
    );
    let (_, body) = stack.graphql(&add, json!({ "id": guest_id, "lines": [line(&products[0], 100)] })).await;
    assert_ne!(body["data"]["cartLinesAdd"]["userErrors"], json!([]), "{body}");
    // A stale version is refused too.
    let (_, body) = stack.graphql(&add, json!({ "id": guest_id, "lines": [line(&products[0], 1)], "v": 0 })).await;
    assert_eq!(body["data"]["cartLinesAdd"]["userErrors"][0]["code"], "VERSION_CONFLICT", "{body}");

    // The customer already has a cart with one of the same products.
    let customer = stack.login(shop_users::seed::CUSTOMER_EMAIL, shop_users::seed::CUSTOMER_PASSWORD).await;
    let token = customer["accessToken"].as_str().unwrap();
    let (_, body) = stack.graphql_as(token, &create, json!({ "lines": [line(&products[0], 1)] })).await;
    assert_eq!(body["data"]["cartCreate"]["userErrors"], json!([]), "{body}");

    let merge =
        format!("mutation($id: ID!) {{ cartMerge(guestCartId: $id) {{ cart {{ {CART} }} userErrors {{ code }} }} }}");
    let (_, body) = stack.graphql_as(token, &merge, json!({ "id": guest_id })).await;
    let merged = &body["data"]["cartMerge"]["cart"];
    assert_eq!(merged["totalQuantity"], 4, "quantities are summed: {body}");
    assert_eq!(merged["lines"].as_array().unwrap().len(), 2, "{body}");

    // The user's cart, through `me`, with catalog data; the guest cart is gone.
    let (_, body) = stack.graphql_as(token, &format!("{{ me {{ email cart {{ {CART} }} }} }}"), json!({})).await;
    let cart = &body["data"]["me"]["cart"];
    assert_eq!(cart["id"], merged["id"], "{body}");
    let mut names: Vec<&str> =
        cart["lines"].as_array().unwrap().iter().map(|l| l["product"]["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = products.iter().map(|p| p["name"].as_str().unwrap()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "{body}");
    assert!(cart["lines"].as_array().unwrap().iter().all(|l| l["variant"]["price"]["currencyCode"] == "USD"), "{body}");
    let (_, body) = stack.graphql("query($id: ID!) { cart(id: $id) { id } }", json!({ "id": guest_id })).await;
    assert_eq!(body["data"]["cart"], Value::Null, "the guest cart was consumed: {body}");
}
