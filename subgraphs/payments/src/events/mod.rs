//! What payments consumes and publishes on the bus: it handles the saga's commands on
//! `payments.commands` (`payment.authorize`, `payment.capture`, `payment.void`) and answers
//! each through the outbox (`payment.authorized` / `payment.failed`, `payment.captured`,
//! `payment.voided`); every refund is announced as `payment.refunded`.

use std::sync::Arc;

use shop_messaging::{
    ConsumerSpec, Envelope, Handler, HandlerError,
    contracts::{self, PaymentAuthorize, PaymentCapture, PaymentVoid},
};

use crate::service::{FlowError, Payments};

/// Handles the saga's payment commands.
pub struct PaymentCommands {
    payments: Arc<Payments>,
}

impl PaymentCommands {
    /// A handler over the service.
    pub fn new(payments: Arc<Payments>) -> Self {
        Self { payments }
    }
}

/// The consumer of `payments.commands`: durable, with the bus's default prefetch, concurrency
/// and retries.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec::durable(contracts::payments_commands_queue())
}

fn undecodable(error: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(format!("undecodable payload: {error}"))
}

/// A failed step: retried later when that may help, dead-lettered when it cannot.
fn handler_error(error: FlowError) -> HandlerError {
    if error.is_transient() {
        tracing::warn!(%error, "payment command failed; it will be retried");
        HandlerError::Transient(error.to_string())
    } else {
        tracing::error!(%error, "payment command cannot be carried out");
        HandlerError::Permanent(error.to_string())
    }
}

#[async_trait::async_trait]
impl Handler for PaymentCommands {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let result = if message.is::<PaymentAuthorize>() {
            let command = message.decode::<PaymentAuthorize>().map_err(undecodable)?;
            self.payments.authorize(message, &command).await
        } else if message.is::<PaymentCapture>() {
            let command = message.decode::<PaymentCapture>().map_err(undecodable)?;
            self.payments.capture(message, &command).await
        } else if message.is::<PaymentVoid>() {
            let command = message.decode::<PaymentVoid>().map_err(undecodable)?;
            self.payments.void(message, &command).await
        } else {
            return Err(HandlerError::Permanent(format!("payments does not handle `{}`", message.kind)));
        };
        result.map_err(handler_error)
    }
}
