//! The saga's payment step: each command gets the right reply in the outbox, duplicates
//! have no second effect, compensation voids or refunds, and the whole loop runs through
//! the bus.

use std::{sync::Arc, time::Duration};

use shop_kernel::Subgraph;
use shop_messaging::{
    Bus, ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{self, PaymentAuthorized, PaymentCaptured, PaymentFailed, PaymentRefunded, PaymentVoided},
};
use shop_payments::{
    adapters::{AuthorizeRequest, PaymentProvider, ProviderError, Receipt},
    domain::PaymentStatus,
    store::OperationRecord,
};
use shop_testkit::Backend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{TestApp, authorize, capture, spawn_app, spawn_app_with, void};

/// The only reply to `cause` in the outbox, decoded as `E`.
async fn only_reply<E: shop_messaging::Event>(app: &TestApp, cause: &Envelope) -> E {
    let replies = app.replies_to(cause).await;
    assert_eq!(replies.len(), 1, "one reply to {}: {replies:?}", cause.kind);
    let reply = &replies[0];
    assert_eq!(reply.correlation_id, cause.correlation_id, "replies keep the order's correlation id");
    reply.decode::<E>().unwrap_or_else(|e| panic!("expected {}, got {} ({e})", E::TYPE, reply.kind))
}

async fn operations(app: &TestApp, order_id: &str) -> Vec<OperationRecord> {
    app.service.store.operations(order_id).await.unwrap()
}

async fn authorize_succeeds(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, order) = (Uuid::new_v4(), Uuid::now_v7().to_string());
    let command = authorize(&order, user, 2500, "tok_visa");
    app.deliver(&command).await.unwrap();

    let reply: PaymentAuthorized = only_reply(&app, &command).await;
    let payment = app.service.store.by_order(&order).await.unwrap().expect("a payment");
    assert_eq!(
        reply,
        PaymentAuthorized {
            order_id: order.clone(),
            payment_id: payment.id.to_string(),
            amount_minor: 2500,
            currency: "USD".into()
        }
    );
    assert_eq!(payment.status, PaymentStatus::Authorized);
    assert_eq!((payment.amount_minor, payment.authorized_minor, payment.captured_minor), (2500, 2500, 0));
    assert_eq!(payment.user_id, user.to_string());
    assert_eq!(app.simulated.charges(&order), 1);
    let ops = operations(&app, &order).await;
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].idempotency_key.as_str(), ops[0].outcome.as_str()), (order.as_str(), "SUCCEEDED"));
    assert_eq!(ops[0].provider_reference, payment.provider_reference, "the provider's reference, never card data");
}

async fn declines_and_insufficient_funds_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    for (token, code) in
        [("tok_declined", "DECLINED"), ("tok_insufficient_funds", "INSUFFICIENT_FUNDS"), ("tok_unknown", "DECLINED")]
    {
        let order = Uuid::now_v7().to_string();
        let command = authorize(&order, Uuid::new_v4(), 1000, token);
        app.deliver(&command).await.unwrap();
        let reply: PaymentFailed = only_reply(&app, &command).await;
        assert_eq!((reply.order_id.as_str(), reply.code.as_str()), (order.as_str(), code));
        assert!(!reply.reason.is_empty());
        let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
        assert_eq!(payment.status, PaymentStatus::Failed);
        assert_eq!(payment.failure_code.map(|c| c.as_str()), Some(code));
        assert_eq!(payment.authorized_minor, 0);
    }
    assert_eq!(app.simulated.total_charges(), 0);
}

