//! Timeouts: a payment that never answers, or a reservation inventory never answers, cancels
//! the order with its compensation; several sweepers never cancel twice.

use chrono::{Duration, Utc};
use shop_messaging::{Envelope, contracts::InventoryReserved};
use shop_orders::{domain::OrderStatus, sweeper::sweep_once};
use shop_testkit::{Backend, customer};
use uuid::Uuid;

use crate::TestApp;

async fn reserve(app: &TestApp, id: &str) {
    let event = InventoryReserved { order_id: id.into(), expires_at: Utc::now() + Duration::minutes(15) };
    app.service.orders.saga.handle(&Envelope::new(&event, id).unwrap()).await.unwrap();
}

async fn order_status(app: &TestApp, id: &str) -> (OrderStatus, Option<String>) {
    let order = app.service.store.get(Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
    (order.status, order.cancellation_reason)
}

async fn payment_timeout_cancels_releases_and_voids(backend: Backend) {
    let app = TestApp::with(backend, |config, _| config.payment_timeout_secs = 0).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    reserve(&app, &id).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(sweep_once(&app.service.store, &app.service.orders.saga).await, 1);
    assert_eq!(order_status(&app, &id).await, (OrderStatus::Cancelled, Some("payment timeout".into())));
    assert_eq!(
        app.outbox_kinds(&id).await.split_off(4),
        ["inventory.release.v1", "payment.void.v1", "order.cancelled.v1", "order.updated.v1"]
    );
    assert_eq!(sweep_once(&app.service.store, &app.service.orders.saga).await, 0, "nothing left to time out");
}

async fn silent_inventory_cancels_and_releases(backend: Backend) {
    let app = TestApp::with(backend, |config, _| config.pending_timeout_secs = 0).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(sweep_once(&app.service.store, &app.service.orders.saga).await, 1);
    assert_eq!(order_status(&app, &id).await.0, OrderStatus::Cancelled);
    assert_eq!(
        app.outbox_kinds(&id).await.split_off(2),
        ["inventory.release.v1", "order.cancelled.v1", "order.updated.v1"]
    );
}

async fn orders_within_their_deadline_are_left_alone(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
    reserve(&app, &id).await;
    assert_eq!(sweep_once(&app.service.store, &app.service.orders.saga).await, 0);
    assert_eq!(order_status(&app, &id).await.0, OrderStatus::AwaitingPayment);
}

async fn replicas_sweeping_together_cancel_once(backend: Backend) {
    let app = TestApp::with(backend, |config, _| config.payment_timeout_secs = 0).await;
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..5 {
            let id = app.place(&customer(Uuid::new_v4())).await["id"].as_str().unwrap().to_owned();
            reserve(&app, &id).await;
            ids.push(id);
        }
        ids
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let other = app.replica().await;
    let (a, b) = tokio::join!(
        sweep_once(&app.service.store, &app.service.orders.saga),
        sweep_once(&other.store, &other.orders.saga)
    );
    assert_eq!(a + b, 5, "each order cancelled exactly once ({a} + {b})");
    for id in &ids {
        let kinds = app.outbox_kinds(id).await;
        assert_eq!(kinds.iter().filter(|k| *k == "order.cancelled.v1").count(), 1);
    }
}

shop_testkit::on_sql_backends!(
    payment_timeout_cancels_releases_and_voids,
    silent_inventory_cancels_and_releases,
    orders_within_their_deadline_are_left_alone,
    replicas_sweeping_together_cancel_once,
);
