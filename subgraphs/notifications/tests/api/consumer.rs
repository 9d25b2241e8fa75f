//! Events become notifications and mail: one per event however often it is delivered, a
//! recipient who arrives late, marketing consent, and the whole loop through the bus.

use shop_kernel::Subgraph;
use std::time::Duration;

use chrono::Utc;
use shop_messaging::{
    Bus, Envelope, HandlerError,
    contracts::{OrderCancelled, OrderShipped, PaymentRefunded},
};
use shop_notifications::{
    SentMail,
    adapters::message_id,
    config::DeliveryConfig,
    domain::{NotificationCategory, NotificationKind, NotificationStatus},
};
use shop_testkit::Backend;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    TestApp, assert_status, confirmed, delivered, order_id, quick_config, registered, spawn_app, spawn_app_with,
};

shop_testkit::on_sql_backends!(
    one_event_makes_one_notification_and_one_mail,
    a_redelivered_event_notifies_once,
    a_recipient_who_arrives_late_still_gets_the_mail,
    an_unknown_recipient_fails_after_the_last_attempt,
    review_requests_wait_and_respect_marketing_consent,
    every_order_and_refund_event_is_told,
    unusable_messages_are_refused_for_good,
    events_flow_through_the_bus,
);

async fn one_event_makes_one_notification_and_one_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let address = app.register(user, "Ada").await;
    let order = order_id();
    let event = confirmed(&order, user);
    app.deliver(&event).await.unwrap();

    let queued = app.only_notification(&event).await;
    assert_status(&queued, NotificationStatus::Queued);
    assert_eq!(queued.kind, NotificationKind::OrderConfirmed);
    assert_eq!(queued.category, NotificationCategory::Transactional);
    assert_eq!(queued.subject, format!("Your Shop order {order} is confirmed"));

    app.drain().await;
    let sent = app.only_notification(&event).await;
    assert_status(&sent, NotificationStatus::Sent);
    assert_eq!(sent.recipient.as_deref(), Some(address.as_str()));
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());

    let mails = app.mailbox.sent_to(&address);
    assert_eq!(mails.len(), 2, "a welcome and a confirmation: {mails:?}");
    let mail = mails.iter().find(|m| m.notification_id == sent.id).expect("the confirmation mail");
    assert_eq!(mail.subject, sent.subject);
    assert_eq!(mail.message_id, message_id(sent.id));
    assert!(mail.raw.contains(&format!("Message-ID: <{}@shop>", sent.id)), "{}", mail.raw);
    assert!(mail.raw.contains("multipart/alternative"), "{}", mail.raw);
    assert!(mail.text.contains("Total:    38.09 USD"), "{}", mail.text);
    assert!(mail.html.contains("38.09 USD"));
}

async fn a_redelivered_event_notifies_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let address = app.register(user, "Grace").await;
    let event = confirmed(&order_id(), user);
    // The same message twice at once (a redelivery racing the first), then once more later.
    let (a, b) = tokio::join!(app.deliver(&event), app.deliver(&event));
    a.unwrap();
    b.unwrap();
    app.drain().await;
    app.deliver(&event).await.unwrap();
    // Even once the inbox has forgotten it, the unique key stops a second notification.
    app.service.store.purge_inbox(Utc::now() + chrono::Duration::days(1)).await.unwrap();
    app.deliver(&event).await.unwrap();
    app.drain().await;

    assert_status(&app.only_notification(&event).await, NotificationStatus::Sent);
    let confirmations: Vec<_> =
        app.mailbox.sent_to(&address).into_iter().filter(|m| m.subject.contains("confirmed")).collect();
    assert_eq!(confirmations.len(), 1, "{confirmations:?}");
}

