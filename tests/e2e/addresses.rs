//! An address a customer can save is one checkout ships to: users and orders parse addresses
//! with one set of rules, so a country checkout refuses cannot be saved in the first place.

use serde_json::json;
use shop_catalog::CatalogService;
use shop_inventory::InventoryService;
use shop_orders::OrdersService;
use shop_users::UsersService;

use crate::{
    checkout::{ORDER, a_sku_in_stock, customer_token},
    stack::Stack,
};

const ADD: &str = "mutation($input: AddressInput!) { addressAdd(input: $input) { user { addresses { id country } } userErrors { field code } } }";

fn address(country: &str) -> serde_json::Value {
    json!({ "input": { "kind": "SHIPPING", "name": "Ada", "line1": "10 Downing St", "city": "London",
                       "postalCode": "SW1A 2AA", "country": country, "phone": "+44 20 7946 0000" } })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_country_checkout_refuses_cannot_be_saved_and_a_saved_address_ships() {
    let stack = Stack::builder()
        .with::<UsersService>()
        .with::<CatalogService>()
        .with::<InventoryService>()
        .with::<OrdersService>()
        .start()
        .await;
    let token = customer_token(&stack).await;

    // `UK` is two letters but not an ISO 3166-1 code (the code is `GB`): refused on save.
    let (_, body) = stack.graphql_as(&token, ADD, address("UK")).await;
    assert_eq!(
        body["data"]["addressAdd"]["userErrors"],
        json!([{ "field": ["input", "country"], "code": "INVALID" }]),
        "{body}"
    );

    let (_, body) = stack.graphql_as(&token, ADD, address("gb")).await;
    let saved = &body["data"]["addressAdd"]["user"]["addresses"][0];
    assert_eq!(saved["country"], "GB", "{body}");

    let (sku, _) = a_sku_in_stock(&stack).await;
    let (_, body) = stack
        .graphql_as(
            &token,
            &format!("mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ order {{ {ORDER} shippingAddress {{ country phone }} }} userErrors {{ field code }} }} }}"),
            json!({ "input": {
                "lines": [{ "sku": sku, "quantity": 1 }],
                "addressId": saved["id"],
                "paymentToken": "tok_visa",
                "idempotencyKey": shop_testkit::unique_name("key"),
            } }),
        )
        .await;
    let placed = &body["data"]["checkout"];
    assert_eq!(placed["userErrors"], json!([]), "{body}");
    assert_eq!(placed["order"]["shippingAddress"], json!({ "country": "GB", "phone": "+44 20 7946 0000" }), "{body}");
}
