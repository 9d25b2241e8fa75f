//! The delivery worker: retries with backoff until the channel works or attempts run out,
//! permanent failures, leases, concurrent workers, and the transports' own failures.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use shop_notifications::{
    NotificationsConfig,
    adapters::{Channel, DeliveryError, EmailChannel, EmailTransport},
    config::{EmailConfig, TransportKind},
    domain::{NotificationStatus, Recipient},
    render::RenderedMessage,
    store::Outcome,
};
use shop_testkit::{self as testkit, Backend};
use uuid::Uuid;

use crate::{assert_status, confirmed, order_id, quick_config, spawn_app};

shop_testkit::on_sql_backends!(
    transient_failures_are_retried_until_sent,
    transient_failures_end_failed_after_the_last_attempt,
    a_permanent_failure_fails_at_once,
    concurrent_workers_send_each_notification_once,
    only_the_lease_holder_records_an_outcome,
    the_file_transport_writes_one_eml_per_notification,
);

fn transient() -> DeliveryError {
    DeliveryError::Transient("the mail server could not be reached".into())
}

async fn transient_failures_are_retried_until_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let address = app.register(user, "Ruth").await;
    app.drain().await;
    app.channel.fail_with([transient(), transient()]);
    let event = confirmed(&order_id(), user);
    app.deliver(&event).await.unwrap();

    app.service.worker().run_once().await.unwrap();
    let retrying = app.only_notification(&event).await;
    assert_status(&retrying, NotificationStatus::Queued);
    assert_eq!(retrying.attempts, 1);
    assert_eq!(retrying.last_error.as_deref(), Some("the mail server could not be reached"));
    assert!(retrying.next_attempt_at > Utc::now() - chrono::Duration::milliseconds(5), "backed off");

    app.drain().await;
    let sent = app.only_notification(&event).await;
    assert_status(&sent, NotificationStatus::Sent);
    assert_eq!(sent.attempts, 3, "two failures, then success");
    assert_eq!(sent.last_error, None);
    assert_eq!(app.mailbox.sent_to(&address).len(), 2, "the welcome and one confirmation");
}

async fn transient_failures_end_failed_after_the_last_attempt(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let address = app.register(user, "Sam").await;
    app.drain().await;
    app.channel.fail_with([transient(), transient(), transient(), transient()]);
    let event = confirmed(&order_id(), user);
    app.deliver(&event).await.unwrap();
    let calls_before = app.channel.calls();
    app.drain().await;

    let failed = app.only_notification(&event).await;
    assert_status(&failed, NotificationStatus::Failed);
    assert_eq!(failed.attempts, 3);
    assert_eq!(failed.last_error.as_deref(), Some("the mail server could not be reached"));
    assert_eq!(app.channel.calls() - calls_before, 3, "max_attempts sends, no more");
    assert_eq!(app.mailbox.sent_to(&address).len(), 1, "the welcome only");
}

async fn a_permanent_failure_fails_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    app.register(user, "Pia").await;
    app.drain().await;
    app.channel.fail_with([DeliveryError::Permanent("the mail server refused the message (550)".into())]);
    let event = confirmed(&order_id(), user);
    app.deliver(&event).await.unwrap();
    app.drain().await;
    let failed = app.only_notification(&event).await;
    assert_status(&failed, NotificationStatus::Failed);
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.last_error.as_deref(), Some("the mail server refused the message (550)"));

    // An address the email channel cannot use fails the same way, through the real channel.
    let bad = Uuid::new_v4();
    app.deliver(&crate::registered(bad, "not-an-address", "Bad")).await.unwrap();
    app.drain().await;
    let welcome = app.notifications_of(bad).await.remove(0);
    assert_status(&welcome, NotificationStatus::Failed);
    assert_eq!((welcome.attempts, welcome.last_error.as_deref()), (1, Some("the customer's email address is invalid")));
}

