//! Settings of the notifications service (see `shop_kernel::config` for how they are
//! loaded: `config/notifications.yaml`, then `NOTIFICATIONS__*` variables, e.g.
//! `NOTIFICATIONS__EMAIL__TRANSPORT=smtp`, `NOTIFICATIONS__EMAIL__SMTP_URL=smtp://mailpit:1025`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::AuthConfig,
    config::{BusConfig, Common, DatabaseConfig, Problems, Secret, ServiceConfig, Settings, data_path},
};

use crate::delivery::DeliverySettings;

/// Notifications settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// `listen`. Default `0.0.0.0:4007`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `postgres://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/notifications.db?mode=rwc`); `max_connections` (default 8).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// `amqp_url`, `exchange` and `queue_prefix` of the broker the events come from.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// How access tokens are verified.
    pub auth: AuthConfig,
    /// How email is sent.
    pub email: EmailConfig,
    /// How deliveries are paced and retried.
    pub delivery: DeliveryConfig,
    /// The shop's name in messages. Default `Shop`.
    pub shop_name: String,
    /// The shop's address in messages' links. Default `http://localhost:4000`.
    pub shop_url: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4007),
            database: DatabaseConfig::embedded("notifications.db", 8),
            bus: BusConfig::default(),
            auth: AuthConfig::default(),
            email: EmailConfig::default(),
            delivery: DeliveryConfig::default(),
            shop_name: "Shop".into(),
            shop_url: "http://localhost:4000".into(),
        }
    }
}

impl Settings for NotificationsConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            files: vec![&mut self.email.file_dir],
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        match (&self.email.transport, &self.email.smtp_url) {
            (TransportKind::Smtp, None) => problems.refuse("email.smtp_url", "is required with `transport: smtp`"),
            (_, Some(url)) => problems.url("email.smtp_url", url.expose(), &["smtp", "smtps"]),
            _ => {}
        }
        problems.within("email.smtp_timeout_ms", self.email.smtp_timeout_ms, 1..=300_000);
        let delivery = &self.delivery;
        problems.within("delivery.max_attempts", delivery.max_attempts, 1..=100);
        problems.within("delivery.initial_backoff_ms", delivery.initial_backoff_ms, 1..=3_600_000);
        problems.within(
            "delivery.max_backoff_ms",
            delivery.max_backoff_ms,
            delivery.initial_backoff_ms..=24 * 3_600_000,
        );
        problems.within("delivery.poll_interval_ms", delivery.poll_interval_ms, 1..=600_000);
        problems.within("delivery.lease_secs", delivery.lease_secs, 2..=3600);
        problems.url("shop_url", &self.shop_url, &["http", "https"]);
    }
}

/// Which transport carries email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// An SMTP server at `smtp_url`.
    Smtp,
    /// One `<notification id>.eml` file per email in `file_dir`.
    File,
    /// A list in memory, read through `NotificationsService::mailbox`.
    Memory,
}

/// Email settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// `smtp`, `file` or `memory`. Default `file`.
    pub transport: TransportKind,
    /// The SMTP server in lettre's URL form: `smtp://mailpit:1025` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host` (TLS).
    /// Required with `transport: smtp`. Default none.
    pub smtp_url: Option<Secret>,
    /// Longest one SMTP command may take, in milliseconds. Default 10000.
    pub smtp_timeout_ms: u64,
    /// The sender. Default `Shop <orders@shop.local>`.
    pub from: String,
    /// Where the file transport writes. Default `data/mail`.
    pub file_dir: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            transport: TransportKind::File,
            smtp_url: None,
            smtp_timeout_ms: 10_000,
            from: "Shop <orders@shop.local>".into(),
            file_dir: data_path("mail"),
        }
    }
}

/// Delivery settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Attempts in total, the first included, before a notification fails. Default 8.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in milliseconds; it doubles with jitter.
    /// Default 1000.
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts, in milliseconds. Default 300000 (5 minutes).
    pub max_backoff_ms: u64,
    /// How often the queue is looked at when nothing wakes the worker, in milliseconds.
    /// Default 500.
    pub poll_interval_ms: u64,
    /// How long a worker holds a notification it is sending, in seconds; a crashed worker's
    /// notifications are taken up again after this. Default 60.
    pub lease_secs: u64,
    /// How long after delivery a review request goes out, in seconds. Default 259200 (3 days).
    pub review_request_delay_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff_ms: 1000,
            max_backoff_ms: 300_000,
            poll_interval_ms: 500,
            lease_secs: 60,
            review_request_delay_secs: 259_200,
        }
    }
}

impl DeliveryConfig {
    /// The worker's settings.
    pub fn settings(&self) -> DeliverySettings {
        DeliverySettings {
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            max_backoff: Duration::from_millis(self.max_backoff_ms.max(self.initial_backoff_ms)),
            poll_interval: Duration::from_millis(self.poll_interval_ms.max(1)),
            lease: Duration::from_secs(self.lease_secs.max(2)),
        }
    }

    /// How long after delivery a review request goes out.
    pub fn review_request_delay(&self) -> Duration {
        Duration::from_secs(self.review_request_delay_secs)
    }
}