/// A provider that authorizes but whose answers are lost while `losing` is set.
struct LostAnswers {
    inner: Arc<dyn PaymentProvider>,
    losing: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl PaymentProvider for LostAnswers {
    async fn authorize(&self, request: &AuthorizeRequest, key: &str) -> Result<Receipt, ProviderError> {
        let receipt = self.inner.authorize(request, key).await;
        if self.losing.load(std::sync::atomic::Ordering::SeqCst) { Err(ProviderError::Timeout) } else { receipt }
    }
    async fn capture(&self, authorization: &str, amount_minor: i64, key: &str) -> Result<Receipt, ProviderError> {
        self.inner.capture(authorization, amount_minor, key).await
    }
    async fn void(&self, authorization: &str, key: &str) -> Result<Receipt, ProviderError> {
        self.inner.void(authorization, key).await
    }
    async fn refund(&self, authorization: &str, amount_minor: i64, key: &str) -> Result<Receipt, ProviderError> {
        self.inner.refund(authorization, amount_minor, key).await
    }
}

/// A provider that does not answer has not refused: the outcome stays unknown (nothing
/// recorded, nothing answered, the command retried) until the same idempotency key is asked
/// again, which finds the hold the provider did make: one hold, used, never orphaned.
async fn a_provider_timeout_leaves_the_outcome_unknown_until_asked_again(backend: Backend) {
    let lost = Arc::new(std::sync::Mutex::new(None::<Arc<LostAnswers>>));
    let app = spawn_app_with(backend, |inner| {
        let provider = Arc::new(LostAnswers { inner, losing: true.into() });
        *lost.lock().unwrap() = Some(provider.clone());
        provider
    })
    .await;
    let provider = lost.lock().unwrap().clone().unwrap();
    let order = Uuid::now_v7().to_string();
    let command = authorize(&order, Uuid::new_v4(), 1000, "tok_visa");
    let first = app.deliver(&command).await;
    assert!(matches!(first, Err(HandlerError::Transient(_))), "unknown, so retried: {first:?}");
    assert!(app.service.store.by_order(&order).await.unwrap().is_none(), "no definite failure recorded");
    assert!(app.replies_to(&command).await.is_empty());
    assert_eq!(app.simulated.charges(&order), 1, "the provider did hold the amount");

    // The broker delivers it again once the provider answers: the same key finds that hold.
    provider.losing.store(false, std::sync::atomic::Ordering::SeqCst);
    app.deliver(&command).await.unwrap();
    let reply: PaymentAuthorized = only_reply(&app, &command).await;
    assert_eq!(reply.amount_minor, 1000);
    assert_eq!(app.simulated.charges(&order), 1, "one hold, no second charge");
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!(payment.status, PaymentStatus::Authorized);
}

async fn a_duplicate_delivery_charges_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = Uuid::now_v7().to_string();
    let command = authorize(&order, Uuid::new_v4(), 4200, "tok_slow");
    // The same message twice at once (a redelivery racing the first), then once more later.
    let (a, b) = tokio::join!(app.deliver(&command), app.deliver(&command));
    a.unwrap();
    b.unwrap();
    app.deliver(&command).await.unwrap();
    let _: PaymentAuthorized = only_reply(&app, &command).await;
    assert_eq!(app.simulated.charges(&order), 1, "one charge");
    assert_eq!(operations(&app, &order).await.len(), 1, "one payment, one operation");

    // The saga asking again with a new message gets the same outcome, and no charge.
    let again = authorize(&order, Uuid::new_v4(), 4200, "tok_visa");
    app.deliver(&again).await.unwrap();
    let first: PaymentAuthorized = only_reply(&app, &command).await;
    let second: PaymentAuthorized = only_reply(&app, &again).await;
    assert_eq!(first, second);
    assert_eq!(app.simulated.charges(&order), 1);
}

