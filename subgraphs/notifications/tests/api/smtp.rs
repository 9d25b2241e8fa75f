//! The email channel against a real SMTP server: `shop_testkit::smtp_server()` (aiosmtpd with
//! its Maildir handler) must receive the message with its subject and Message-ID.

use std::time::Duration;

use shop_messaging::Handler;
use shop_notifications::{
    NotificationsConfig,
    config::{EmailConfig, TransportKind},
    domain::NotificationStatus,
};
use shop_testkit as testkit;
use uuid::Uuid;

use crate::{confirmed, order_id, quick_config, registered};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_a_real_smtp_server() {
    let (smtp_url, maildir) = testkit::smtp_server();
    let (url, _guard) = testkit::fresh_sqlite_database();
    let config = NotificationsConfig {
        email: EmailConfig {
            transport: TransportKind::Smtp,
            smtp_url: Some(smtp_url.into()),
            ..EmailConfig::default()
        },
        ..quick_config()
    };
    let service = crate::build_service(&url, config).await;
    let handler = service.handler();
    let user = Uuid::new_v4();
    let address = format!("{}@example.test", user.simple());
    handler.handle(&registered(user, &address, "Smitty")).await.unwrap();
    let order = order_id();
    handler.handle(&confirmed(&order, user)).await.unwrap();
    let report = service.worker().run_once().await.unwrap();
    assert_eq!(report.sent, 2, "{report:?}");

    let notifications = service.store.of_user(&user.to_string(), 0, 10).await.unwrap();
    assert!(notifications.iter().all(|n| n.status == NotificationStatus::Sent));
    for notification in &notifications {
        let message_id = format!("<{}@shop>", notification.id);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mail = loop {
            let found = std::fs::read_dir(maildir.join("new"))
                .unwrap()
                .filter_map(|entry| std::fs::read_to_string(entry.unwrap().path()).ok())
                .find(|mail| mail.contains(&message_id));
            if let Some(mail) = found {
                break mail;
            }
            assert!(tokio::time::Instant::now() < deadline, "no mail with {message_id} in {}", maildir.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(mail.contains(&format!("Subject: {}", notification.subject)), "{mail}");
        assert!(mail.contains(&address), "{mail}");
        assert!(mail.contains("multipart/alternative"), "{mail}");
    }
    assert!(notifications.iter().any(|n| n.subject.contains(&order)));
}
