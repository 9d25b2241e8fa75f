//! Settings of the notifications service (see `shop_kernel::config` for how they are
//! loaded: `config/notifications.yaml`, then `NOTIFICATIONS__*` variables, e.g.
//! `NOTIFICATIONS__EMAIL__TRANSPORT=smtp`, `NOTIFICATIONS__EMAIL__SMTP_URL=smtp://mailpit:1025`).

use std::time::Duration;

use serde::Deserialize;
use shop_kernel::auth::AuthConfig;

use crate::delivery::DeliverySettings;

/// Notifications settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationsConfig {
    /// Address to serve on. Default `0.0.0.0:4007`.
    pub listen: String,
    /// `postgres://…` for production, `sqlite://…` for embedded.
    /// Default `sqlite://data/notifications.db?mode=rwc`.
    pub database_url: String,
    /// Pool size. Default 8.
    pub max_connections: u32,
    /// RabbitMQ, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`. Default none: the embedded
    /// launcher hands in its in-process bus (`from_parts`); `build` alone then uses a private
    /// in-process bus, which reaches no other service.
    pub amqp_url: Option<String>,
    /// The topic exchange of every message. Default `shop.events`.
    pub exchange: String,
    /// Prefix of exchange and queue names (tests use a random one). Default empty.
    pub queue_prefix: String,
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
            listen: "0.0.0.0:4007".into(),
            database_url: "sqlite://data/notifications.db?mode=rwc".into(),
            max_connections: 8,
            amqp_url: None,
            exchange: "shop.events".into(),
            queue_prefix: String::new(),
            auth: AuthConfig::default(),
            email: EmailConfig::default(),
            delivery: DeliveryConfig::default(),
            shop_name: "Shop".into(),
            shop_url: "http://localhost:4000".into(),
        }
    }
}

/// Which transport carries email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// `smtp`, `file` or `memory`. Default `file`.
    pub transport: TransportKind,
    /// The SMTP server in lettre's URL form: `smtp://mailpit:1025` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host` (TLS).
    /// Required with `transport: smtp`. Default none.
    pub smtp_url: Option<String>,
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
            file_dir: "data/mail".into(),
        }
    }
}

/// Delivery settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
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
