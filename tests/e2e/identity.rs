//! Sign-up, sign-in, `me`, refresh-token rotation with reuse detection, and logout, through
//! the router.

use serde_json::json;
use shop_users::UsersService;

use crate::stack::Stack;

const ME: &str = "{ me { id email name roles addresses { id } } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken userErrors { code } } }";

#[tokio::test(flavor = "multi_thread")]
async fn register_then_login_then_me() {
    let stack = Stack::builder().with::<UsersService>().start().await;
    let registered = stack.register("Ada@Example.com", "correct horse battery").await;
    assert_eq!(registered["userErrors"], json!([]), "{registered}");
    assert_eq!(registered["user"]["roles"], json!(["CUSTOMER"]));

    let again = stack.register("ada@example.COM", "another long password").await;
    assert_eq!(again["userErrors"][0]["code"], "EMAIL_TAKEN", "emails are unique case-insensitively: {again}");
    assert_eq!(again["accessToken"], json!(null));

    let login = stack.login("ADA@example.com", "correct horse battery").await;
    let token = login["accessToken"].as_str().expect("a session");
    let (status, body) = stack.graphql_as(token, ME, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["email"], "Ada@Example.com", "{body}");
    assert_eq!(body["data"]["me"]["id"], registered["user"]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_do_not_reveal_accounts_and_are_throttled() {
    let stack = Stack::builder().with::<UsersService>().start().await;
    stack.register("bob@example.com", "correct horse battery").await;
    let wrong_password = stack.login("bob@example.com", "not the password").await;
    let unknown_email = stack.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong_password["userErrors"], unknown_email["userErrors"], "the same answer either way");
    assert_eq!(wrong_password["userErrors"][0]["code"], "INVALID_CREDENTIALS");

    for _ in 0..4 {
        stack.login("bob@example.com", "still not it").await;
    }
    let locked = stack.login("bob@example.com", "correct horse battery").await;
    assert_eq!(locked["userErrors"][0]["code"], "TOO_MANY_ATTEMPTS", "even the right password waits: {locked}");
    assert_eq!(locked["accessToken"], json!(null));
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_rotate_and_reuse_revokes_the_session() {
    let stack = Stack::builder().with::<UsersService>().start().await;
    let session = stack.register("carol@example.com", "correct horse battery").await;
    let first = session["refreshToken"].as_str().unwrap().to_owned();

    let (_, body) = stack.graphql(REFRESH, json!({ "t": first })).await;
    let rotated = &body["data"]["refreshToken"];
    assert_eq!(rotated["userErrors"], json!([]), "{body}");
    let second = rotated["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "every refresh issues a new refresh token");
    let (status, me) = stack.graphql_as(rotated["accessToken"].as_str().unwrap(), ME, json!({})).await;
    assert_eq!((status, me["data"]["me"]["email"].clone()), (200, json!("carol@example.com")), "{me}");

    // A thief replays the first token: refused, and the whole session is revoked.
    let (_, body) = stack.graphql(REFRESH, json!({ "t": first })).await;
    assert_eq!(body["data"]["refreshToken"]["userErrors"][0]["code"], "REFRESH_TOKEN_REUSED", "{body}");
    let (_, body) = stack.graphql(REFRESH, json!({ "t": second })).await;
    assert_ne!(body["data"]["refreshToken"]["userErrors"], json!([]), "the rotated token died with its family: {body}");
    assert_eq!(body["data"]["refreshToken"]["accessToken"], json!(null));

    // Another session of the same user is untouched; logging it out ends it.
    let other = stack.login("carol@example.com", "correct horse battery").await;
    let other_refresh = other["refreshToken"].as_str().unwrap();
    let (_, body) = stack
        .graphql("mutation($t: String!) { logout(refreshToken: $t) { success } }", json!({ "t": other_refresh }))
        .await;
    assert_eq!(body["data"]["logout"]["success"], true, "{body}");
    let (_, body) = stack.graphql(REFRESH, json!({ "t": other_refresh })).await;
    assert_ne!(body["data"]["refreshToken"]["userErrors"], json!([]), "a logged-out token is dead: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_keep_one_default_per_kind() {
    let stack = Stack::builder().with::<UsersService>().start().await;
    let session = stack.register("dan@example.com", "correct horse battery").await;
    let token = session["accessToken"].as_str().unwrap();
    let add = "mutation($input: AddressInput!) { addressAdd(input: $input) { user { addresses { kind isDefault city } } userErrors { field code } } }";
    let address = |city: &str, is_default: bool| {
        json!({ "input": { "kind": "SHIPPING", "isDefault": is_default, "name": "Dan", "line1": "1 Main St",
                           "city": city, "postalCode": "12345", "country": "us" } })
    };
    let (_, body) = stack.graphql_as(token, add, address("Springfield", false)).await;
    assert_eq!(
        body["data"]["addressAdd"]["user"]["addresses"],
        json!([{ "kind": "SHIPPING", "isDefault": true, "city": "Springfield" }]),
        "{body}"
    );
    let (_, body) = stack.graphql_as(token, add, address("Shelbyville", true)).await;
    assert_eq!(
        body["data"]["addressAdd"]["user"]["addresses"],
        json!([{ "kind": "SHIPPING", "isDefault": true, "city": "Shelbyville" }, { "kind": "SHIPPING", "isDefault": false, "city": "Springfield" }]),
        "{body}"
    );
    let mut bad = address("Nowhere", false);
    bad["input"]["country"] = json!("USA");
    let (_, body) = stack.graphql_as(token, add, bad).await;
    assert_eq!(
        body["data"]["addressAdd"]["userErrors"],
        json!([{ "field": ["input", "country"], "code": "INVALID" }]),
        "{body}"
    );
    let (_, me) = stack.graphql_as(token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["addresses"].as_array().unwrap().len(), 2, "the refused address was not stored");
}
