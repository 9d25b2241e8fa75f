//! Notifications tests against real PostgreSQL and its embedded twin, SQLite, with the
//! in-process bus, in one binary:
//!
//! - `consumer`: events become notifications and mail, once per event, with the recipient
//!   arriving late, marketing consent, and the whole loop through the bus;
//! - `delivery`: retries with backoff, giving up, permanent failures, leases, concurrent
//!   workers, and the file and SMTP transports' failure modes;
//! - `templates`: HTML escaping and totals;
//! - `graphql`: who may read notifications and preferences, through the schema without a
//!   socket;
//! - `smtp`: the email channel against a real SMTP server (aiosmtpd with a Maildir).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod consumer;
mod delivery;
mod graphql;
mod smtp;
mod templates;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use serde_json::Value;
use shop_kernel::{Shared, Subgraph, config::Environment};
use shop_messaging::{
    Bus, Envelope, Handler, HandlerError,
    contracts::{self, OrderLineFact, OrderSummary, UserRegistered},
    memory::InMemoryBus,
};
use shop_notifications::{
    MemoryMailbox, NotificationsConfig, NotificationsService,
    adapters::{Channel, ChannelKind, DeliveryError, EmailChannel, EmailTransport, Receipt},
    config::DeliveryConfig,
    domain::{Notification, NotificationStatus, Recipient},
    events::NotificationEvents,
    render::RenderedMessage,
    store::NotificationStore,
};
use shop_testkit::{self as testkit, Backend, TempDir};
use uuid::Uuid;

/// A fresh, migrated store on `backend` (PostgreSQL or SQLite), and the guard of its SQLite
/// file if any.
pub async fn fresh_store(backend: Backend) -> (NotificationStore, Option<TempDir>) {
    let (url, guard) = testkit::fresh_sql_database(backend).await;
    let pool = if backend == Backend::Postgres { 10 } else { 4 };
    (NotificationStore::connect(&url, pool).await.expect("open the store"), guard)
}

/// Email into memory, except that the failures a test scripts come first, one per send.
pub struct ScriptedChannel {
    email: EmailChannel,
    failures: Mutex<VecDeque<DeliveryError>>,
    calls: Mutex<usize>,
}

impl ScriptedChannel {
    /// Fails the next sends with `failures`, in order.
    pub fn fail_with(&self, failures: impl IntoIterator<Item = DeliveryError>) {
        self.failures.lock().unwrap().extend(failures);
    }

    /// Sends attempted so far.
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

#[async_trait::async_trait]
impl Channel for ScriptedChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(&self, recipient: &Recipient, message: &RenderedMessage) -> Result<Receipt, DeliveryError> {
        *self.calls.lock().unwrap() += 1;
        let failure = self.failures.lock().unwrap().pop_front();
        match failure {
            Some(error) => Err(error),
            None => self.email.send(recipient, message).await,
        }
    }
}

/// Quick retries: 3 attempts, 10-40 ms apart.
pub fn quick_config() -> NotificationsConfig {
    NotificationsConfig {
        delivery: DeliveryConfig {
            max_attempts: 3,
            initial_backoff_ms: 10,
            max_backoff_ms: 40,
            poll_interval_ms: 20,
            lease_secs: 10,
            ..DeliveryConfig::default()
        },
        ..NotificationsConfig::default()
    }
}

/// A notifications service over a fresh database and the in-process bus, sending email into
/// a memory mailbox through a [`ScriptedChannel`].
pub struct TestApp {
    pub service: NotificationsService,
    pub mailbox: MemoryMailbox,
    pub channel: Arc<ScriptedChannel>,
    pub bus: Arc<InMemoryBus>,
    pub handler: NotificationEvents,
    _guard: Option<TempDir>,
}

/// A service with [`quick_config`].
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, quick_config()).await
}

/// The service as the process builds it, on the database at `url` and a fresh in-process bus.
pub async fn build_service(url: &str, mut config: NotificationsConfig) -> NotificationsService {
    config.database.database_url = url.into();
    let bus: Arc<dyn Bus> = InMemoryBus::new(contracts::topology());
    NotificationsService::build(&config, &Shared::new(Environment::Development).with(bus)).await.unwrap()
}

