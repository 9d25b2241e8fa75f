//! Cancelling a confirmed order before it ships gives everything back: its units return to the
//! shelf exactly once, and the captured money is refunded.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    checkout::{
        a_sku_in_stock, assert_stock_invariants, available, checkout, customer_token, reservation_status, wait_for,
        wait_for_status,
    },
    stack::Stack,
};

const CANCEL: &str = "mutation($id: ID!) { orderCancel(id: $id) { order { status } userErrors { field code } } }";

/// The warehouse view of `sku` (admin): units on hand and units held.
async fn stock_level(stack: &Stack, admin: &str, sku: &str) -> (i64, i64) {
    let (_, body) = stack
        .graphql_as(admin, "query($sku: String!) { stockLevel(sku: $sku) { onHand reserved } }", json!({ "sku": sku }))
        .await;
    let level = &body["data"]["stockLevel"];
    (level["onHand"].as_i64().unwrap_or_else(|| panic!("{body}")), level["reserved"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_confirmed_order_puts_its_units_back_once_and_is_refunded() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let admin = stack.admin_token().await;
    let (sku, before) = a_sku_in_stock(&stack).await;
    let (on_hand_before, _) = stock_level(&stack, &admin, &sku).await;

    let placed = checkout(&stack, &token, &sku, 2, "tok_visa", &shop_testkit::unique_name("key")).await;
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&stack, &token, &order_id, "CONFIRMED").await;
    wait_for(&stack, &token, &order_id, "captured", |o| o["paymentStatus"] == "CAPTURED").await;
    assert_eq!(stock_level(&stack, &admin, &sku).await, (on_hand_before - 2, 0), "committed: off the books");

    let (_, body) = stack.graphql_as(&token, CANCEL, json!({ "id": order_id })).await;
    assert_eq!(body["data"]["orderCancel"]["order"]["status"], "CANCELLED", "{body}");
    // A second cancel is refused and sends nothing.
    let (_, again) = stack.graphql_as(&token, CANCEL, json!({ "id": order_id })).await;
    assert_eq!(again["data"]["orderCancel"]["userErrors"], json!([{ "field": ["id"], "code": "INVALID_TRANSITION" }]));

    let refunded: Value = wait_for(&stack, &token, &order_id, "refunded", |o| o["paymentStatus"] == "REFUNDED").await;
    assert_eq!(refunded["payment"]["status"], "REFUNDED", "{refunded}");
    let restocked = async {
        while stock_level(&stack, &admin, &sku).await != (on_hand_before, 0) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), restocked).await.expect("the units never went back");
    // The reservation stays committed in the books, with its restock recorded.
    assert_eq!(reservation_status(&stack, &order_id).await.as_deref(), Some("COMMITTED"));
    // Back on hand, exactly the two units, and they stay there.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stock_level(&stack, &admin, &sku).await, (on_hand_before, 0), "restocked once");
    assert_eq!(available(&stack, &sku).await, before);
    assert_stock_invariants(&stack).await;
}
