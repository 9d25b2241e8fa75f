//! The checkout saga through the router: orders, inventory and payments over RabbitMQ, with
//! live tracking on subscriptions. After every test the stock invariants are checked against
//! the inventory database: nothing oversold, nothing held for an order that is over.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use shop_orders::OrdersService;

use crate::stack::Stack;

pub(crate) const ORDER: &str = "id status paymentStatus cancellationReason subtotal { amount currencyCode } shipping { amount } tax { amount } total { amount currencyCode } lines { sku quantity unitPrice { amount } } events { status at note }";

/// A SKU of the seeded catalog and how many units are available now.
pub(crate) async fn a_sku_in_stock(stack: &Stack) -> (String, i64) {
    let (_, body) = stack
        .graphql(
            "{ products(first: 20, sort: NAME_ASC) { edges { node { variants { sku stock { available } } } } } }",
            json!({}),
        )
        .await;
    body["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["variants"].as_array().unwrap().clone())
        .map(|v| (v["sku"].as_str().unwrap().to_owned(), v["stock"]["available"].as_i64().unwrap()))
        .find(|(_, available)| *available >= 5)
        .unwrap_or_else(|| panic!("no SKU with stock: {body}"))
}

pub(crate) async fn available(stack: &Stack, sku: &str) -> i64 {
    // Read straight from the inventory subgraph: the router adds nothing and this stays
    // correct while a test has the router's view of a product cached nowhere.
    let (_, body) = stack
        .subgraph(
            "inventory",
            None,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on ProductVariant { stock { available } } } }",
            json!({ "r": [{ "__typename": "ProductVariant", "sku": sku }] }),
        )
        .await;
    body["data"]["_entities"][0]["stock"]["available"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

/// Sets a SKU's available units behind the service's back, as another sales channel would.
async fn set_available(stack: &Stack, sku: &str, units: i64) {
    let db = Database::connect(stack.database_url("inventory").await.as_str()).await.unwrap();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE inventory_stock SET on_hand = reserved + $2 WHERE sku = $1",
        [sku.into(), units.into()],
    ))
    .await
    .unwrap();
    db.close().await.ok();
}

pub(crate) fn address() -> Value {
    json!({ "name": "Ada Customer", "line1": "1 Main Street", "city": "Springfield", "postalCode": "12345", "country": "US" })
}

pub(crate) async fn customer_token(stack: &Stack) -> String {
    let email = format!("{}@example.com", shop_testkit::unique_name("buyer"));
    let registered = stack.register(&email, "correct horse battery staple").await;
    registered["accessToken"].as_str().unwrap_or_else(|| panic!("{registered}")).to_owned()
}

