//! The purchase consumer: order announcements make buyers' reviews verified purchases and
//! cancellations take that back, called directly and through the in-process bus.

use shop_kernel::Subgraph;
use std::time::Duration;

use shop_messaging::{
    Bus, Envelope, Handler, HandlerError,
    contracts::{OrderCancelled, OrderConfirmed, OrderDelivered, OrderLineFact, OrderShipped, OrderSummary},
};
use shop_reviews::events::PurchaseRecorder;
use shop_testkit::Backend;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{TestApp, product, spawn_app};

shop_testkit::on_backends!(
    [sqlite => Sqlite, mongo => Mongo],
    [
        confirmed_orders_verify_the_buyers_reviews,
        announcements_without_lines_or_of_other_kinds_are_not_purchases,
        purchases_arrive_over_the_bus,
        cancelled_orders_take_the_badge_back,
        redelivered_and_reordered_announcements_converge,
    ]
);

fn summary(products: &[&str]) -> OrderSummary {
    let lines: Vec<OrderLineFact> = products
        .iter()
        .map(|p| OrderLineFact {
            product_id: (*p).to_owned(),
            sku: format!("SKU-{p}"),
            product_name: "Kettle".into(),
            variant_name: "Steel".into(),
            quantity: 1,
            unit_price_minor: 2500,
            line_subtotal_minor: 2500,
        })
        .collect();
    let subtotal = 2500 * i64::try_from(lines.len()).unwrap();
    OrderSummary {
        currency: "USD".into(),
        lines,
        subtotal_minor: subtotal,
        shipping_minor: 0,
        tax_minor: 0,
        total_minor: subtotal,
    }
}

fn confirmed(user: Uuid, products: &[&str]) -> Envelope {
    confirmation(&Uuid::now_v7().to_string(), user, products)
}

fn confirmation(order_id: &str, user: Uuid, products: &[&str]) -> Envelope {
    let event = OrderConfirmed {
        order_id: order_id.to_owned(),
        user_id: user.to_string(),
        total_minor: 2500,
        currency: "USD".into(),
        summary: Some(summary(products)),
    };
    Envelope::new(&event, order_id).unwrap()
}

fn delivered(user: Uuid, products: &[&str]) -> Envelope {
    delivery(&Uuid::now_v7().to_string(), user, products)
}

fn delivery(order_id: &str, user: Uuid, products: &[&str]) -> Envelope {
    let event =
        OrderDelivered { order_id: order_id.to_owned(), user_id: user.to_string(), summary: Some(summary(products)) };
    Envelope::new(&event, order_id).unwrap()
}

fn cancellation(order_id: &str, user: Uuid, products: &[&str]) -> Envelope {
    let event = OrderCancelled {
        order_id: order_id.to_owned(),
        user_id: user.to_string(),
        reason: "changed mind".into(),
        summary: Some(summary(products)),
    };
    Envelope::new(&event, order_id).unwrap()
}

fn recorder(app: &TestApp) -> PurchaseRecorder {
    PurchaseRecorder::new(app.service.reviews.clone())
}

async fn verified(app: &TestApp, id: Uuid) -> bool {
    app.service.store.reviews_by_ids(&[id]).await.unwrap()[0].verified_purchase
}

async fn confirmed_orders_verify_the_buyers_reviews(backend: Backend) {
    let app = spawn_app(backend).await;
    let handler = recorder(&app);
    let (buyer, other) = (Uuid::new_v4(), Uuid::new_v4());
    let (p, q) = (product(), product());
    let review = app.review(buyer, &p, 4).await;
    let others = app.review(other, &p, 2).await;

    let message = confirmed(buyer, &[&p, &q, &p]);
    handler.handle(&message).await.unwrap();
    assert!(verified(&app, review.id).await);
    assert!(!verified(&app, others.id).await, "only the buyer's review");
    assert!(app.service.store.has_purchased(buyer, &q).await.unwrap());
    // The same message again, or the order's delivery, changes nothing.
    handler.handle(&message).await.unwrap();
    handler.handle(&delivered(buyer, &[&p, &q])).await.unwrap();
    let stored = app.service.store.reviews_by_ids(&[review.id]).await.unwrap().pop().unwrap();
    assert!(stored.verified_purchase);
    assert_eq!(stored.version, 2, "marked once");

    // A later review of a bought product is verified from the start.
    assert!(app.review(buyer, &q, 5).await.verified_purchase);
    // A delivered order verifies too.
    let late = product();
    let late_review = app.review(other, &late, 3).await;
    handler.handle(&delivered(other, &[&late])).await.unwrap();
    assert!(verified(&app, late_review.id).await);
}

