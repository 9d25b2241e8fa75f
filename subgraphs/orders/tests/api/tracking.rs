//! Live tracking: `orderUpdated` yields the order, then every change, fed through the bus so
//! a subscriber on any replica sees changes made by any other; only the owner or an admin
//! may subscribe.

use std::time::Duration;

use chrono::Utc;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use shop_kernel::{Subgraph, auth::Viewer};
use shop_messaging::{
    Envelope,
    contracts::{InventoryCommitted, InventoryReserved, PaymentAuthorized},
};
use shop_messaging::{
    contracts,
    rabbit::{RabbitBus, RabbitConfig},
};
use shop_orders::{OrdersSchema, OrdersService, store::OrdersStore};
use shop_testkit::{Backend, admin, customer, proxy::TcpProxy};
use uuid::Uuid;

use crate::TestApp;

const SUBSCRIPTION: &str =
    "subscription($id: ID!) { orderUpdated(orderId: $id) { id status paymentStatus events { status note } } }";

fn subscribe(schema: &OrdersSchema, viewer: &Viewer, id: &Value) -> impl Stream<Item = Value> + use<> {
    let request = shop_testkit::graphql_request(viewer, SUBSCRIPTION, json!({ "id": id }));
    schema.execute_stream(request).map(|response| serde_json::to_value(response).unwrap())
}

async fn next(stream: &mut (impl Stream<Item = Value> + Unpin)) -> Value {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an update in time")
        .expect("an open stream")
}

async fn deliver_reserved(app: &TestApp, id: &str) {
    let event = InventoryReserved { order_id: id.into(), expires_at: Utc::now() + chrono::Duration::minutes(15) };
    app.service.orders.saga.handle(&Envelope::new(&event, id).unwrap()).await.unwrap();
}

async fn subscribers_see_every_change(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.service.start(&app.shutdown).await.unwrap();
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].clone();
    let id_str = id.as_str().unwrap().to_owned();

    let mut updates = Box::pin(subscribe(&app.service.schema, &owner, &id));
    let first = next(&mut updates).await;
    assert_eq!(first["data"]["orderUpdated"]["status"], "PENDING", "{first}");

    deliver_reserved(&app, &id_str).await;
    let second = next(&mut updates).await;
    assert_eq!(second["data"]["orderUpdated"]["status"], "AWAITING_PAYMENT", "{second}");

    // Through the bus, the saga consumer handles the payment's answer itself.
    let authorized = PaymentAuthorized {
        order_id: id_str.clone(),
        payment_id: "pay-1".into(),
        amount_minor: 5_497,
        currency: "USD".into(),
    };
    use shop_messaging::Bus;
    app.bus.publish(&[Envelope::new(&authorized, id_str.clone()).unwrap()]).await.unwrap();
    let third = next(&mut updates).await;
    assert_eq!(third["data"]["orderUpdated"]["status"], "AWAITING_PAYMENT", "{third}");
    assert_eq!(third["data"]["orderUpdated"]["paymentStatus"], "AUTHORIZED");
    assert_eq!(third["data"]["orderUpdated"]["events"].as_array().unwrap().len(), 3);
    // Inventory's commit confirms it.
    let committed = InventoryCommitted { order_id: id_str.clone() };
    app.bus.publish(&[Envelope::new(&committed, id_str.clone()).unwrap()]).await.unwrap();
    let fourth = next(&mut updates).await;
    assert_eq!(fourth["data"]["orderUpdated"]["status"], "CONFIRMED", "{fourth}");
    assert_eq!(fourth["data"]["orderUpdated"]["events"].as_array().unwrap().len(), 4);

    // Admins may follow any order.
    let mut watched = Box::pin(subscribe(&app.service.schema, &admin(), &id));
    assert_eq!(next(&mut watched).await["data"]["orderUpdated"]["status"], "CONFIRMED");
}

async fn a_change_on_one_replica_reaches_subscribers_of_another(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.service.start(&app.shutdown).await.unwrap();
    let other = app.replica().await;
    other.start(&app.shutdown).await.unwrap();
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].clone();

    let mut on_other = Box::pin(subscribe(&other.schema, &owner, &id));
    assert_eq!(next(&mut on_other).await["data"]["orderUpdated"]["status"], "PENDING");
    deliver_reserved(&app, id.as_str().unwrap()).await;
    let update = next(&mut on_other).await;
    assert_eq!(update["data"]["orderUpdated"]["status"], "AWAITING_PAYMENT", "{update}");
}

shop_testkit::on_sql_backends!(subscribers_see_every_change, a_change_on_one_replica_reaches_subscribers_of_another);

/// A replica over RabbitMQ, `url` naming the broker (or a proxy in front of it).
async fn replica_on_rabbit(app: &TestApp, url: &str, name: &str) -> OrdersService {
    let config =
        RabbitConfig { url: url.to_owned(), exchange: format!("{name}.events"), queue_prefix: format!("{name}.") };
    let bus = RabbitBus::connect(config, contracts::topology()).await.expect("connect to RabbitMQ");
    let store = OrdersStore::connect(&app.database_url, 4).await.unwrap();
    OrdersService::from_parts(store, bus, &app.config)
}

/// A replica cut off from the broker misses every `order.updated` published meanwhile (its
/// tracking queue dies with its connection): once it consumes again, its subscribers re-read
/// their orders instead of waiting for a next change that may never come.
#[tokio::test]
async fn a_subscriber_catches_up_after_its_replica_lost_the_broker() {
    let amqp = std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let app = TestApp::new(Backend::Postgres).await;
    let name = shop_testkit::unique_name("t");
    let proxy = TcpProxy::in_front_of(&amqp).await;
    let writer = replica_on_rabbit(&app, &amqp, &name).await;
    writer.start(&app.shutdown).await.unwrap();
    let watcher = replica_on_rabbit(&app, &proxy.url(&amqp), &name).await;
    watcher.start(&app.shutdown).await.unwrap();
    let owner = customer(Uuid::new_v4());
    let id = app.place(&owner).await["id"].clone();
    let mut updates = Box::pin(subscribe(&watcher.schema, &owner, &id));
    assert_eq!(next(&mut updates).await["data"]["orderUpdated"]["status"], "PENDING");

    proxy.cut();
    // Let the broker notice the connection is gone (and drop the watcher's queue with it).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let event = InventoryReserved {
        order_id: id.as_str().unwrap().into(),
        expires_at: Utc::now() + chrono::Duration::minutes(15),
    };
    writer.orders.saga.handle(&Envelope::new(&event, id.as_str().unwrap()).unwrap()).await.unwrap();
    // The writer's relay publishes the change while the watcher is cut off.
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();

    let update = tokio::time::timeout(Duration::from_secs(30), updates.next())
        .await
        .expect("the subscriber caught up after the reconnect")
        .expect("an open stream");
    assert_eq!(update["data"]["orderUpdated"]["status"], "AWAITING_PAYMENT", "{update}");
}

#[tokio::test]
async fn only_the_owner_or_an_admin_may_subscribe() {
    let app = TestApp::new(Backend::Sqlite).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].clone();
    let refused = next(&mut Box::pin(subscribe(&app.service.schema, &customer(Uuid::new_v4()), &id))).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    let anonymous = next(&mut Box::pin(subscribe(&app.service.schema, &Viewer::Anonymous, &id))).await;
    assert_eq!(anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{anonymous}");
    let unknown =
        next(&mut Box::pin(subscribe(&app.service.schema, &admin(), &json!(Uuid::new_v4().to_string())))).await;
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "NOT_FOUND", "{unknown}");
}
