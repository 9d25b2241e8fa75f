//! The notification use cases that both `graphql/` and `events/` call: a customer's
//! preferences and notifications, and recording an event as queued notifications.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    delivery::DeliveryWaker,
    domain::{NewNotification, Notification, Preferences, Recipient},
    render::{RenderError, Renderer},
    store::{NotificationStore, Queued, Recorded, StoreError},
};

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A subject did not render: the event can never be recorded as it is.
    #[error(transparent)]
    Render(RenderError),
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(StoreError),
}

/// Notifications over a store.
pub struct Notifications {
    store: Arc<NotificationStore>,
    renderer: Arc<Renderer>,
    waker: DeliveryWaker,
}

impl Notifications {
    /// Use cases over `store`, rendering subjects with `renderer` and waking the delivery
    /// worker with `waker` once something was queued.
    pub fn new(store: Arc<NotificationStore>, renderer: Arc<Renderer>, waker: DeliveryWaker) -> Self {
        Self { store, renderer, waker }
    }

    /// What `user_id` agreed to receive.
    pub async fn preferences(&self, user_id: &str) -> Result<Preferences, StoreError> {
        self.store.preferences(user_id).await
    }

    /// Sets whether `user_id` receives marketing notifications; the preferences now.
    pub async fn set_marketing(&self, user_id: &str, marketing: bool) -> Result<Preferences, StoreError> {
        self.store.set_marketing(user_id, marketing).await
    }

    /// Up to `limit` notifications of `user_id` from `offset`, newest first.
    pub async fn of_user(&self, user_id: &str, offset: u64, limit: u64) -> Result<Vec<Notification>, StoreError> {
        self.store.of_user(user_id, offset, limit).await
    }

    /// Notification `id`, whoever it is for.
    pub async fn by_id(&self, id: Uuid) -> Result<Option<Notification>, StoreError> {
        self.store.by_id(id).await
    }

    /// Records that `consumer` handled message `message_id`: `recipient` (if the message
    /// introduced one) and `notifications`, their subjects rendered now, in one transaction.
    pub async fn record_event(
        &self,
        consumer: &str,
        message_id: Uuid,
        recipient: Option<&Recipient>,
        notifications: Vec<NewNotification>,
    ) -> Result<Recorded, RecordError> {
        let mut queued = Vec::with_capacity(notifications.len());
        for notification in notifications {
            let subject = self.renderer.subject(notification.kind, &notification.facts).map_err(RecordError::Render)?;
            queued.push(Queued { notification, subject });
        }
        let recorded =
            self.store.record_event(consumer, message_id, recipient, &queued).await.map_err(RecordError::Store)?;
        match recorded {
            // A new recipient makes their notifications that waited for an address due at once.
            Recorded::Done { queued } if queued > 0 || recipient.is_some() => self.waker.wake(),
            Recorded::Done { .. } => {}
            Recorded::Duplicate => tracing::debug!("message handled before; nothing to do"),
        }
        Ok(recorded)
    }
}