async fn concurrent_requests_for_one_order_make_one_payment(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = Uuid::now_v7().to_string();
    let user = Uuid::new_v4();
    let commands: Vec<Envelope> = (0..4).map(|_| authorize(&order, user, 900, "tok_slow")).collect();
    let results = futures::future::join_all(commands.iter().map(|c| app.deliver(c))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut payment_ids = Vec::new();
    for command in &commands {
        let reply: PaymentAuthorized = only_reply(&app, command).await;
        payment_ids.push(reply.payment_id);
    }
    payment_ids.dedup();
    assert_eq!(payment_ids.len(), 1, "every request is answered with the one payment");
    assert_eq!(app.simulated.charges(&order), 1);
    assert_eq!(operations(&app, &order).await.len(), 1);
}

async fn capture_then_void_refunds(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.authorized_order(Uuid::new_v4(), 5000, "tok_visa").await;

    let capture_command = capture(&order);
    app.deliver(&capture_command).await.unwrap();
    let captured: PaymentCaptured = only_reply(&app, &capture_command).await;
    assert_eq!((captured.amount_minor, captured.currency.as_str()), (5000, "USD"));
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!((payment.status, payment.captured_minor), (PaymentStatus::Captured, 5000));
    let again = capture(&order);
    app.deliver(&again).await.unwrap();
    let _: PaymentCaptured = only_reply(&app, &again).await;

    let void_command = void(&order);
    app.deliver(&void_command).await.unwrap();
    let replies = app.replies_to(&void_command).await;
    assert_eq!(replies.len(), 2, "{replies:?}");
    let refunded: PaymentRefunded = replies.iter().find_map(|m| m.decode().ok()).expect("payment.refunded");
    let voided: PaymentVoided = replies.iter().find_map(|m| m.decode().ok()).expect("payment.voided");
    assert_eq!((refunded.amount_minor, refunded.refunded_total_minor), (5000, 5000));
    assert_eq!(voided, PaymentVoided { order_id: order.clone(), payment_id: Some(payment.id.to_string()) });
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!((payment.status, payment.refunded_minor), (PaymentStatus::Refunded, 5000));
    let hold = app.simulated.hold(payment.provider_reference.as_deref().unwrap()).unwrap();
    assert_eq!(hold.refunded_minor, 5000);

    // Voiding again (a redelivery, then a new request) refunds nothing more.
    app.deliver(&void_command).await.unwrap();
    let later = void(&order);
    app.deliver(&later).await.unwrap();
    let _: PaymentVoided = only_reply(&app, &later).await;
    assert_eq!(app.simulated.hold(payment.provider_reference.as_deref().unwrap()).unwrap().refunded_minor, 5000);
    let refunds = app.service.store.refunds_of(&[payment.id]).await.unwrap();
    assert_eq!(refunds.len(), 1);
    let ops: Vec<&str> = operations(&app, &order).await.iter().map(|o| o.operation.as_str()).collect();
    assert_eq!(ops, vec!["AUTHORIZE", "CAPTURE", "REFUND"]);
}

async fn void_releases_an_authorization(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.authorized_order(Uuid::new_v4(), 700, "tok_visa").await;
    let command = void(&order);
    app.deliver(&command).await.unwrap();
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    let reply: PaymentVoided = only_reply(&app, &command).await;
    assert_eq!(reply.payment_id, Some(payment.id.to_string()));
    assert_eq!(payment.status, PaymentStatus::Voided);
    assert!(app.simulated.hold(payment.provider_reference.as_deref().unwrap()).unwrap().voided);

    // A capture after the void (the order was cancelled first) takes nothing and is not a
    // poison message: answered with nothing.
    let late = capture(&order);
    app.deliver(&late).await.unwrap();
    assert!(app.replies_to(&late).await.is_empty());
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!((payment.status, payment.captured_minor), (PaymentStatus::Voided, 0));
}

async fn void_without_payment_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = Uuid::now_v7().to_string();
    let command = void(&order);
    app.deliver(&command).await.unwrap();
    let reply: PaymentVoided = only_reply(&app, &command).await;
    assert_eq!(reply, PaymentVoided { order_id: order.clone(), payment_id: None });
    assert!(app.service.store.by_order(&order).await.unwrap().is_none());

    // A failed payment has nothing to void either.
    let failed = app.authorized_order(Uuid::new_v4(), 700, "tok_declined").await;
    let command = void(&failed);
    app.deliver(&command).await.unwrap();
    let reply: PaymentVoided = only_reply(&app, &command).await;
    assert!(reply.payment_id.is_some());
}

async fn malformed_commands_are_answered_or_dead_lettered(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = Uuid::now_v7().to_string();
    let mut command = authorize(&order, Uuid::new_v4(), 0, "tok_visa");
    app.deliver(&command).await.unwrap();
    let reply: PaymentFailed = only_reply(&app, &command).await;
    assert_eq!(reply.code, "DECLINED");
    assert_eq!(app.simulated.total_charges(), 0);

    command.payload = serde_json::json!({ "orderId": 42 });
    assert!(matches!(app.deliver(&command).await, Err(HandlerError::Permanent(_))));
    assert!(matches!(app.deliver(&capture("no-such-order")).await, Err(HandlerError::Permanent(_))));
}

/// A provider whose captures take effect at once but answer late, so a void sent meanwhile
/// meets a capture that already landed.
struct LateCaptureAnswers(Arc<dyn PaymentProvider>, Arc<tokio::sync::Notify>);

#[async_trait::async_trait]
impl PaymentProvider for LateCaptureAnswers {
    async fn authorize(&self, request: &AuthorizeRequest, key: &str) -> Result<Receipt, ProviderError> {
        self.0.authorize(request, key).await
    }
    async fn capture(&self, authorization: &str, amount_minor: i64, key: &str) -> Result<Receipt, ProviderError> {
        let receipt = self.0.capture(authorization, amount_minor, key).await;
        self.1.notify_one();
        // Inside the tests' 200 ms attempt timeout.
        tokio::time::sleep(Duration::from_millis(150)).await;
        receipt
    }
    async fn void(&self, authorization: &str, key: &str) -> Result<Receipt, ProviderError> {
        self.0.void(authorization, key).await
    }
    async fn refund(&self, authorization: &str, amount_minor: i64, key: &str) -> Result<Receipt, ProviderError> {
        self.0.refund(authorization, amount_minor, key).await
    }
}

