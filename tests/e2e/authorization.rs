//! Authorization across the supergraph: the router refuses bad tokens with 401 and enforces
//! `@authenticated` / `@requiresScopes`; subgraphs verify tokens again and authorize per
//! object, so nothing changes when a check fails, through the router or around it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use shop_kernel::auth::{Claims, Role};
use shop_users::keys::{SigningKeys, generate_pem};

use crate::stack::Stack;

const ME: &str = "{ me { id email roles } }";

fn codes(body: &Value) -> Vec<String> {
    body["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned)).collect()
    })
}

fn claims(sub: &str, roles: Vec<Role>, exp_offset_secs: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.to_owned(),
        scope: roles.iter().map(|r| r.scope()).collect::<Vec<_>>().join(" "),
        roles,
        iss: "shop-users".into(),
        aud: "shop".into(),
        exp: now + exp_offset_secs,
        iat: now - 1_000,
        nbf: now - 1_000,
        jti: uuid::Uuid::new_v4().to_string(),
    }
}

fn sign(pem: &str, claims: &Claims) -> String {
    let keys = SigningKeys::from_pems(pem, &[]).unwrap();
    let header = Header { kid: Some(keys.kid().to_owned()), ..Header::new(Algorithm::EdDSA) };
    jsonwebtoken::encode(&header, claims, keys.encoding_key()).unwrap()
}

/// `token` with its payload replaced and the original signature kept.
fn tampered(token: &str, claims: &Claims) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

async fn customer(stack: &Stack, email: &str) -> (String, String) {
    let session = stack.register(email, "correct horse battery").await;
    (session["accessToken"].as_str().unwrap().to_owned(), session["user"]["id"].as_str().unwrap().to_owned())
}

