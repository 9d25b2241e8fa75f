//! Customer notifications through the whole stack: registration and every order event reach
//! the notifications service over RabbitMQ and become exactly one email each (in the test
//! stack's file transport) and one `notifications` entry on the customer, and an order never
//! waits for this service.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use shop_notifications::NotificationsService;

use crate::{
    checkout::{checkout, wait_for, wait_for_status},
    stack::Stack,
};

/// Every subgraph, with deliveries polled and retried quickly.
async fn notifying_stack() -> Stack {
    Stack::builder()
        .all()
        .configure::<NotificationsService>(|notifications| {
            notifications.delivery.poll_interval_ms = 100;
            notifications.delivery.initial_backoff_ms = 200;
        })
        .start()
        .await
}

/// Registers a customer; returns (token, email).
async fn customer(stack: &Stack) -> (String, String) {
    let email = format!("{}@example.com", shop_testkit::unique_name("mailme"));
    let registered = stack.register(&email, "correct horse battery staple").await;
    (registered["accessToken"].as_str().unwrap_or_else(|| panic!("{registered}")).to_owned(), email)
}

/// A SKU in stock and its product's name.
async fn a_sku_in_stock(stack: &Stack) -> (String, String) {
    let (_, body) = stack
        .graphql(
            "{ products(first: 20, sort: NAME_ASC) { edges { node { name variants { sku stock { available } } } } } }",
            json!({}),
        )
        .await;
    body["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|edge| {
            let node = &edge["node"];
            let variant =
                node["variants"].as_array()?.iter().find(|v| v["stock"]["available"].as_i64().unwrap_or(0) >= 5)?;
            Some((variant["sku"].as_str()?.to_owned(), node["name"].as_str()?.to_owned()))
        })
        .unwrap_or_else(|| panic!("no SKU in stock: {body}"))
}