async fn a_recipient_who_arrives_late_still_gets_the_mail(backend: Backend) {
    // Backoff long enough that only the recipient's arrival makes it due again.
    let mut config = quick_config();
    config.delivery.initial_backoff_ms = 60_000;
    config.delivery.max_backoff_ms = 60_000;
    let app = spawn_app_with(backend, config).await;
    let user = Uuid::new_v4();
    let event = confirmed(&order_id(), user);
    app.deliver(&event).await.unwrap();
    app.service.worker().run_once().await.unwrap();

    let waiting = app.only_notification(&event).await;
    assert_status(&waiting, NotificationStatus::Queued);
    assert_eq!(waiting.attempts, 1);
    assert_eq!(waiting.last_error.as_deref(), Some("the customer's address is not known yet"));
    assert!(waiting.next_attempt_at > Utc::now() + chrono::Duration::seconds(30));
    assert!(app.mailbox.messages().is_empty());

    let address = app.register(user, "Late Larry").await;
    app.drain().await;
    let sent = app.only_notification(&event).await;
    assert_status(&sent, NotificationStatus::Sent);
    assert_eq!(sent.attempts, 2);
    assert_eq!(app.mailbox.sent_to(&address).len(), 2, "the confirmation and the welcome");
}

async fn an_unknown_recipient_fails_after_the_last_attempt(backend: Backend) {
    let app = spawn_app(backend).await;
    let event = confirmed(&order_id(), Uuid::new_v4());
    app.deliver(&event).await.unwrap();
    app.drain().await;
    let failed = app.only_notification(&event).await;
    assert_status(&failed, NotificationStatus::Failed);
    assert_eq!(failed.attempts, 3, "max_attempts");
    assert_eq!(failed.last_error.as_deref(), Some("the customer's address is not known yet"));
    assert!(app.mailbox.messages().is_empty());
}

async fn review_requests_wait_and_respect_marketing_consent(backend: Backend) {
    // With the default delay, the review request waits three days.
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    app.register(user, "Patient Pat").await;
    let event = delivered(&order_id(), user);
    app.deliver(&event).await.unwrap();
    app.drain().await;
    let both = app.notifications_for(&event).await;
    assert_eq!(both.len(), 2);
    let review = both.iter().find(|n| n.kind == NotificationKind::ReviewRequest).unwrap();
    assert_status(review, NotificationStatus::Queued);
    assert_eq!(review.category, NotificationCategory::Marketing);
    let due_in = review.next_attempt_at - Utc::now();
    assert!(due_in > chrono::Duration::hours(71) && due_in <= chrono::Duration::hours(72), "{due_in}");
    let delivered_mail = both.iter().find(|n| n.kind == NotificationKind::OrderDelivered).unwrap();
    assert_status(delivered_mail, NotificationStatus::Sent);

    // Without a delay: sent to those who consent, skipped for those who opted out before or
    // after it was queued.
    let mut config = quick_config();
    config.delivery = DeliveryConfig { review_request_delay_secs: 0, ..config.delivery };
    let app = spawn_app_with(backend, config).await;
    let (keen, before, after) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for user in [keen, before, after] {
        app.register(user, "Customer").await;
    }
    app.service.store.set_marketing(&before.to_string(), false).await.unwrap();
    let events: Vec<Envelope> = [keen, before, after].iter().map(|user| delivered(&order_id(), *user)).collect();
    for event in &events {
        app.deliver(event).await.unwrap();
    }
    app.service.store.set_marketing(&after.to_string(), false).await.unwrap();
    app.drain().await;

    let review_of = |notifications: Vec<shop_notifications::domain::Notification>| {
        notifications.into_iter().find(|n| n.kind == NotificationKind::ReviewRequest).unwrap()
    };
    let sent = review_of(app.notifications_for(&events[0]).await);
    assert_status(&sent, NotificationStatus::Sent);
    let mail = app.mailbox.messages().into_iter().find(|m| m.notification_id == sent.id).unwrap();
    assert!(mail.text.contains("- Mug (Red)") && mail.text.contains("- Tea\n"), "{}", mail.text);
    for event in &events[1..] {
        let skipped = review_of(app.notifications_for(event).await);
        assert_status(&skipped, NotificationStatus::Skipped);
        assert_eq!(skipped.last_error.as_deref(), Some("the customer opted out of marketing messages"));
        assert!(app.mailbox.messages().iter().all(|m| m.notification_id != skipped.id));
        // Transactional mail still goes.
        let transactional =
            app.notifications_for(event).await.into_iter().find(|n| n.kind == NotificationKind::OrderDelivered);
        assert_status(&transactional.unwrap(), NotificationStatus::Sent);
    }
}