async fn concurrent_workers_send_each_notification_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    app.register(user, "Busy").await;
    for _ in 0..40 {
        app.deliver(&confirmed(&order_id(), user)).await.unwrap();
    }
    let workers: Vec<_> = (0..4).map(|_| app.service.worker()).collect();
    loop {
        let reports = futures::future::join_all(workers.iter().map(|w| w.run_once())).await;
        if reports.into_iter().map(|r| r.unwrap().leased).sum::<usize>() == 0 {
            break;
        }
    }
    let mails = app.mailbox.messages();
    assert_eq!(mails.len(), 41);
    let mut ids: Vec<Uuid> = mails.iter().map(|m| m.notification_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 41, "no notification was sent twice");
    assert!(app.notifications_of(user).await.iter().all(|n| n.status == NotificationStatus::Sent && n.attempts == 1));
}

async fn only_the_lease_holder_records_an_outcome(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    app.register(user, "Lea").await;
    let store = &app.service.store;
    let leased = store.lease_due(10, Utc::now() + chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!(leased.len(), 1);
    let item = &leased[0];
    assert!(
        store.lease_due(10, Utc::now() + chrono::Duration::seconds(30)).await.unwrap().is_empty(),
        "leased rows are not handed out again"
    );

    let sent = Outcome::Sent { address: "x@example.test".into() };
    assert!(
        !store.finish(item.notification.id, Uuid::new_v4(), &sent).await.unwrap(),
        "a stranger's token writes nothing"
    );
    assert!(store.finish(item.notification.id, item.token, &sent).await.unwrap());
    assert!(!store.finish(item.notification.id, item.token, &sent).await.unwrap(), "once finished, the lease is gone");
    assert_status(&app.notifications_of(user).await[0], NotificationStatus::Sent);

    // A lease that ran out (a crashed worker) is taken up again, and the old holder can no
    // longer record anything.
    let event = confirmed(&order_id(), user);
    app.deliver(&event).await.unwrap();
    let first = store.lease_due(10, Utc::now() - chrono::Duration::seconds(1)).await.unwrap();
    let second = store.lease_due(10, Utc::now() + chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_eq!(first[0].notification.id, second[0].notification.id);
    assert!(!store.finish(first[0].notification.id, first[0].token, &sent).await.unwrap());
    assert!(store.finish(second[0].notification.id, second[0].token, &sent).await.unwrap());
}

async fn the_file_transport_writes_one_eml_per_notification(backend: Backend) {
    let dir = std::env::temp_dir().join(testkit::unique_name("mail"));
    let _cleanup = testkit::TempDir::new(dir.clone());
    let (url, _database) = testkit::fresh_sql_database(backend).await;
    let config = NotificationsConfig {
        email: EmailConfig {
            transport: TransportKind::File,
            file_dir: dir.join("mail").display().to_string(),
            ..EmailConfig::default()
        },
        ..quick_config()
    };
    let service = crate::build_service(&url, config).await;
    assert!(service.mailbox().is_none());
    let user = Uuid::new_v4();
    let handler = service.handler();
    use shop_messaging::Handler;
    handler.handle(&crate::registered(user, "file@example.test", "Fi <Le>")).await.unwrap();
    let report = service.worker().run_once().await.unwrap();
    assert_eq!(report.sent, 1);

    let welcome = service.store.of_user(&user.to_string(), 0, 10).await.unwrap().remove(0);
    let eml = std::fs::read_to_string(dir.join("mail").join(format!("{}.eml", welcome.id))).unwrap();
    assert!(eml.contains("Subject: Welcome to Shop"), "{eml}");
    assert!(eml.contains(&format!("Message-ID: <{}@shop>", welcome.id)), "{eml}");
    assert!(eml.contains("file@example.test"), "{eml}");
    let files: Vec<_> = std::fs::read_dir(dir.join("mail")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files.iter().filter(|name| name.to_string_lossy().ends_with(".eml")).count(), 1, "{files:?}");
}

/// A real SMTP client against a port nobody listens on: the failure is transient.
#[tokio::test]
async fn an_unreachable_smtp_server_is_a_transient_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let transport = EmailTransport::smtp(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
    let channel: Arc<dyn Channel> = Arc::new(EmailChannel::new("Shop <orders@shop.local>", transport).unwrap());
    let recipient = Recipient { user_id: "u".into(), email: "nobody@example.test".into(), name: "N".into() };
    let message = RenderedMessage {
        notification_id: Uuid::now_v7(),
        subject: "s".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
    };
    let error = channel.send(&recipient, &message).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.reason(), "the mail server could not be reached");
}
