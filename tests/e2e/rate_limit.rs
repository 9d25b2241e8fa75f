//! The router answers a caller over its budget with 429, a coded GraphQL error and Retry-After.

use serde_json::json;
use shop_catalog::CatalogService;
use shop_users::UsersService;

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_over_budget_gets_429() {
    let stack = Stack::builder().with::<UsersService>().with::<CatalogService>().rate_limit(1, 3).start().await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let response = stack
            .http
            .post(format!("{}/graphql", stack.router_url))
            .json(&json!({ "query": "{ categories { slug } }" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 && limited.is_none() {
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: serde_json::Value = response.json().await.unwrap();
            limited = Some((retry_after, body));
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "the burst passes: {statuses:?}");
    assert!(statuses[3..].contains(&429), "then the caller is limited: {statuses:?}");
    let (retry_after, body) = limited.unwrap();
    assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");

    // Another caller (a different token subject) has its own bucket: it is not limited (its
    // forged token is then refused by strict JWT, which is a different answer than 429).
    let payload = base64_url(r#"{"sub":"someone-else"}"#);
    let response = stack
        .http
        .post(format!("{}/graphql", stack.router_url))
        .bearer_auth(format!("e30.{payload}.sig"))
        .json(&json!({ "query": "{ categories { slug } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
