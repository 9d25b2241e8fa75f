//! The saga: every reply of inventory and payments moves the order through the transition
//! table, with the commands that follow in the outbox; duplicates have no second effect and
//! late replies are compensated.

use chrono::{Duration, Utc};
use serde_json::json;
use shop_messaging::{
    Envelope, Event, Handler, HandlerError,
    contracts::{
        InventoryCommitFailed, InventoryCommitted, InventoryExpired, InventoryRejected, InventoryReserved,
        PaymentAuthorized, PaymentCaptureFailed, PaymentCaptured, PaymentFailed, PaymentRefunded, PaymentVoided,
        Shortage,
    },
};
use shop_orders::{
    domain::{OrderStatus, PaymentStatus},
    events::saga::SagaHandler,
    service::lifecycle::Outcome,
};
use shop_testkit::{Backend, admin, customer};
use uuid::Uuid;

use crate::{ORDER, TestApp};

/// Delivers a reply about `order_id` to the saga, as the bus would.
async fn deliver<E: Event>(app: &TestApp, order_id: &str, event: &E) -> (Envelope, Outcome) {
    let envelope = Envelope::new(event, order_id).unwrap();
    let outcome = app.service.orders.saga.handle(&envelope).await.unwrap();
    (envelope, outcome)
}

fn reserved(order_id: &str) -> InventoryReserved {
    InventoryReserved { order_id: order_id.into(), expires_at: Utc::now() + Duration::minutes(15) }
}

fn authorized(order_id: &str) -> PaymentAuthorized {
    PaymentAuthorized {
        order_id: order_id.into(),
        payment_id: "pay-1".into(),
        amount_minor: 5_497,
        currency: "USD".into(),
    }
}

fn committed(order_id: &str) -> InventoryCommitted {
    InventoryCommitted { order_id: order_id.into() }
}

fn statuses(order: &shop_orders::domain::Order) -> Vec<OrderStatus> {
    order.events.iter().map(|e| e.status).collect()
}

async fn new_kinds(app: &TestApp, order_id: &str, before: usize) -> Vec<String> {
    app.outbox_kinds(order_id).await.split_off(before)
}