pub(crate) async fn checkout(
    stack: &Stack,
    token: &str,
    sku: &str,
    quantity: i64,
    payment_token: &str,
    key: &str,
) -> Value {
    let (status, body) = stack
        .graphql_as(
            token,
            &format!("mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ order {{ {ORDER} }} userErrors {{ field message code }} }} }}"),
            json!({ "input": {
                "lines": [{ "sku": sku, "quantity": quantity }],
                "shippingAddress": address(),
                "paymentToken": payment_token,
                "idempotencyKey": key,
            } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["checkout"].clone()
}

pub(crate) async fn order(stack: &Stack, token: &str, id: &str) -> Value {
    let (_, body) = stack
        .graphql_as(
            token,
            &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER} payment {{ id status amount {{ amount }} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    body["data"]["order"].clone()
}

/// Polls the order through the router until `done` holds for it.
pub(crate) async fn wait_for(stack: &Stack, token: &str, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = order(stack, token, id).await;
        if done(&current) {
            return current;
        }
        assert!(Instant::now() < deadline, "order never became {what}: {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn wait_for_status(stack: &Stack, token: &str, id: &str, status: &str) -> Value {
    wait_for(stack, token, id, status, |o| o["status"] == status).await
}

/// Checks the stock invariants in the inventory database: no SKU oversold, `reserved` equals
/// what active reservations hold, and no reservation is active once every order is over.
pub(crate) async fn assert_stock_invariants(stack: &Stack) {
    let db = Database::connect(stack.database_url("inventory").await.as_str()).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT s.sku, s.on_hand, s.reserved, COALESCE((SELECT SUM(l.quantity) FROM inventory_reservation_lines l \
             JOIN inventory_reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE' AND l.sku = s.sku), 0)::BIGINT AS held \
             FROM inventory_stock s",
        ))
        .await
        .unwrap();
    for row in rows {
        let sku: String = row.try_get("", "sku").unwrap();
        let (on_hand, reserved, held): (i64, i64, i64) = (
            row.try_get("", "on_hand").unwrap(),
            row.try_get("", "reserved").unwrap(),
            row.try_get("", "held").unwrap(),
        );
        assert!(on_hand >= reserved && reserved >= 0, "{sku}: on hand {on_hand}, reserved {reserved}");
        assert_eq!(reserved, held, "{sku}: reserved {reserved} but active reservations hold {held}");
    }
    let active = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM inventory_reservations WHERE status = 'ACTIVE'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.try_get::<i64>("", "n").unwrap(), 0, "a reservation outlived its order");
    db.close().await.ok();
}

/// A reservation's status by order id (None if inventory never saw the order).
pub(crate) async fn reservation_status(stack: &Stack, order_id: &str) -> Option<String> {
    let db = Database::connect(stack.database_url("inventory").await.as_str()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status FROM inventory_reservations WHERE order_id = $1",
            [order_id.into()],
        ))
        .await
        .unwrap();
    db.close().await.ok();
    row.map(|r| r.try_get::<String>("", "status").unwrap())
}

/// A graphql-transport-ws subscription to one order through the router.
struct Tracking {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Tracking {
    async fn open(stack: &Stack, token: &str, order_id: &str) -> Self {
        let url = format!("{}/graphql", stack.router_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        socket.send(Message::text(init.to_string())).await.unwrap();
        let ack = next_json(&mut socket).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { orderUpdated(orderId: $id) { id status paymentStatus events { status } } }",
            "variables": { "id": order_id },
        } });
        socket.send(Message::text(subscribe.to_string())).await.unwrap();
        Self { socket }
    }

    /// The next `next`/`error` message's payload.
    async fn next(&mut self) -> Value {
        loop {
            let message = next_json(&mut self.socket).await;
            match message["type"].as_str() {
                Some("next" | "error" | "complete") => return message,
                Some("ping") => self.socket.send(Message::text(json!({ "type": "pong" }).to_string())).await.unwrap(),
                _ => {}
            }
        }
    }

    /// Reads updates until one has `status`; returns every status seen.
    async fn until(&mut self, status: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let message = self.next().await;
            assert_eq!(message["type"], "next", "{message}");
            let update = &message["payload"]["data"]["orderUpdated"];
            let current = update["status"].as_str().unwrap_or_else(|| panic!("{message}")).to_owned();
            seen.push(current.clone());
            if current == status {
                return seen;
            }
        }
    }
}

async fn next_json(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next()).await.expect("no message within 30 s");
        match frame.expect("socket closed").expect("socket error") {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("socket closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The statuses an SSE subscription through the router reports, up to `until`, or the errors
/// it answered with.
async fn sse_statuses(stack: &Stack, token: &str, order_id: &str, until: &str) -> Result<Vec<String>, Value> {
    sse_statuses_at(stack, &format!("{}/graphql", stack.router_url), token, order_id, until).await
}

async fn sse_statuses_at(
    stack: &Stack,
    url: &str,
    token: &str,
    order_id: &str,
    until: &str,
) -> Result<Vec<String>, Value> {
    let response = stack
        .http
        .post(url)
        .bearer_auth(token)
        .header("Accept", "text/event-stream")
        .json(&json!({ "query": "subscription($id: ID!) { orderUpdated(orderId: $id) { status } }", "variables": { "id": order_id } }))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(30), body.next()).await else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) else { continue };
            let Ok(payload) = serde_json::from_str::<Value>(data.trim()) else { continue };
            if payload.get("errors").is_some() {
                return Err(payload);
            }
            let status = payload["data"]["orderUpdated"]["status"].as_str().unwrap_or_default().to_owned();
            seen.push(status.clone());
            if status == until {
                return Ok(seen);
            }
        }
    }
    panic!("SSE subscription never reached {until}; saw {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_order_is_confirmed_live_on_the_subscription() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, before) = a_sku_in_stock(&stack).await;

    let placed = checkout(&stack, &token, &sku, 2, "tok_visa", &shop_testkit::unique_name("key")).await;
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    // Accepted at once; the saga runs after the call returned.
    assert!(
        ["PENDING", "AWAITING_PAYMENT", "CONFIRMED"].contains(&placed["order"]["status"].as_str().unwrap()),
        "{placed}"
    );
    let total = &placed["order"]["total"];
    assert_eq!(total["currencyCode"], "USD", "{placed}");

    // Live over WebSocket and SSE through the router, to CONFIRMED.
    let mut tracking = Tracking::open(&stack, &token, &order_id).await;
    let (ws, sse) = tokio::join!(tracking.until("CONFIRMED"), sse_statuses(&stack, &token, &order_id, "CONFIRMED"));
    assert_eq!(ws.last().map(String::as_str), Some("CONFIRMED"), "{ws:?}");
    assert_eq!(sse.unwrap().last().map(String::as_str), Some("CONFIRMED"));

    let confirmed = wait_for(&stack, &token, &order_id, "captured", |o| o["paymentStatus"] == "CAPTURED").await;
    let mut timeline: Vec<&str> =
        confirmed["events"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    // The capture is a timeline entry of its own, still CONFIRMED.
    timeline.dedup();
    assert_eq!(timeline, ["PENDING", "AWAITING_PAYMENT", "CONFIRMED"], "{confirmed}");
    // The payment comes from the payments subgraph, joined on Order.
    assert_eq!(confirmed["payment"]["amount"]["amount"], total["amount"], "{confirmed}");
    // Committed: the units left the stock for good.
    assert_eq!(available(&stack, &sku).await, before - 2);
    assert_eq!(reservation_status(&stack, &order_id).await.as_deref(), Some("COMMITTED"));

    // Fulfilment: the admin ships and delivers; the subscriber sees both.
    let admin = stack.admin_token().await;
    let (_, body) = stack
        .graphql_as(&admin, "mutation($id: ID!) { orderShip(id: $id, trackingNumber: \"1Z999\") { order { status } userErrors { code } } }", json!({ "id": order_id }))
        .await;
    assert_eq!(body["data"]["orderShip"]["order"]["status"], "SHIPPED", "{body}");
    tracking.until("SHIPPED").await;
    // A customer may not ship.
    let (_, body) = stack
        .graphql_as(
            &token,
            "mutation($id: ID!) { orderDeliver(id: $id) { order { status } userErrors { code } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert!(body["data"]["orderDeliver"].is_null(), "{body}");
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_gone_before_the_reservation_cancels_the_order_with_nothing_held() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, _) = a_sku_in_stock(&stack).await;
    set_available(&stack, &sku, 3).await;

    // Too much for the shelf: refused at once, nothing written.
    let refused = checkout(&stack, &token, &sku, 4, "tok_visa", &shop_testkit::unique_name("key")).await;
    assert_eq!(refused["userErrors"][0]["code"], "OUT_OF_STOCK", "{refused}");
    assert!(refused["userErrors"][0]["message"].as_str().unwrap().contains(&sku), "names the line: {refused}");
    assert!(refused["order"].is_null(), "{refused}");

    // Inventory is down: the order is still accepted (the saga decides)...
    stack.stop("inventory").await;
    let started = Instant::now();
    let placed = checkout(&stack, &token, &sku, 2, "tok_visa", &shop_testkit::unique_name("key")).await;
    assert!(started.elapsed() < Duration::from_secs(10), "checkout must not hang on a dead inventory");
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    assert_eq!(placed["order"]["status"], "PENDING", "{placed}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    // ...meanwhile the shelf empties (another channel sold everything)...
    set_available(&stack, &sku, 0).await;
    // ...and when inventory comes back the reservation is rejected: cancelled, nothing held.
    stack.start("inventory").await;
    let cancelled = wait_for_status(&stack, &token, &order_id, "CANCELLED").await;
    assert!(cancelled["cancellationReason"].as_str().unwrap_or_default().contains(&sku), "{cancelled}");
    assert_eq!(cancelled["payment"], Value::Null, "no charge was attempted: {cancelled}");
    assert_eq!(reservation_status(&stack, &order_id).await, None);
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_card_cancels_the_order_and_releases_the_stock() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, before) = a_sku_in_stock(&stack).await;

    let placed = checkout(&stack, &token, &sku, 3, "tok_declined", &shop_testkit::unique_name("key")).await;
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_owned();
    let mut tracking = Tracking::open(&stack, &token, &order_id).await;
    tracking.until("CANCELLED").await;
    let cancelled = order(&stack, &token, &order_id).await;
    assert_eq!(cancelled["paymentStatus"], "FAILED", "{cancelled}");
    let released = async {
        loop {
            if reservation_status(&stack, &order_id).await.as_deref() == Some("RELEASED") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), released).await.expect("the reservation was never released");
    assert_eq!(available(&stack, &sku).await, before, "every unit is back");
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_double_submit_makes_one_order_and_one_charge() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, before) = a_sku_in_stock(&stack).await;
    let key = shop_testkit::unique_name("key");

    let (first, second) = tokio::join!(
        checkout(&stack, &token, &sku, 1, "tok_visa", &key),
        checkout(&stack, &token, &sku, 1, "tok_visa", &key)
    );
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(second["userErrors"], json!([]), "{second}");
    let order_id = first["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(second["order"]["id"], first["order"]["id"], "one order for one key");
    let again = checkout(&stack, &token, &sku, 1, "tok_visa", &key).await;
    assert_eq!(again["order"]["id"], first["order"]["id"], "{again}");
    // The same key with another body is an error, not a second order.
    let reused = checkout(&stack, &token, &sku, 2, "tok_visa", &key).await;
    assert_eq!(reused["userErrors"][0]["code"], "IDEMPOTENCY_KEY_REUSED", "{reused}");

    wait_for(&stack, &token, &order_id, "captured", |o| o["paymentStatus"] == "CAPTURED").await;
    assert_eq!(available(&stack, &sku).await, before - 1, "one unit sold");
    let (_, body) = stack.graphql_as(&token, "{ me { orders(first: 10) { edges { node { id } } } } }", json!({})).await;
    assert_eq!(body["data"]["me"]["orders"]["edges"].as_array().map(Vec::len), Some(1), "{body}");
    let charges = payment_operations(&stack, &order_id, "AUTHORIZE").await;
    assert_eq!(charges, 1, "one charge");
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_cannot_follow_another_customers_order() {
    let stack = Stack::everything().await;
    let owner = customer_token(&stack).await;
    let stranger = customer_token(&stack).await;
    let (sku, _) = a_sku_in_stock(&stack).await;
    let placed = checkout(&stack, &owner, &sku, 1, "tok_visa", &shop_testkit::unique_name("key")).await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();

    let mut tracking = Tracking::open(&stack, &stranger, &order_id).await;
    let refused = tracking.next().await;
    let text = refused.to_string();
    assert!(refused["type"] == "error" || text.contains("FORBIDDEN"), "{refused}");
    assert!(!text.contains("\"status\""), "no order data leaks: {refused}");
    let sse = sse_statuses(&stack, &stranger, &order_id, "CONFIRMED").await;
    assert!(sse.is_err_and(|errors| errors.to_string().contains("FORBIDDEN")));
    assert_eq!(order(&stack, &stranger, &order_id).await, Value::Null);

    // The owner still follows it to the end.
    wait_for_status(&stack, &owner, &order_id, "CONFIRMED").await;
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_that_never_answers_cancels_the_order() {
    let stack = Stack::builder()
        .all()
        .configure::<OrdersService>(|orders| {
            orders.payment_timeout_secs = 2;
            orders.sweep_interval_secs = 1;
        })
        .start()
        .await;
    let token = customer_token(&stack).await;
    let (sku, before) = a_sku_in_stock(&stack).await;
    let placed = checkout(&stack, &token, &sku, 1, "tok_timeout", &shop_testkit::unique_name("key")).await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();
    let cancelled = wait_for_status(&stack, &token, &order_id, "CANCELLED").await;
    assert_ne!(cancelled["paymentStatus"], "CAPTURED", "{cancelled}");
    let released = async {
        while reservation_status(&stack, &order_id).await.as_deref() != Some("RELEASED") {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), released).await.expect("stock was never released");
    assert_eq!(available(&stack, &sku).await, before);
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_payments_service_finishes_the_saga() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, before) = a_sku_in_stock(&stack).await;

    stack.stop("payments").await;
    let placed = checkout(&stack, &token, &sku, 1, "tok_visa", &shop_testkit::unique_name("key")).await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();
    // Stock is held and the authorization waits in the broker for payments to come back.
    wait_for_status(&stack, &token, &order_id, "AWAITING_PAYMENT").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(order(&stack, &token, &order_id).await["status"], "AWAITING_PAYMENT");

    stack.start("payments").await;
    wait_for(&stack, &token, &order_id, "captured", |o| o["status"] == "CONFIRMED" && o["paymentStatus"] == "CAPTURED")
        .await;
    assert_eq!(available(&stack, &sku).await, before - 1);
    assert_stock_invariants(&stack).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_orders_replica_tells_its_subscribers_every_change() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (sku, _) = a_sku_in_stock(&stack).await;
    // A second replica: the router keeps sending requests to the first one.
    let replica = stack.spawn_replica("orders").await;
    // Payments is held back so the order is still on its way when the subscriber arrives.
    stack.stop("payments").await;
    let placed = checkout(&stack, &token, &sku, 1, "tok_visa", &shop_testkit::unique_name("key")).await;
    let order_id = placed["order"]["id"].as_str().unwrap_or_else(|| panic!("{placed}")).to_owned();
    wait_for_status(&stack, &token, &order_id, "AWAITING_PAYMENT").await;

    // A subscriber on the second replica sees the changes made anywhere, through the broker.
    let (seen, ()) = tokio::join!(sse_statuses_at(&stack, &replica, &token, &order_id, "CONFIRMED"), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stack.start("payments").await;
    });
    let seen = seen.unwrap();
    assert_eq!(seen.first().map(String::as_str), Some("AWAITING_PAYMENT"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("CONFIRMED"), "{seen:?}");
    assert_stock_invariants(&stack).await;
}

/// How many `operation`s (AUTHORIZE, CAPTURE, …) payments recorded for an order.
async fn payment_operations(stack: &Stack, order_id: &str, operation: &str) -> i64 {
    let db = Database::connect(stack.database_url("payments").await.as_str()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM payment_operations WHERE order_id = $1 AND operation = $2",
            [order_id.into(), operation.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    db.close().await.ok();
    row.try_get("", "n").unwrap()
}

/// A checkout from a cart takes what it bought out of that cart (through the outbox, so a
/// committed order never leaves its cart full), and a line added right after stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_checkout_from_a_cart_takes_its_lines_out_of_the_cart() {
    let stack = Stack::everything().await;
    let token = customer_token(&stack).await;
    let (_, body) = stack
        .graphql(
            "{ products(first: 20, sort: NAME_ASC) { edges { node { id variants { sku stock { available } } } } } }",
            json!({}),
        )
        .await;
    let in_stock: Vec<(Value, Value)> = body["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let variant =
                e["node"]["variants"].as_array()?.iter().find(|v| v["stock"]["available"].as_i64() >= Some(5))?;
            Some((e["node"]["id"].clone(), variant["sku"].clone()))
        })
        .take(2)
        .collect();
    assert_eq!(in_stock.len(), 2, "two products in stock: {body}");
    let line = |(product, sku): &(Value, Value), quantity: i64| json!({ "productId": product, "sku": sku, "quantity": quantity });
    let (_, body) = stack
        .graphql_as(
            &token,
            "mutation($lines: [CartLineInput!]) { cartCreate(input: { lines: $lines }) { cart { id } userErrors { code } } }",
            json!({ "lines": [line(&in_stock[0], 2)] }),
        )
        .await;
    let cart_id = body["data"]["cartCreate"]["cart"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();

    let (_, body) = stack
        .graphql_as(
            &token,
            &format!("mutation($input: CheckoutInput!) {{ checkout(input: $input) {{ order {{ {ORDER} }} userErrors {{ field message code }} }} }}"),
            json!({ "input": {
                "cartId": cart_id,
                "shippingAddress": address(),
                "paymentToken": "tok_visa",
                "idempotencyKey": shop_testkit::unique_name("key"),
            } }),
        )
        .await;
    assert_eq!(body["data"]["checkout"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["checkout"]["order"]["lines"][0]["quantity"], 2, "{body}");
    // The customer keeps shopping with the same cart.
    let (_, body) = stack
        .graphql_as(
            &token,
            "mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { userErrors { code } } }",
            json!({ "id": cart_id, "lines": [line(&in_stock[1], 1)] }),
        )
        .await;
    assert_eq!(body["data"]["cartLinesAdd"]["userErrors"], json!([]), "{body}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        let (_, body) = stack
            .graphql_as(
                &token,
                "query($id: ID!) { cart(id: $id) { lines { sku quantity } } }",
                json!({ "id": cart_id }),
            )
            .await;
        let lines = body["data"]["cart"]["lines"].clone();
        if lines.as_array().is_some_and(|l| l.len() == 1) || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(lines, json!([{ "sku": in_stock[1].1, "quantity": 1 }]), "the ordered line left, the new one stayed");
}