async fn roles_of(stack: &Stack, token: &str) -> Value {
    let (_, body) = stack.graphql_as(token, ME, json!({})).await;
    body["data"]["me"]["roles"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_callers_browse_but_cannot_read_protected_fields() {
    let stack = Stack::everything().await;
    let (status, body) = stack.graphql("{ categories { slug } }", json!({})).await;
    assert_eq!(status, 200);
    assert!(body["data"]["categories"].as_array().is_some_and(|c| !c.is_empty()), "{body}");

    let (_, body) = stack.graphql(ME, json!({})).await;
    assert_eq!(body["data"]["me"], Value::Null, "{body}");
    assert_eq!(codes(&body), ["UNAUTHORIZED_FIELD_OR_TYPE"], "the router enforces @authenticated: {body}");

    // Around the router, the subgraph refuses it too.
    let (_, body) = stack.subgraph("users", None, ME, json!({})).await;
    assert_eq!(codes(&body), ["UNAUTHENTICATED"], "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_are_refused_with_401_and_change_nothing() {
    let stack = Stack::everything().await;
    let (token, user_id) = customer(&stack, "eve@example.com").await;
    let as_admin = claims(&user_id, vec![Role::Customer, Role::Admin], 600);
    let other_key = generate_pem().unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&as_admin).unwrap());
    let bad_tokens = [
        ("expired", sign(&stack.signing_key_pem, &claims(&user_id, vec![Role::Customer], -600))),
        ("signed by another key", sign(&other_key, &as_admin)),
        ("tampered claims", tampered(&token, &as_admin)),
        ("alg none", format!("{none_header}.{none_payload}.")),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    let promote = "mutation($id: ID!) { userRolesSet(userId: $id, roles: [ADMIN]) { user { roles } } }";
    for (what, bad) in &bad_tokens {
        let (status, body) = stack.graphql_as(bad, promote, json!({ "id": user_id })).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(codes(&body), ["UNAUTHENTICATED"], "{what}: {body}");
        let (status, body) = stack.subgraph("users", Some(bad), promote, json!({ "id": user_id })).await;
        assert_eq!(status, 401, "{what}, straight to the subgraph: {body}");
        assert_eq!(codes(&body), ["UNAUTHENTICATED"], "{what}: {body}");
    }
    assert_eq!(roles_of(&stack, &token).await, json!(["CUSTOMER"]), "no attempt promoted the user");
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_cannot_run_admin_operations() {
    let stack = Stack::everything().await;
    let (token, user_id) = customer(&stack, "mallory@example.com").await;
    let (_, body) = stack.graphql("{ products(first: 1) { edges { node { id name } } } }", json!({})).await;
    let product_id = body["data"]["products"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();
    let archive = "mutation($id: ID!) { productArchive(id: $id) { product { status } } }";
    let promote = "mutation($id: ID!) { userRolesSet(userId: $id, roles: [ADMIN]) { user { roles } } }";
    let list_users = "{ users(first: 5) { totalCount edges { node { email } } } }";

    for (operation, variables) in [
        (archive, json!({ "id": product_id })),
        (promote, json!({ "id": user_id })),
        (list_users, json!({})),
        ("{ stockLevel(sku: \"X\") { onHand } }", json!({})),
    ] {
        let (_, body) = stack.graphql_as(&token, operation, variables.clone()).await;
        assert_eq!(codes(&body), ["UNAUTHORIZED_FIELD_OR_TYPE"], "the router enforces @requiresScopes: {body}");
    }
    // Straight to the subgraphs, each refuses on its own.
    let (_, body) = stack.subgraph("catalog", Some(&token), archive, json!({ "id": product_id })).await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    let (_, body) = stack.subgraph("users", Some(&token), promote, json!({ "id": user_id })).await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");

    // Nothing changed.
    let (_, body) = stack.graphql("query($id: ID!) { product(id: $id) { status } }", json!({ "id": product_id })).await;
    assert_eq!(body["data"]["product"]["status"], "ACTIVE", "{body}");
    assert_eq!(roles_of(&stack, &token).await, json!(["CUSTOMER"]));

    // An admin may.
    let admin = stack.admin_token().await;
    let (_, body) = stack.graphql_as(&admin, list_users, json!({})).await;
    assert!(body["data"]["users"]["totalCount"].as_u64().unwrap() >= 3, "{body}");
    let (_, body) = stack.graphql_as(&admin, promote, json!({ "id": user_id })).await;
    assert_eq!(body["data"]["userRolesSet"]["user"]["roles"], json!(["CUSTOMER", "ADMIN"]), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_cannot_read_each_others_data() {
    let stack = Stack::everything().await;
    let (alice, alice_id) = customer(&stack, "alice@example.com").await;
    let (bob, _) = customer(&stack, "bob@example.com").await;
    let (_, body) = stack.graphql("{ products(first: 1) { edges { node { id variants { sku } } } } }", json!({})).await;
    let node = &body["data"]["products"]["edges"][0]["node"];
    let line = json!({ "productId": node["id"], "sku": node["variants"][0]["sku"], "quantity": 2 });
    let create = "mutation($lines: [CartLineInput!]) { cartCreate(input: { lines: $lines }) { cart { id } userErrors { code } } }";
    let (_, body) = stack.graphql_as(&alice, create, json!({ "lines": [line.clone()] })).await;
    let cart_id = body["data"]["cartCreate"]["cart"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();

    let read = "query($id: ID!) { cart(id: $id) { id totalQuantity } }";
    let (_, body) = stack.graphql_as(&bob, read, json!({ "id": cart_id })).await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    let (_, body) = stack.graphql(read, json!({ "id": cart_id })).await;
    let code = codes(&body);
    assert!(
        code == ["FORBIDDEN"] || code == ["UNAUTHENTICATED"],
        "anonymous callers cannot read a user's cart by id either: {body}"
    );
    let add = "mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { cart { totalQuantity } } }";
    let (_, body) = stack.graphql_as(&bob, add, json!({ "id": cart_id, "lines": [line] })).await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    let (_, body) = stack.graphql_as(&alice, read, json!({ "id": cart_id })).await;
    assert_eq!(body["data"]["cart"]["totalQuantity"], 2, "bob changed nothing: {body}");

    // Entity resolution applies the same rule: bob cannot resolve alice as a User.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }";
    let representations = json!({ "r": [{ "__typename": "User", "id": alice_id }] });
    let (_, body) = stack.subgraph("users", Some(&bob), entities, representations.clone()).await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    let (_, body) = stack.subgraph("users", Some(&alice), entities, representations).await;
    assert_eq!(body["data"]["_entities"][0]["email"], "alice@example.com", "{body}");
}