async fn announcements_without_lines_or_of_other_kinds_are_not_purchases(backend: Backend) {
    let app = spawn_app(backend).await;
    let handler = recorder(&app);
    let (buyer, p) = (Uuid::new_v4(), product());

    let order_id = Uuid::now_v7().to_string();
    let old = OrderConfirmed {
        order_id: order_id.clone(),
        user_id: buyer.to_string(),
        total_minor: 100,
        currency: "USD".into(),
        summary: None,
    };
    handler.handle(&Envelope::new(&old, order_id.clone()).unwrap()).await.unwrap();
    assert!(!app.service.store.has_purchased(buyer, &p).await.unwrap());

    let shipped = OrderShipped {
        order_id: order_id.clone(),
        user_id: buyer.to_string(),
        tracking_number: "1Z999".into(),
        summary: Some(summary(&[&p])),
    };
    let refused = handler.handle(&Envelope::new(&shipped, order_id.clone()).unwrap()).await;
    assert!(matches!(refused, Err(HandlerError::Permanent(_))), "{refused:?}");
    // A cancellation without lines names no product to take back: accepted, nothing changes.
    let old_cancel =
        OrderCancelled { order_id: order_id.clone(), user_id: buyer.to_string(), reason: "x".into(), summary: None };
    handler.handle(&Envelope::new(&old_cancel, order_id.clone()).unwrap()).await.unwrap();

    let mut malformed = confirmed(buyer, &[&p]);
    malformed.payload["userId"] = "not-a-uuid".into();
    assert!(matches!(handler.handle(&malformed).await, Err(HandlerError::Permanent(_))));
    malformed.payload = serde_json::json!({ "orderId": 42 });
    assert!(matches!(handler.handle(&malformed).await, Err(HandlerError::Permanent(_))));
    assert!(!app.service.store.has_purchased(buyer, &p).await.unwrap());
}

async fn purchases_arrive_over_the_bus(backend: Backend) {
    let app = spawn_app(backend).await;
    let shutdown = CancellationToken::new();
    let workers = app.service.start(&shutdown).await.unwrap();
    let (buyer, p) = (Uuid::new_v4(), product());
    let review = app.review(buyer, &p, 5).await;

    app.bus.publish(&[delivered(buyer, &[&p])]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !verified(&app, review.id).await {
        assert!(tokio::time::Instant::now() < deadline, "the purchase never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A cancellation arrives the same way and takes the badge back.
    let order_id = Uuid::now_v7().to_string();
    let (q, deadline) = (product(), tokio::time::Instant::now() + Duration::from_secs(10));
    let later = app.review(buyer, &q, 4).await;
    app.bus.publish(&[confirmation(&order_id, buyer, &[&q])]).await.unwrap();
    while !verified(&app, later.id).await {
        assert!(tokio::time::Instant::now() < deadline, "the purchase never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.bus.publish(&[cancellation(&order_id, buyer, &[&q])]).await.unwrap();
    while verified(&app, later.id).await {
        assert!(tokio::time::Instant::now() < deadline, "the cancellation never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    shutdown.cancel();
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(10), worker).await.expect("stops on shutdown").unwrap();
    }
}

async fn cancelled_orders_take_the_badge_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let handler = recorder(&app);
    let (buyer, p, q) = (Uuid::new_v4(), product(), product());
    let (first, second) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());

    handler.handle(&confirmation(&first, buyer, &[&p, &q])).await.unwrap();
    let review = app.review(buyer, &p, 5).await;
    assert!(review.verified_purchase);
    handler.handle(&cancellation(&first, buyer, &[&p, &q])).await.unwrap();
    assert!(!verified(&app, review.id).await, "the badge survived the cancellation");
    assert!(!app.service.store.has_purchased(buyer, &p).await.unwrap());
    assert!(!app.review(buyer, &q, 4).await.verified_purchase, "a later review is not verified");

    // Two orders of one product: cancelling one leaves the other standing.
    handler.handle(&confirmation(&second, buyer, &[&p])).await.unwrap();
    let third = Uuid::now_v7().to_string();
    handler.handle(&delivery(&third, buyer, &[&p])).await.unwrap();
    assert!(verified(&app, review.id).await);
    handler.handle(&cancellation(&second, buyer, &[&p])).await.unwrap();
    assert!(verified(&app, review.id).await, "the third order still stands");
    handler.handle(&cancellation(&third, buyer, &[&p])).await.unwrap();
    assert!(!verified(&app, review.id).await);
}

async fn redelivered_and_reordered_announcements_converge(backend: Backend) {
    let app = spawn_app(backend).await;
    let handler = recorder(&app);
    let buyer = Uuid::new_v4();
    // Every order of these is cancelled; each message arrives twice, in these orders.
    let orders: [&[&str]; 4] = [
        &["confirmed", "delivered", "cancelled"],
        &["cancelled", "confirmed", "delivered"],
        &["delivered", "cancelled", "confirmed"],
        &["cancelled", "delivered", "confirmed"],
    ];
    for arrival in orders {
        let (p, order_id) = (product(), Uuid::now_v7().to_string());
        let review = app.review(buyer, &p, 3).await;
        for kind in arrival.iter().flat_map(|k| [k, k]) {
            let message = match *kind {
                "confirmed" => confirmation(&order_id, buyer, &[&p]),
                "delivered" => delivery(&order_id, buyer, &[&p]),
                _ => cancellation(&order_id, buyer, &[&p]),
            };
            handler.handle(&message).await.unwrap();
        }
        assert!(!verified(&app, review.id).await, "{arrival:?}");
        assert!(!app.service.store.has_purchased(buyer, &p).await.unwrap(), "{arrival:?}");
    }
    // An order that is never cancelled, redelivered: purchased once and for all.
    let (p, order_id) = (product(), Uuid::now_v7().to_string());
    let review = app.review(buyer, &p, 3).await;
    for message in [delivery(&order_id, buyer, &[&p]), confirmation(&order_id, buyer, &[&p])] {
        handler.handle(&message).await.unwrap();
        handler.handle(&message).await.unwrap();
    }
    let stored = app.service.store.reviews_by_ids(&[review.id]).await.unwrap().pop().unwrap();
    assert!(stored.verified_purchase);
    assert_eq!(stored.version, 2, "marked once");
}