async fn every_order_and_refund_event_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let address = app.register(user, "Olga").await;
    let order = order_id();
    let cancelled = Envelope::new(
        &OrderCancelled {
            order_id: order.clone(),
            user_id: user.to_string(),
            reason: "payment declined".into(),
            summary: None,
        },
        order.clone(),
    )
    .unwrap();
    let shipped = Envelope::new(
        &OrderShipped {
            order_id: order.clone(),
            user_id: user.to_string(),
            tracking_number: "TRK-123".into(),
            summary: None,
        },
        order.clone(),
    )
    .unwrap();
    let refund = |user_id: Option<String>| PaymentRefunded {
        order_id: order.clone(),
        payment_id: Uuid::new_v4().to_string(),
        refund_id: Uuid::new_v4().to_string(),
        amount_minor: 1250,
        refunded_total_minor: 2500,
        currency: "EUR".into(),
        user_id,
    };
    let refunded = Envelope::new(&refund(Some(user.to_string())), order.clone()).unwrap();
    let anonymous_refund = Envelope::new(&refund(None), order.clone()).unwrap();
    for event in [&cancelled, &shipped, &refunded, &anonymous_refund] {
        app.deliver(event).await.unwrap();
    }
    assert!(
        app.notifications_for(&anonymous_refund).await.is_empty(),
        "a refund without a payer is acknowledged, not told"
    );
    app.drain().await;

    let mails = app.mailbox.sent_to(&address);
    assert_eq!(mails.len(), 4, "welcome, cancelled, shipped, refunded: {mails:?}");
    let mail = mail_of(&app, &mails, &cancelled, NotificationKind::OrderCancelled).await;
    assert!(mail.text.contains("was cancelled: payment declined."), "{}", mail.text);
    let mail = mail_of(&app, &mails, &shipped, NotificationKind::OrderShipped).await;
    assert!(mail.text.contains("Tracking number: TRK-123."), "{}", mail.text);
    let mail = mail_of(&app, &mails, &refunded, NotificationKind::PaymentRefunded).await;
    assert_eq!(mail.subject, format!("Shop refunded 12.50 EUR for order {order}"));
    assert!(mail.text.contains("25.00 EUR has been refunded for it in all"), "{}", mail.text);
}

/// The sent mail of `event`'s notification of `kind`.
async fn mail_of(app: &TestApp, mails: &[SentMail], event: &Envelope, kind: NotificationKind) -> SentMail {
    let notification = app.notifications_for(event).await.into_iter().find(|n| n.kind == kind).unwrap();
    assert_eq!(notification.status, NotificationStatus::Sent);
    mails.iter().find(|m| m.notification_id == notification.id).cloned().unwrap()
}

async fn unusable_messages_are_refused_for_good(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut foreign = confirmed(&order_id(), Uuid::new_v4());
    foreign.kind = "inventory.reserved.v1".into();
    assert!(matches!(app.deliver(&foreign).await, Err(HandlerError::Permanent(_))));
    let mut garbled = confirmed(&order_id(), Uuid::new_v4());
    garbled.payload = serde_json::json!({ "orderId": 42 });
    assert!(matches!(app.deliver(&garbled).await, Err(HandlerError::Permanent(_))));
    assert!(app.service.store.next_due().await.unwrap().is_none(), "nothing was queued");
}

async fn events_flow_through_the_bus(backend: Backend) {
    let app = spawn_app(backend).await;
    let shutdown = CancellationToken::new();
    let tasks = app.service.start(&shutdown).await.unwrap();
    let user = Uuid::new_v4();
    let address = format!("{}@example.test", user.simple());
    let order = order_id();
    // The order's confirmation may overtake the registration: both mails still go.
    app.bus.publish(&[confirmed(&order, user)]).await.unwrap();
    app.bus.publish(&[registered(user, &address, "Bus Rider")]).await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.mailbox.sent_to(&address).len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "mail did not arrive: {:?}", app.mailbox.messages());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    let kinds: Vec<_> = app.notifications_of(user).await.iter().map(|n| (n.kind, n.status)).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.iter().all(|(_, status)| *status == NotificationStatus::Sent), "{kinds:?}");
}