async fn reserved_authorized_captured_shipped_delivered(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());
    let placed = app.place(&owner).await;
    let id = placed["id"].as_str().unwrap();

    let (envelope, outcome) = deliver(&app, id, &reserved(id)).await;
    assert!(outcome.changed);
    assert_eq!(outcome.order.status, OrderStatus::AwaitingPayment);
    assert_eq!(outcome.order.payment_token, None, "the token is forgotten once handed to payments");
    let messages = app.outbox(id).await;
    let authorize = &messages[2];
    assert_eq!(authorize.kind, "payment.authorize.v1");
    assert_eq!(authorize.causation_id, Some(envelope.id));
    assert_eq!(authorize.payload["amountMinor"], 5_497);
    assert_eq!(authorize.payload["currency"], "USD");
    assert_eq!(authorize.payload["paymentToken"], "tok_visa");
    assert_eq!(authorize.payload["userId"], placed["user"]["id"]);
    assert_eq!(messages[3].kind, "order.updated.v1");
    assert_eq!(messages[3].payload["status"], "AWAITING_PAYMENT");

    // The same message again (a redelivery): no second effect.
    let again = app.service.orders.saga.handle(&envelope).await.unwrap();
    assert!(!again.changed);
    assert_eq!(app.outbox(id).await.len(), 4);
    // The same fact in another message (inventory answered twice): no effect either.
    let (_, twice) = deliver(&app, id, &reserved(id)).await;
    assert!(!twice.changed);
    assert_eq!(app.outbox(id).await.len(), 4);

    // Authorized: the stock is committed first; nothing is confirmed or captured yet.
    let (_, authorizing) = deliver(&app, id, &authorized(id)).await;
    assert_eq!(authorizing.order.status, OrderStatus::AwaitingPayment);
    assert_eq!(authorizing.order.payment_status, PaymentStatus::Authorized);
    assert_eq!(authorizing.order.payment_id.as_deref(), Some("pay-1"));
    assert_eq!(new_kinds(&app, id, 4).await, ["inventory.commit.v1", "order.updated.v1"]);
    let (_, duplicate) = deliver(&app, id, &authorized(id)).await;
    assert!(!duplicate.changed, "a second authorization changes nothing");
    assert_eq!(app.outbox(id).await.len(), 6);

    // Committed: confirmed, and only now captured.
    let (_, confirmed) = deliver(&app, id, &committed(id)).await;
    assert_eq!(confirmed.order.status, OrderStatus::Confirmed);
    assert_eq!(new_kinds(&app, id, 6).await, ["payment.capture.v1", "order.confirmed.v1", "order.updated.v1"]);
    let (_, again) = deliver(&app, id, &committed(id)).await;
    assert!(!again.changed, "a second commit of a confirmed order changes nothing");
    assert_eq!(app.outbox(id).await.len(), 9);

    let captured = PaymentCaptured {
        order_id: id.into(),
        payment_id: "pay-1".into(),
        amount_minor: 5_497,
        currency: "USD".into(),
    };
    let (_, outcome) = deliver(&app, id, &captured).await;
    assert_eq!(outcome.order.payment_status, PaymentStatus::Captured);
    assert_eq!(outcome.order.status, OrderStatus::Confirmed);

    let ship = format!(
        "mutation($id: ID!) {{ orderShip(id: $id, trackingNumber: \"1Z999\") {{ order {{ {ORDER} }} userErrors {{ code }} }} }}"
    );
    let shipped = app.mutate(&admin(), &ship, json!({ "id": id })).await;
    assert_eq!(shipped["order"]["status"], "SHIPPED");
    assert_eq!(shipped["order"]["trackingNumber"], "1Z999");
    let deliver_op =
        format!("mutation($id: ID!) {{ orderDeliver(id: $id) {{ order {{ {ORDER} }} userErrors {{ code }} }} }}");
    let delivered = app.mutate(&admin(), &deliver_op, json!({ "id": id })).await;
    assert_eq!(delivered["order"]["status"], "DELIVERED");
    let again = app.mutate(&admin(), &deliver_op, json!({ "id": id })).await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_TRANSITION");
    assert!(app.outbox_kinds(id).await.contains(&"order.shipped.v1".to_owned()));
    assert!(app.outbox_kinds(id).await.contains(&"order.delivered.v1".to_owned()));

    let order = app.service.store.get(Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
    assert_eq!(
        statuses(&order),
        [
            OrderStatus::Pending,
            OrderStatus::AwaitingPayment,
            OrderStatus::AwaitingPayment,
            OrderStatus::Confirmed,
            OrderStatus::Confirmed,
            OrderStatus::Shipped,
            OrderStatus::Delivered
        ],
        "one timeline entry per change"
    );
}

async fn rejected_stock_cancels_with_nothing_to_release(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    let rejected = InventoryRejected {
        order_id: id.clone(),
        shortages: vec![Shortage { sku: "TEE-M".into(), requested: 2, available: 0 }],
    };
    let (_, outcome) = deliver(&app, &id, &rejected).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    let reason = outcome.order.cancellation_reason.unwrap();
    assert!(reason.contains("TEE-M"), "{reason}");
    assert_eq!(outcome.order.payment_token, None);
    assert_eq!(new_kinds(&app, &id, 2).await, ["order.cancelled.v1", "order.updated.v1"]);
}

async fn failed_payment_cancels_and_releases(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    let failed = PaymentFailed { order_id: id.clone(), code: "DECLINED".into(), reason: "card declined".into() };
    let (_, outcome) = deliver(&app, &id, &failed).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    assert_eq!(outcome.order.payment_status, PaymentStatus::Failed);
    assert!(outcome.order.cancellation_reason.unwrap().contains("DECLINED"));
    assert_eq!(new_kinds(&app, &id, 4).await, ["inventory.release.v1", "order.cancelled.v1", "order.updated.v1"]);
}