/// Waits until `email` has received mail of every kind in `kinds`, then a little longer so a
/// duplicate would show; returns the mails by kind.
async fn wait_for_mail(stack: &Stack, email: &str, kinds: &[&str]) -> BTreeMap<String, Vec<Mail>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let by_kind = by_kind(mails_to(stack, email).await);
        if kinds.iter().all(|kind| by_kind.contains_key(*kind)) {
            break;
        }
        if Instant::now() >= deadline {
            panic!(
                "mail of kinds {kinds:?} never all arrived for {email}; got {:?}; {}",
                by_kind.keys(),
                notifications_state(stack).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The delivery worker polls every few hundred milliseconds: a second copy would be here by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    by_kind(mails_to(stack, email).await)
}

fn by_kind(mails: Vec<Mail>) -> BTreeMap<String, Vec<Mail>> {
    let mut by_kind: BTreeMap<String, Vec<Mail>> = BTreeMap::new();
    for mail in mails {
        by_kind.entry(mail.kind.clone()).or_default().push(mail);
    }
    by_kind
}

async fn my_notifications(stack: &Stack, token: &str) -> Vec<Value> {
    let (_, body) = stack
        .graphql_as(
            token,
            "{ me { notifications(first: 50) { edges { node { kind status channel subject recipient sentAt } } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["me"]["notifications"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_order_event_sends_exactly_one_email_and_lists_it_for_the_customer() {
    let stack = notifying_stack().await;
    let (token, email) = customer(&stack).await;
    let (sku, product_name) = a_sku_in_stock(&stack).await;
    let placed = checkout(&stack, &token, &sku, 2, "tok_visa", "mail-every-event").await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();
    let confirmed = wait_for(&stack, &token, &order_id, "captured", |o| o["paymentStatus"] == "CAPTURED").await;
    let total = confirmed["total"]["amount"].as_str().unwrap().to_owned();

    let admin = stack.admin_token().await;
    let (_, shipped) = stack
        .graphql_as(
            &admin,
            "mutation($id: ID!) { orderShip(id: $id, trackingNumber: \"TRACK-42\") { userErrors { code } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(shipped["data"]["orderShip"]["userErrors"], json!([]), "{shipped}");
    let (_, delivered) = stack
        .graphql_as(
            &admin,
            "mutation($id: ID!) { orderDeliver(id: $id) { userErrors { code } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(delivered["data"]["orderDeliver"]["userErrors"], json!([]), "{delivered}");
    let (_, refunded) = stack
        .graphql_as(
            &admin,
            "mutation($input: RefundCreateInput!) { refundCreate(input: $input) { userErrors { code message } } }",
            json!({ "input": { "orderId": order_id, "amount": "1.00", "reason": "scratched box", "idempotencyKey": "mail-refund" } }),
        )
        .await;
    assert_eq!(refunded["data"]["refundCreate"]["userErrors"], json!([]), "{refunded}");

    let kinds = ["WELCOME", "ORDER_CONFIRMED", "ORDER_SHIPPED", "ORDER_DELIVERED", "PAYMENT_REFUNDED"];
    let mails = wait_for_mail(&stack, &email, &kinds).await;
    for kind in kinds {
        assert_eq!(mails[kind].len(), 1, "{kind}: {:?}", mails[kind]);
    }
    assert_eq!(mails.len(), kinds.len(), "no other mail: {:?}", mails.keys());

    // The confirmation lists what was bought and what it cost, in text and HTML.
    let confirmation = &mails["ORDER_CONFIRMED"][0];
    assert!(confirmation.to.eq_ignore_ascii_case(&email), "{confirmation:?}");
    assert!(confirmation.text.contains(&product_name), "{}", confirmation.text);
    assert!(confirmation.text.contains(&total), "total {total} missing: {}", confirmation.text);
    assert!(confirmation.html.contains(&total), "total {total} missing from the HTML part");
    assert!(confirmation.text.contains(&order_id), "{}", confirmation.text);
    assert!(mails["ORDER_SHIPPED"][0].text.contains("TRACK-42"));
    assert!(mails["PAYMENT_REFUNDED"][0].text.contains("1.00"));

    // The same five, as the customer's notifications, all sent by email; plus the review
    // request that delivery scheduled for days later (marketing, still queued).
    let listed = my_notifications(&stack, &token).await;
    let (scheduled, listed): (Vec<Value>, Vec<Value>) = listed.into_iter().partition(|n| n["kind"] == "REVIEW_REQUEST");
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0]["status"], "QUEUED");
    assert!(scheduled[0]["sentAt"].is_null());
    let mut listed_kinds: Vec<&str> = listed.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    listed_kinds.sort_unstable();
    let mut expected = kinds.to_vec();
    expected.sort_unstable();
    assert_eq!(listed_kinds, expected, "{listed:?}");
    for notification in &listed {
        assert_eq!(notification["status"], "SENT", "{notification}");
        assert_eq!(notification["channel"], "EMAIL");
        assert_eq!(notification["recipient"], email.as_str());
        assert!(notification["sentAt"].is_string());
    }
    let subject_of = |kind: &str| listed.iter().find(|n| n["kind"] == kind).unwrap()["subject"].clone();
    assert_eq!(subject_of("ORDER_CONFIRMED"), confirmation.subject.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_order_sends_a_cancellation() {
    let stack = notifying_stack().await;
    let (token, email) = customer(&stack).await;
    let (sku, _) = a_sku_in_stock(&stack).await;
    let placed = checkout(&stack, &token, &sku, 1, "tok_declined", "mail-declined").await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&stack, &token, &order_id, "CANCELLED").await;

    let mails = wait_for_mail(&stack, &email, &["WELCOME", "ORDER_CANCELLED"]).await;
    assert_eq!(mails["ORDER_CANCELLED"].len(), 1);
    assert!(!mails.contains_key("ORDER_CONFIRMED"));
    assert!(mails["ORDER_CANCELLED"][0].text.contains(&order_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_confirm_while_notifications_is_down_and_the_mail_follows() {
    let stack = notifying_stack().await;
    let (token, email) = customer(&stack).await;
    wait_for_mail(&stack, &email, &["WELCOME"]).await;
    stack.stop("notifications").await;

    let (sku, _) = a_sku_in_stock(&stack).await;
    let placed = checkout(&stack, &token, &sku, 1, "tok_visa", "mail-later").await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&stack, &token, &order_id, "CONFIRMED").await;
    assert!(!by_kind(mails_to(&stack, &email).await).contains_key("ORDER_CONFIRMED"), "nothing could have sent it");

    stack.start("notifications").await;
    let mails = wait_for_mail(&stack, &email, &["WELCOME", "ORDER_CONFIRMED"]).await;
    assert_eq!(mails["ORDER_CONFIRMED"].len(), 1);
    assert_eq!(mails["WELCOME"].len(), 1, "the welcome mail is not sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_reads_another_customers_notifications() {
    let stack = notifying_stack().await;
    let (owner, _) = customer(&stack).await;
    let (stranger, _) = customer(&stack).await;
    let (_, me) = stack.graphql_as(&owner, "{ me { id } }", json!({})).await;
    let owner_id = me["data"]["me"]["id"].as_str().unwrap().to_owned();

    // Straight at the subgraph, as a crafted entity request would be.
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { notifications(first: 5) { edges { node { subject } } } } } }";
    let representations = json!({ "r": [{ "__typename": "User", "id": owner_id }] });
    let (_, body) = stack.subgraph("notifications", Some(&stranger), query, representations.clone()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert!(
        body["data"]["_entities"][0].is_null() || body["data"]["_entities"][0]["notifications"].is_null(),
        "{body}"
    );
    let (_, body) = stack.subgraph("notifications", Some(&owner), query, representations).await;
    assert!(body["errors"].is_null(), "{body}");
}

/// One email the notifications service sent, as read back from its `.eml` file.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The notification's kind (`ORDER_CONFIRMED`, …), from the notifications database.
    pub kind: String,
    /// The `To` address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
}

/// Where the stack's notifications service writes its emails (file transport, one `<id>.eml`
/// each).
async fn mail_dir(stack: &Stack) -> std::path::PathBuf {
    std::path::PathBuf::from(stack.settings::<NotificationsService>().await.email.file_dir)
}

/// Every email sent to `address` so far (parsed from the file transport's `.eml` files, each
/// named by its notification id, whose kind comes from the notifications database).
async fn mails_to(stack: &Stack, address: &str) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(mail_dir(stack).await) else { return Vec::new() };
    let mut parsed = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = message.to().and_then(|to| to.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
        if !to.eq_ignore_ascii_case(address) {
            continue;
        }
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mail = Mail {
            kind: String::new(),
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
        };
        parsed.push((id, mail));
    }
    if parsed.is_empty() {
        return Vec::new();
    }
    // One query for the kinds of every mail found.
    let db = Database::connect(stack.database_url("notifications").await.as_str()).await.unwrap();
    let ids: Vec<sea_orm::Value> = parsed.iter().map(|(id, _)| id.clone().into()).collect();
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT id, kind FROM notifications WHERE id IN ({})", placeholders.join(", ")),
            ids,
        ))
        .await
        .unwrap();
    db.close().await.ok();
    let kinds: std::collections::HashMap<String, String> =
        rows.iter().map(|row| (row.try_get("", "id").unwrap(), row.try_get("", "kind").unwrap())).collect();
    parsed
        .into_iter()
        .map(|(id, mail)| Mail {
            kind: kinds
                .get(&id)
                .cloned()
                .unwrap_or_else(|| panic!("an email for notification {id}, which does not exist")),
            ..mail
        })
        .collect()
}

/// What the notifications database and mail folder hold, for failure messages.
async fn notifications_state(stack: &Stack) -> String {
    let db = Database::connect(stack.database_url("notifications").await.as_str()).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT kind || ' ' || status || ' ' || COALESCE(recipient, '-') || ' ' || COALESCE(last_error, '-') AS line FROM notifications",
        ))
        .await
        .unwrap();
    db.close().await.ok();
    let lines: Vec<String> = rows.iter().map(|row| row.try_get::<String>("", "line").unwrap()).collect();
    let dir = mail_dir(stack).await;
    let files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    format!("notifications: {lines:?}; files in {}: {files:?}", dir.display())
}