/// One order's capture and void never race at the provider: a void that arrives while the
/// capture is out waits (retried later, never dead-lettered), then refunds what was taken, so a
/// cancelled order is not left charged.
async fn a_void_racing_a_capture_waits_for_it_then_refunds(backend: Backend) {
    let landed = Arc::new(tokio::sync::Notify::new());
    let app =
        Arc::new(spawn_app_with(backend, |simulated| Arc::new(LateCaptureAnswers(simulated, landed.clone()))).await);
    let order = app.authorized_order(Uuid::new_v4(), 4_000, "tok_visa").await;
    let capturing = {
        let app = app.clone();
        let order = order.clone();
        tokio::spawn(async move { app.deliver(&capture(&order)).await })
    };
    // The capture landed at the provider and its answer is on the way back.
    landed.notified().await;
    let cancel = void(&order);
    let first = app.deliver(&cancel).await;
    assert!(matches!(first, Err(HandlerError::Transient(_))), "the void waits for the capture: {first:?}");
    capturing.await.unwrap().unwrap();

    // The broker delivers the void again: the capture is recorded now, so it is refunded.
    app.deliver(&cancel).await.unwrap();
    let kinds: Vec<String> = app.replies_to(&cancel).await.into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["payment.voided.v1", "payment.refunded.v1"]);
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!(payment.status, PaymentStatus::Refunded);
    assert_eq!((payment.captured_minor, payment.refunded_minor), (4_000, 4_000), "nothing left charged");
}

/// A capture the provider refuses (the authorization lapsed or was released at the provider)
/// is reported to the order instead of dead-lettered; nothing is taken.
async fn a_refused_capture_is_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.authorized_order(Uuid::new_v4(), 900, "tok_visa").await;
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    // The hold goes away at the provider behind payments' back.
    app.simulated.void(payment.provider_reference.as_deref().unwrap(), "behind-our-back").await.unwrap();
    let command = capture(&order);
    app.deliver(&command).await.unwrap();
    let reply: contracts::PaymentCaptureFailed = only_reply(&app, &command).await;
    assert_eq!((reply.order_id.as_str(), reply.code.as_str()), (order.as_str(), "DECLINED"));
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!((payment.status, payment.captured_minor), (PaymentStatus::Authorized, 0));
}

shop_testkit::on_sql_backends!(
    a_refused_capture_is_reported,
    a_void_racing_a_capture_waits_for_it_then_refunds,
    authorize_succeeds,
    declines_and_insufficient_funds_fail,
    a_provider_timeout_leaves_the_outcome_unknown_until_asked_again,
    a_duplicate_delivery_charges_once,
    concurrent_requests_for_one_order_make_one_payment,
    capture_then_void_refunds,
    void_releases_an_authorization,
    void_without_payment_answers,
    malformed_commands_are_answered_or_dead_lettered,
    commands_and_replies_travel_the_bus,
);

/// Forwards every message it handles to a channel.
struct Recorder(mpsc::UnboundedSender<Envelope>);

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let _ = self.0.send(message.clone());
        Ok(())
    }
}

async fn next(replies: &mut mpsc::UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(Duration::from_secs(10), replies.recv()).await.expect("a reply in time").expect("open channel")
}

/// The loop as the saga runs it: commands published on the bus reach the consumer, and the
/// replies reach `orders.saga` through the outbox relay; a redelivered command changes nothing.
async fn commands_and_replies_travel_the_bus(backend: Backend) {
    let app = spawn_app(backend).await;
    let shutdown = CancellationToken::new();
    let workers = app.service.start(&shutdown).await.unwrap();
    let (sender, mut replies) = mpsc::unbounded_channel();
    let saga = contracts::topology().into_iter().find(|q| q.name == contracts::ORDERS_SAGA).unwrap();
    let consumer =
        app.bus.consume(ConsumerSpec::durable(saga), Arc::new(Recorder(sender)), shutdown.clone()).await.unwrap();

    let order = Uuid::now_v7().to_string();
    let command = authorize(&order, Uuid::new_v4(), 1500, "tok_visa");
    app.publish(std::slice::from_ref(&command)).await;
    let reply = next(&mut replies).await;
    assert_eq!(reply.causation_id, Some(command.id));
    let authorized: PaymentAuthorized = reply.decode().unwrap();
    assert_eq!(authorized.amount_minor, 1500);

    app.publish(std::slice::from_ref(&command)).await;
    app.publish(&[capture(&order)]).await;
    let reply = next(&mut replies).await;
    assert!(reply.is::<PaymentCaptured>(), "the redelivered authorize was not answered again: {reply:?}");
    assert_eq!(app.simulated.charges(&order), 1);

    shutdown.cancel();
    consumer.join().await;
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(10), worker).await.expect("stops on shutdown").unwrap();
    }
}
