//! Who may read and list orders: the owner and admins, nobody else.

use serde_json::{Value, json};
use shop_kernel::auth::Viewer;
use shop_testkit::{Backend, admin, customer};
use uuid::Uuid;

use crate::{TestApp, user_of};

const ORDER_QUERY: &str = "query($id: ID!) { order(id: $id) { id status total { amount } } }";
const USER_ORDERS: &str = r#"query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) {
    ... on User { id orders(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } } }"#;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn only_the_owner_or_an_admin_reads_an_order(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].clone();

    let own = app.run(&owner, ORDER_QUERY, json!({ "id": id })).await;
    assert_eq!(own["data"]["order"]["id"], id, "{own}");
    assert_eq!(own["data"]["order"]["total"]["amount"], "54.97");
    assert_eq!(app.run(&admin(), ORDER_QUERY, json!({ "id": id })).await["data"]["order"]["id"], id);
    let other = app.run(&customer(Uuid::new_v4()), ORDER_QUERY, json!({ "id": id })).await;
    assert_eq!(code(&other), "FORBIDDEN", "{other}");
    assert_eq!(other["data"]["order"], Value::Null);
    assert_eq!(code(&app.run(&Viewer::Anonymous, ORDER_QUERY, json!({ "id": id })).await), "UNAUTHENTICATED");
    let unknown = app.run(&owner, ORDER_QUERY, json!({ "id": Uuid::new_v4().to_string() })).await;
    assert_eq!(unknown["data"]["order"], Value::Null);
    assert!(unknown.get("errors").is_none());

    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status } } }";
    let r = json!([{ "__typename": "Order", "id": id }]);
    assert_eq!(app.run(&owner, entities, json!({ "r": r })).await["data"]["_entities"][0]["id"], id);
    assert_eq!(code(&app.run(&customer(Uuid::new_v4()), entities, json!({ "r": r })).await), "FORBIDDEN");
}

async fn user_orders_are_a_newest_first_connection(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(app.place(&owner).await["id"].clone());
    }
    app.place(&customer(Uuid::new_v4())).await;
    let r = json!([{ "__typename": "User", "id": user_of(&owner).to_string() }]);

    let page = app.run(&owner, USER_ORDERS, json!({ "r": r, "first": 2 })).await;
    let orders = &page["data"]["_entities"][0]["orders"];
    let ids: Vec<Value> = orders["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].clone()).collect();
    assert_eq!(ids, vec![placed[2].clone(), placed[1].clone()], "{page}");
    assert_eq!(orders["pageInfo"]["hasNextPage"], true);
    let next =
        app.run(&owner, USER_ORDERS, json!({ "r": r, "first": 2, "after": orders["pageInfo"]["endCursor"] })).await;
    let rest = &next["data"]["_entities"][0]["orders"];
    assert_eq!(rest["edges"][0]["node"]["id"], placed[0]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    assert_eq!(
        app.run(&admin(), USER_ORDERS, json!({ "r": r })).await["data"]["_entities"][0]["orders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(code(&app.run(&customer(Uuid::new_v4()), USER_ORDERS, json!({ "r": r })).await), "FORBIDDEN");
    assert_eq!(code(&app.run(&owner, USER_ORDERS, json!({ "r": r, "first": 101 })).await), "BAD_USER_INPUT");
}

shop_testkit::on_sql_backends!(only_the_owner_or_an_admin_reads_an_order, user_orders_are_a_newest_first_connection);
