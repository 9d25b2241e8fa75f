//! The notifications subgraph: tells customers what happened to their account and orders.
//!
//! It consumes `user.registered`, `order.confirmed/cancelled/shipped/delivered` and
//! `payment.refunded` from `notifications.events` ([`events`]), queues one notification per
//! event, kind and channel in its database ([`store`]) through the use cases both the API and
//! the consumer call ([`service`]), and a background worker ([`delivery`]) renders them from
//! embedded minijinja templates ([`render`]) and sends them through an
//! [`adapters::Channel`] — email through lettre (SMTP, `.eml` files, or memory).
//! It extends the users service's `User` with `notifications` and `notificationPreferences`.
//! Nobody waits on it: the checkout saga never blocks on a notification.
//!
//! [`NotificationsService`] is the subgraph ([`Subgraph::build`] wires it from its settings
//! to PostgreSQL/SQLite, the bus and the configured email transport); tests build it over a
//! store, a bus and channels of their own with [`NotificationsService::from_parts`].
#![warn(missing_docs)]

pub mod adapters;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod render;
pub mod service;
pub mod store;

use std::{sync::Arc, time::Duration};

use shop_kernel::{Shared, Subgraph, Workers, auth::TokenVerifier, health::Readiness};
use shop_messaging::{Bus, BusError};
use tokio_util::sync::CancellationToken;

use crate::{
    adapters::{Channel, EmailChannel, EmailTransport, TransportError},
    config::TransportKind,
    delivery::{DeliveryWaker, DeliveryWorker},
    events::NotificationEvents,
    render::{RenderError, Renderer},
    service::Notifications,
    store::{NotificationStore, StoreError},
};
pub use crate::{
    adapters::{MemoryMailbox, SentMail},
    config::NotificationsConfig,
    graphql::NotificationsSchema,
};

/// The notifications subgraph, wired.
pub struct NotificationsService {
    /// The database (also the delivery queue).
    pub store: Arc<NotificationStore>,
    /// The use cases.
    pub notifications: Arc<Notifications>,
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

impl NotificationsService {
    /// The service over an open store, a bus and the channels to send through (one per
    /// [`adapters::ChannelKind`]).
    pub fn from_parts(
        store: Arc<NotificationStore>,
        bus: Arc<dyn Bus>,
        channels: Vec<Arc<dyn Channel>>,
        config: &NotificationsConfig,
    ) -> Result<Self, StartError> {
        let renderer = Arc::new(Renderer::new(&config.shop_name, &config.shop_url)?);
        let waker = DeliveryWaker::new();
        let notifications = Arc::new(Notifications::new(store.clone(), renderer.clone(), waker.clone()));
        let schema = graphql::schema(notifications.clone());
        let verifier = Arc::new(TokenVerifier::remote(&config.auth));
        Ok(Self {
            store,
            notifications,
            schema,
            verifier,
            bus,
            renderer,
            channels,
            waker,
            mailbox: None,
            config: config.clone(),
        })
    }

    /// The consumer of `notifications.events` (also what the bus runs); tests may call it
    /// directly.
    pub fn handler(&self) -> NotificationEvents {
        NotificationEvents::new(self.notifications.clone(), self.config.delivery.review_request_delay())
    }

    /// The delivery worker (what [`Subgraph::start`] runs); tests may drive it a pass at a
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
}

#[async_trait::async_trait]
impl Subgraph for NotificationsService {
    const NAME: &'static str = "notifications";
    type Config = NotificationsConfig;
    type Schema = NotificationsSchema;
    type Error = StartError;

    /// Connects (and migrates) the database, connects the bus and opens the email transport
    /// `config.email` names.
    async fn build(config: &NotificationsConfig, shared: &Shared) -> Result<Self, StartError> {
        let bus = shop_messaging::connect::bus_for(Self::NAME, &config.bus, shared).await?;
        let transport = match config.email.transport {
            TransportKind::Smtp => {
                let url = config.email.smtp_url.as_ref().ok_or(StartError::MissingSmtpUrl)?;
                EmailTransport::smtp(url.expose(), Duration::from_millis(config.email.smtp_timeout_ms))?
            }
            TransportKind::File => EmailTransport::file(&config.email.file_dir)?,
            TransportKind::Memory => EmailTransport::Memory(MemoryMailbox::new()),
        };
        let email = EmailChannel::new(&config.email.from, transport)?;
        let mailbox = email.mailbox().cloned();
        let store = Arc::new(NotificationStore::connect(config.database.url(), config.database.max_connections).await?);
        let mut service = Self::from_parts(store, bus, vec![Arc::new(email)], config)?;
        service.mailbox = mailbox;
        Ok(service)
    }

    fn sdl() -> String {
        graphql::sdl()
    }

    fn schema(&self) -> NotificationsSchema {
        self.schema.clone()
    }

    fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    fn readiness(&self) -> Readiness {
        Readiness::new().check("store", self.store.clone(), |store| async move { store.ping().await })
    }

    fn banner(&self) -> Option<String> {
        let email = &self.config.email;
        Some(match email.transport {
            TransportKind::File => format!("emails: one .eml file per email in {}/", email.file_dir),
            TransportKind::Smtp => "emails: sent over SMTP".to_owned(),
            TransportKind::Memory => "emails: kept in memory".to_owned(),
        })
    }

    /// The consumer of `notifications.events` and the delivery worker.
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, StartError> {
        let worker = tokio::spawn(self.worker().run(shutdown.clone()));
        let consumer = match self.bus.consume(events::consumer_spec(), Arc::new(self.handler()), shutdown.clone()).await
        {
            Ok(consumer) => consumer,
            Err(error) => {
                worker.abort();
                return Err(error.into());
            }
        };
        Ok(vec![worker, tokio::spawn(consumer.join())])
    }
}
