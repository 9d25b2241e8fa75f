//! The consumer of the durable `orders.saga` queue: decodes each reply of inventory and
//! payments and hands it to [`crate::service::lifecycle`], which decides and writes the step.

use std::sync::Arc;

use shop_messaging::{
    Envelope, Event, Handler, HandlerError,
    contracts::{
        InventoryCommitFailed, InventoryCommitted, InventoryExpired, InventoryRejected, InventoryReserved,
        PaymentAuthorized, PaymentCaptureFailed, PaymentCaptured, PaymentFailed, PaymentRefunded, PaymentVoided,
    },
};

use crate::{
    service::lifecycle::{Outcome, Saga, SagaError},
    store::StoreError,
};

impl From<SagaError> for HandlerError {
    /// Only a failure that may pass (the database, a lost race) is worth a redelivery; every
    /// other error would fail the same way again, so it goes to the dead letters.
    fn from(error: SagaError) -> Self {
        match error {
            SagaError::Store(StoreError::Unavailable(_)) | SagaError::Contended => Self::Transient(error.to_string()),
            _ => Self::Permanent(error.to_string()),
        }
    }
}

// An inherent method defined beside the consumer, so that tests can drive the saga with an
// envelope exactly as the bus does, while the use-case layer never sees a message kind.
impl Saga {
    /// Handles one message of the `orders.saga` queue.
    #[tracing::instrument(skip_all, fields(kind = %message.kind, order_id = %message.correlation_id))]
    pub async fn handle(&self, message: &Envelope) -> Result<Outcome, SagaError> {
        let malformed = |e: shop_messaging::envelope::EnvelopeError| SagaError::Malformed(e.to_string());
        match message.kind.as_str() {
            InventoryReserved::TYPE => self.inventory_reserved(message, &message.decode().map_err(malformed)?).await,
            InventoryRejected::TYPE => self.inventory_rejected(message, &message.decode().map_err(malformed)?).await,
            InventoryExpired::TYPE => self.inventory_expired(message, &message.decode().map_err(malformed)?).await,
            InventoryCommitted::TYPE => self.inventory_committed(message, &message.decode().map_err(malformed)?).await,
            InventoryCommitFailed::TYPE => {
                self.inventory_commit_failed(message, &message.decode().map_err(malformed)?).await
            }
            PaymentAuthorized::TYPE => self.payment_authorized(message, &message.decode().map_err(malformed)?).await,
            PaymentFailed::TYPE => self.payment_failed(message, &message.decode().map_err(malformed)?).await,
            PaymentCaptured::TYPE => self.payment_captured(message, &message.decode().map_err(malformed)?).await,
            PaymentCaptureFailed::TYPE => {
                self.payment_capture_failed(message, &message.decode().map_err(malformed)?).await
            }
            PaymentVoided::TYPE => self.payment_voided(message, &message.decode().map_err(malformed)?).await,
            PaymentRefunded::TYPE => self.payment_refunded(message, &message.decode().map_err(malformed)?).await,
            other => Err(SagaError::Malformed(format!("the saga does not handle {other}"))),
        }
    }
}

/// The bus adapter of the saga.
pub struct SagaHandler(pub Arc<Saga>);

#[async_trait::async_trait]
impl Handler for SagaHandler {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        match self.0.handle(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, kind = %message.kind, id = %message.id, "saga message not handled");
                Err(error.into())
            }
        }
    }
}