async fn late_replies_after_cancel_are_compensated(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());
    let cancel = "mutation($id: ID!) { orderCancel(id: $id, reason: \"changed my mind\") { order { status cancellationReason paymentStatus } userErrors { code } } }";

    // Cancelled while awaiting payment; the authorization arrives afterwards.
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    let cancelled = app.mutate(&owner, cancel, json!({ "id": id })).await;
    assert_eq!(cancelled["order"]["status"], "CANCELLED");
    assert_eq!(cancelled["order"]["cancellationReason"], "changed my mind");
    assert_eq!(
        new_kinds(&app, &id, 4).await,
        ["inventory.release.v1", "payment.void.v1", "order.cancelled.v1", "order.updated.v1"]
    );
    let (envelope, late) = deliver(&app, &id, &authorized(&id)).await;
    assert_eq!(late.order.status, OrderStatus::Cancelled, "a cancelled order stays cancelled");
    assert_eq!(late.order.payment_status, PaymentStatus::Authorized);
    let kinds = new_kinds(&app, &id, 8).await;
    assert_eq!(kinds, ["payment.void.v1", "order.updated.v1"], "the late authorization is voided");
    assert_eq!(app.outbox(&id).await[8].causation_id, Some(envelope.id));
    let voided = PaymentVoided { order_id: id.clone(), payment_id: Some("pay-1".into()) };
    let (_, outcome) = deliver(&app, &id, &voided).await;
    assert_eq!(outcome.order.payment_status, PaymentStatus::Voided);

    // Cancelled while pending; the reservation arrives afterwards.
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    app.mutate(&owner, cancel, json!({ "id": id })).await;
    let before = app.outbox(&id).await.len();
    let (_, late) = deliver(&app, &id, &reserved(&id)).await;
    assert!(!late.changed);
    assert_eq!(late.order.status, OrderStatus::Cancelled);
    assert_eq!(new_kinds(&app, &id, before).await, ["inventory.release.v1"], "the late reservation is released");
}

async fn expired_reservation_cancels_and_voids(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    let (_, outcome) = deliver(&app, &id, &InventoryExpired { order_id: id.clone() }).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    assert_eq!(new_kinds(&app, &id, 4).await, ["payment.void.v1", "order.cancelled.v1", "order.updated.v1"]);
}

