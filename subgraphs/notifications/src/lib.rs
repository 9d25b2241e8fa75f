//! The notifications subgraph: tells customers what happened to their account and orders.
//!
//! It consumes `user.registered`, `order.confirmed/cancelled/shipped/delivered` and
//! `payment.refunded` from `notifications.events` ([`events`]), queues one notification per
//! event, kind and channel in its database ([`store`]), and a background worker
//! ([`delivery`]) renders them from embedded minijinja templates ([`render`]) and sends them
//! through a [`channel::Channel`] — email through lettre (SMTP, `.eml` files, or memory).
//! It extends the users service's `User` with `notifications` and `notificationPreferences`.
//! Nobody waits on it: the checkout saga never blocks on a notification.
//!
//! [`build`] wires configuration to PostgreSQL or SQLite, RabbitMQ and the configured email
//! transport; the embedded launcher and tests use [`from_parts`] with a bus of their own, or
//! [`from_store`] with channels of their own. [`NotificationsService::start`] runs the
//! consumer and the delivery worker.

#![warn(missing_docs)]

pub mod channel;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod render;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{auth::TokenVerifier, health::Readiness};
use shop_messaging::{Bus, BusError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    channel::{Channel, EmailChannel, EmailTransport, TransportError},
    config::TransportKind,
    delivery::{DeliveryWaker, DeliveryWorker},
    events::NotificationEvents,
    render::{RenderError, Renderer},
    store::{NotificationStore, StoreError},
};
pub use crate::{
    channel::{MemoryMailbox, SentMail},
    config::NotificationsConfig,
    graphql::NotificationsSchema,
};

/// The service name used in logs, metrics and configuration.
pub const SERVICE: &str = "notifications";

/// A wired notifications service.
pub struct NotificationsService {
    /// The database (also the delivery queue).
    pub store: Arc<NotificationStore>,
    /// The GraphQL schema.
    pub schema: NotificationsSchema,
    /// Verifies the access tokens of requests.
    pub verifier: Arc<TokenVerifier>,
    /// Where events are consumed.
    pub bus: Arc<dyn Bus>,
    /// Renders messages from the templates.
    pub renderer: Arc<Renderer>,
    /// The channels messages go through.
    pub channels: Vec<Arc<dyn Channel>>,
    /// Wakes the delivery worker after events were recorded.
    pub waker: DeliveryWaker,
    mailbox: Option<MemoryMailbox>,
    config: NotificationsConfig,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unreachable or could not be migrated.
    #[error("notifications database: {0}")]
    Store(#[from] StoreError),
    /// The message broker is unreachable or refused the topology.
    #[error("message bus: {0}")]
    Bus(#[from] BusError),
    /// The email settings are unusable.
    #[error("email: {0}")]
    Email(#[from] TransportError),
    /// `email.transport` is `smtp` but no `email.smtp_url` is set.
    #[error("email: `transport: smtp` needs `smtp_url`")]
    MissingSmtpUrl,
    /// A template does not parse (a bug caught at startup).
    #[error("templates: {0}")]
    Templates(#[from] RenderError),
}

struct NotificationsReadiness(Arc<NotificationStore>);

#[async_trait::async_trait]
impl Readiness for NotificationsReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Connects (and migrates) the database and connects the bus named by `config` (RabbitMQ;
/// without `amqp_url`, a private in-process bus), and builds the service.
pub async fn build(config: &NotificationsConfig) -> Result<NotificationsService, StartError> {
    let bus =
        shop_messaging::connect::connect(SERVICE, config.amqp_url.as_deref(), &config.exchange, &config.queue_prefix)
            .await?;
    from_parts(&config.database_url, bus, config).await
}

/// Connects (and migrates) the database at `database_url` and builds the service over `bus`,
/// with the email transport `config.email` names.
pub async fn from_parts(
    database_url: &str,
    bus: Arc<dyn Bus>,
    config: &NotificationsConfig,
) -> Result<NotificationsService, StartError> {
    let transport = match config.email.transport {
        TransportKind::Smtp => {
            let url = config.email.smtp_url.as_deref().ok_or(StartError::MissingSmtpUrl)?;
            EmailTransport::smtp(url, Duration::from_millis(config.email.smtp_timeout_ms))?
        }
        TransportKind::File => EmailTransport::file(&config.email.file_dir)?,
        TransportKind::Memory => EmailTransport::Memory(MemoryMailbox::new()),
    };
    let email = EmailChannel::new(&config.email.from, transport)?;
    let mailbox = email.mailbox().cloned();
    let store = Arc::new(NotificationStore::connect(database_url, config.max_connections).await?);
    let mut service = from_store(store, bus, vec![Arc::new(email)], config)?;
    service.mailbox = mailbox;
    Ok(service)
}

/// Builds the service over an open store, a bus and the channels to send through (one per
/// [`channel::ChannelKind`]).
pub fn from_store(
    store: Arc<NotificationStore>,
    bus: Arc<dyn Bus>,
    channels: Vec<Arc<dyn Channel>>,
    config: &NotificationsConfig,
) -> Result<NotificationsService, StartError> {
    let renderer = Arc::new(Renderer::new(&config.shop_name, &config.shop_url)?);
    let schema = graphql::schema(store.clone());
    let verifier = Arc::new(TokenVerifier::remote(&config.auth));
    Ok(NotificationsService {
        store,
        schema,
        verifier,
        bus,
        renderer,
        channels,
        waker: DeliveryWaker::new(),
        mailbox: None,
        config: config.clone(),
    })
}

impl NotificationsService {
    /// The consumer of `notifications.events` (also what the bus runs); tests may call it
    /// directly.
    pub fn handler(&self) -> NotificationEvents {
        NotificationEvents::new(
            self.store.clone(),
            self.renderer.clone(),
            self.waker.clone(),
            self.config.delivery.review_request_delay(),
        )
    }

    /// The delivery worker (what [`start`](Self::start) runs); tests may drive it a pass at a
    /// time with [`DeliveryWorker::run_once`].
    pub fn worker(&self) -> DeliveryWorker {
        DeliveryWorker::new(
            self.store.clone(),
            self.renderer.clone(),
            self.channels.clone(),
            self.config.delivery.settings(),
            self.waker.clone(),
        )
    }

    /// The emails sent so far, when the email transport is `memory` (the embedded launcher
    /// and end-to-end tests read them here); `None` with any other transport. With `file`,
    /// each email is `<email.file_dir>/<notification id>.eml` instead.
    pub fn mailbox(&self) -> Option<&MemoryMailbox> {
        self.mailbox.as_ref()
    }

    /// Starts the consumer of `notifications.events` and the delivery worker; both stop when
    /// `shutdown` is cancelled. Returns their tasks.
    pub async fn start(&self, shutdown: CancellationToken) -> Result<Vec<JoinHandle<()>>, BusError> {
        let worker = tokio::spawn(self.worker().run(shutdown.clone()));
        let consumer = match self.bus.consume(events::consumer_spec(), Arc::new(self.handler()), shutdown).await {
            Ok(consumer) => consumer,
            Err(error) => {
                worker.abort();
                return Err(error);
            }
        };
        Ok(vec![worker, tokio::spawn(consumer.join())])
    }

    /// The HTTP app: `/graphql`, health and metrics.
    pub fn app(&self) -> axum::Router {
        shop_kernel::server::app(
            SERVICE,
            self.schema.clone(),
            Arc::new(NotificationsReadiness(self.store.clone())),
            self.verifier.clone(),
        )
    }

    /// The subgraph SDL for composition.
    pub fn sdl(&self) -> String {
        graphql::sdl(&self.schema)
    }
}