/// A service with `config` (its email settings are ignored: mail goes to memory).
pub async fn spawn_app_with(backend: Backend, config: NotificationsConfig) -> TestApp {
    let (store, guard) = fresh_store(backend).await;
    let mailbox = MemoryMailbox::new();
    let email = EmailChannel::new(&config.email.from, EmailTransport::Memory(mailbox.clone())).unwrap();
    let channel = Arc::new(ScriptedChannel { email, failures: Mutex::new(VecDeque::new()), calls: Mutex::new(0) });
    let bus = InMemoryBus::new(contracts::topology());
    let service = NotificationsService::from_parts(
        Arc::new(store),
        bus.clone(),
        vec![channel.clone() as Arc<dyn Channel>],
        &config,
    )
    .unwrap();
    let handler = service.handler();
    TestApp { service, mailbox, channel, bus, handler, _guard: guard }
}

impl TestApp {
    /// Delivers `message` to the event handler, as the bus would.
    pub async fn deliver(&self, message: &Envelope) -> Result<(), HandlerError> {
        self.handler.handle(message).await
    }

    /// Runs delivery passes until nothing is due within the next second (retries included).
    pub async fn drain(&self) {
        let worker = self.service.worker();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let report = worker.run_once().await.unwrap();
            let soon = Utc::now() + chrono::Duration::seconds(1);
            let pending = self.service.store.next_due().await.unwrap().is_some_and(|at| at <= soon);
            if report.leased == 0 && !pending {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "deliveries did not settle");
            if report.leased == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// The notifications of `user`, newest first.
    pub async fn notifications_of(&self, user: Uuid) -> Vec<Notification> {
        self.service.store.of_user(&user.to_string(), 0, 100).await.unwrap()
    }

    /// The notifications `event` caused, oldest first.
    pub async fn notifications_for(&self, event: &Envelope) -> Vec<Notification> {
        self.service.store.of_event(event.id).await.unwrap()
    }

    /// The only notification `event` caused.
    pub async fn only_notification(&self, event: &Envelope) -> Notification {
        let mut all = self.notifications_for(event).await;
        assert_eq!(all.len(), 1, "one notification for {}: {all:?}", event.kind);
        all.remove(0)
    }

    /// Registers a customer (as the users service would announce it); their address.
    pub async fn register(&self, user: Uuid, name: &str) -> String {
        let email = format!("{}@example.test", user.simple());
        self.deliver(&registered(user, &email, name)).await.unwrap();
        email
    }
}

/// A `QUEUED`/`SENT`/… check with the notification in the message.
pub fn assert_status(notification: &Notification, status: NotificationStatus) {
    assert_eq!(notification.status, status, "{notification:?}");
}

/// `user.registered`.
pub fn registered(user: Uuid, email: &str, name: &str) -> Envelope {
    let event =
        UserRegistered { user_id: user.to_string(), email: email.into(), name: name.into(), registered_at: Utc::now() };
    Envelope::new(&event, user.to_string()).unwrap()
}

/// Two lines: 2 × 12.50 + 1 × 5.99, shipping 4.00, tax 3.10, total 38.09 (USD).
pub fn summary() -> OrderSummary {
    OrderSummary {
        currency: "USD".into(),
        lines: vec![
            OrderLineFact {
                product_id: "p-1".into(),
                sku: "MUG-RED".into(),
                product_name: "Mug".into(),
                variant_name: "Red".into(),
                quantity: 2,
                unit_price_minor: 1250,
                line_subtotal_minor: 2500,
            },
            OrderLineFact {
                product_id: "p-2".into(),
                sku: "TEA-1".into(),
                product_name: "Tea".into(),
                variant_name: String::new(),
                quantity: 1,
                unit_price_minor: 599,
                line_subtotal_minor: 599,
            },
        ],
        subtotal_minor: 3099,
        shipping_minor: 400,
        tax_minor: 310,
        total_minor: 3809,
    }
}

/// `order.confirmed` with [`summary`].
pub fn confirmed(order: &str, user: Uuid) -> Envelope {
    let event = contracts::OrderConfirmed {
        order_id: order.into(),
        user_id: user.to_string(),
        total_minor: 3809,
        currency: "USD".into(),
        summary: Some(summary()),
    };
    Envelope::new(&event, order).unwrap()
}

/// `order.delivered` with [`summary`].
pub fn delivered(order: &str, user: Uuid) -> Envelope {
    let event =
        contracts::OrderDelivered { order_id: order.into(), user_id: user.to_string(), summary: Some(summary()) };
    Envelope::new(&event, order).unwrap()
}

/// A new order id.
pub fn order_id() -> String {
    Uuid::now_v7().to_string()
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no coded error in {body}"))
}