async fn cancellation_rules_and_refunds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    deliver(&app, &id, &authorized(&id)).await;
    deliver(&app, &id, &committed(&id)).await;
    let cancel =
        "mutation($id: ID!) { orderCancel(id: $id) { order { status cancellationReason } userErrors { field code } } }";

    let stranger = app.run(&customer(Uuid::new_v4()), cancel, json!({ "id": id })).await;
    assert_eq!(stranger["errors"][0]["extensions"]["code"], "FORBIDDEN", "{stranger}");
    let missing = app.mutate(&owner, cancel, json!({ "id": Uuid::new_v4().to_string() })).await;
    assert_eq!(missing["userErrors"], json!([{ "field": ["id"], "code": "ORDER_NOT_FOUND" }]));

    // A confirmed order, not shipped: the committed units go back on hand and the money back.
    let cancelled = app.mutate(&owner, cancel, json!({ "id": id })).await;
    assert_eq!(cancelled["order"]["status"], "CANCELLED");
    assert_eq!(cancelled["order"]["cancellationReason"], "cancelled by the customer");
    assert_eq!(
        new_kinds(&app, &id, 9).await,
        ["inventory.release.v1", "payment.void.v1", "order.cancelled.v1", "order.updated.v1"]
    );
    let again = app.mutate(&owner, cancel, json!({ "id": id })).await;
    assert_eq!(again["userErrors"], json!([{ "field": ["id"], "code": "INVALID_TRANSITION" }]));

    // Payments refunds the capture in two parts.
    let captured = PaymentCaptured {
        order_id: id.clone(),
        payment_id: "pay-1".into(),
        amount_minor: 5_497,
        currency: "USD".into(),
    };
    deliver(&app, &id, &captured).await;
    let refund = |amount_minor, refunded_total_minor| PaymentRefunded {
        order_id: id.clone(),
        payment_id: "pay-1".into(),
        refund_id: Uuid::new_v4().to_string(),
        amount_minor,
        refunded_total_minor,
        currency: "USD".into(),
        user_id: None,
    };
    let (_, partial) = deliver(&app, &id, &refund(1_000, 1_000)).await;
    assert_eq!(partial.order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(partial.order.events.last().unwrap().note.as_deref(), Some("Refunded 10.00 USD (10.00 USD in all)"));
    let (_, full) = deliver(&app, &id, &refund(4_497, 5_497)).await;
    assert_eq!(full.order.payment_status, PaymentStatus::Refunded);
    assert_eq!(full.order.refunded_minor, 5_497);
    let (_, stale) = deliver(&app, &id, &refund(1_000, 1_000)).await;
    assert!(!stale.changed, "an older refund total changes nothing");

    // Shipped orders cannot be cancelled, even by an admin.
    let other = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &other, &reserved(&other)).await;
    deliver(&app, &other, &authorized(&other)).await;
    deliver(&app, &other, &committed(&other)).await;
    let ship = "mutation($id: ID!) { orderShip(id: $id, trackingNumber: \"T1\") { userErrors { code } } }";
    // Confirmed but not captured yet (or the capture failed): it does not ship.
    let uncaptured = app.mutate(&admin(), ship, json!({ "id": other })).await;
    assert_eq!(uncaptured["userErrors"], json!([{ "code": "PAYMENT_NOT_CAPTURED" }]), "{uncaptured}");
    let captured = PaymentCaptured {
        order_id: other.clone(),
        payment_id: "pay-1".into(),
        amount_minor: 5_497,
        currency: "USD".into(),
    };
    deliver(&app, &other, &captured).await;
    let shipped = app.mutate(&admin(), ship, json!({ "id": other })).await;
    assert_eq!(shipped["userErrors"], json!([]), "{shipped}");
    let late = app.mutate(&admin(), cancel, json!({ "id": other })).await;
    assert_eq!(late["userErrors"][0]["code"], "INVALID_TRANSITION");
}

/// A hold that lapses while the payment is still being authorized: the payment deadline never
/// outlives the hold, a commit that finds the units gone cancels and voids, and a commit that
/// took the units again for an order cancelled meanwhile gives them back.
async fn a_lapsed_hold_never_confirms_a_paid_order_without_stock(backend: Backend) {
    let app = TestApp::new(backend).await;
    let owner = customer(Uuid::new_v4());

    // The hold ends before the payment timeout would: the deadline is the hold's end.
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    let soon = Utc::now() + Duration::seconds(5);
    let (_, outcome) = deliver(&app, &id, &InventoryReserved { order_id: id.clone(), expires_at: soon }).await;
    assert_eq!(outcome.order.deadline_at, Some(soon));

    // Authorized after the hold lapsed; inventory found the units gone at commit.
    deliver(&app, &id, &authorized(&id)).await;
    let short = vec![Shortage { sku: "SKU-1".into(), requested: 1, available: 0 }];
    let (_, outcome) = deliver(&app, &id, &InventoryCommitFailed { order_id: id.clone(), shortages: short }).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    assert!(outcome.order.cancellation_reason.as_deref().unwrap().contains("SKU-1"), "{outcome:?}");
    assert_eq!(new_kinds(&app, &id, 6).await, ["payment.void.v1", "order.cancelled.v1", "order.updated.v1"]);
    assert!(!app.outbox_kinds(&id).await.contains(&"payment.capture.v1".to_owned()), "never captured");

    // The expiry reached the order first (cancel and void); then the commit took the units
    // again: they go back.
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    deliver(&app, &id, &authorized(&id)).await;
    let (_, outcome) = deliver(&app, &id, &InventoryExpired { order_id: id.clone() }).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    let before = app.outbox(&id).await.len();
    let (_, late) = deliver(&app, &id, &committed(&id)).await;
    assert_eq!(late.order.status, OrderStatus::Cancelled);
    assert_eq!(new_kinds(&app, &id, before).await, ["inventory.release.v1"], "the late commit is given back");
}

/// A capture the provider refuses cancels the confirmed order before it can ship unpaid: its
/// units are restocked and the authorization voided.
async fn a_refused_capture_cancels_with_restock_and_void(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    deliver(&app, &id, &authorized(&id)).await;
    deliver(&app, &id, &committed(&id)).await;
    let refused = PaymentCaptureFailed { order_id: id.clone(), payment_id: "pay-1".into(), code: "DECLINED".into() };
    let (_, outcome) = deliver(&app, &id, &refused).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    assert_eq!(outcome.order.cancellation_reason.as_deref(), Some("the payment could not be captured (DECLINED)"));
    assert_eq!(
        new_kinds(&app, &id, 9).await,
        ["inventory.release.v1", "payment.void.v1", "order.cancelled.v1", "order.updated.v1"]
    );
}

/// An authorization of another amount than the total never confirms: release and void.
async fn a_wrong_authorized_amount_cancels(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    deliver(&app, &id, &reserved(&id)).await;
    let wrong = PaymentAuthorized { amount_minor: 1, ..authorized(&id) };
    let (_, outcome) = deliver(&app, &id, &wrong).await;
    assert_eq!(outcome.order.status, OrderStatus::Cancelled);
    assert_eq!(outcome.order.payment_status, PaymentStatus::Authorized);
    assert_eq!(
        new_kinds(&app, &id, 4).await,
        ["inventory.release.v1", "payment.void.v1", "order.cancelled.v1", "order.updated.v1"]
    );
}

shop_testkit::on_sql_backends!(
    a_refused_capture_cancels_with_restock_and_void,
    a_lapsed_hold_never_confirms_a_paid_order_without_stock,
    a_wrong_authorized_amount_cancels,
    reserved_authorized_captured_shipped_delivered,
    rejected_stock_cancels_with_nothing_to_release,
    failed_payment_cancels_and_releases,
    late_replies_after_cancel_are_compensated,
    expired_reservation_cancels_and_voids,
    cancellation_rules_and_refunds,
);

#[tokio::test]
async fn unknown_orders_and_malformed_messages_are_dead_lettered() {
    let app = TestApp::new(Backend::Sqlite).await;
    let handler = SagaHandler(app.service.orders.saga.clone());
    let unknown = Uuid::new_v4().to_string();
    let envelope = Envelope::new(&reserved(&unknown), unknown.clone()).unwrap();
    assert!(matches!(handler.handle(&envelope).await, Err(HandlerError::Permanent(_))));
    let mut malformed = envelope.clone();
    malformed.payload = json!({ "orderId": 42 });
    assert!(matches!(handler.handle(&malformed).await, Err(HandlerError::Permanent(_))));
    let not_a_uuid = Envelope::new(&reserved("order-1"), "order-1").unwrap();
    assert!(matches!(handler.handle(&not_a_uuid).await, Err(HandlerError::Permanent(_))));
}

#[tokio::test]
async fn admin_mutations_need_the_admin_role() {
    let app = TestApp::new(Backend::Sqlite).await;
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].as_str().unwrap().to_owned();
    let ship = "mutation($id: ID!) { orderShip(id: $id, trackingNumber: \"T1\") { userErrors { code } } }";
    let body = app.run(&owner, ship, json!({ "id": id })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let pending = app.mutate(&admin(), ship, json!({ "id": id })).await;
    assert_eq!(pending["userErrors"], json!([{ "code": "INVALID_TRANSITION" }]), "only confirmed orders ship");
    let blank = app
        .mutate(
            &admin(),
            "mutation($id: ID!) { orderShip(id: $id, trackingNumber: \" \") { userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(blank["userErrors"], json!([{ "code": "INVALID" }]));
}
