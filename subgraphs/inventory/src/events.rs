//! The inventory side of the checkout saga: reserve, commit and release commands in, results
//! of the reserve and the commit out. Each command is one [`SagaStep`]: its inbox record, its effect and its answer commit
//! together, so a redelivered command changes nothing and its answer is never lost. This room
//! only translates between messages and the use cases.

use std::sync::Arc;

use shop_messaging::{Envelope, Handler, HandlerError, contracts};

use crate::{
    domain::{Line, Reservation, ReservationRequest, ReservationStatus, Shortage},
    service::{Inventory, ReserveError, SagaStep, StoreError, TransitionError},
};

/// The name this consumer records processed messages under.
pub const CONSUMER: &str = "inventory";

/// Handles the commands on the inventory queue.
pub struct CommandHandler {
    inventory: Arc<Inventory>,
}

impl CommandHandler {
    /// A handler that carries out each command through `inventory`.
    pub fn new(inventory: Arc<Inventory>) -> Self {
        Self { inventory }
    }

    /// Applies one command within `step` and returns the answers to publish.
    async fn apply(&self, step: &SagaStep<'_>, message: &Envelope) -> Result<Vec<Envelope>, HandlerError> {
        if message.is::<contracts::InventoryReserve>() {
            let command: contracts::InventoryReserve = decode(message)?;
            let lines = command.lines.iter().map(|l| Line { sku: l.sku.clone(), quantity: l.quantity }).collect();
            let Ok(request) = ReservationRequest::new(&command.order_id, lines) else {
                // A request inventory can never hold is answered, not retried.
                return reply(
                    &contracts::InventoryRejected { order_id: command.order_id, shortages: Vec::new() },
                    message,
                );
            };
            return match step.reserve(&request).await {
                Ok(reservation) if reservation.status.is_holding_or_done() => reply(
                    &contracts::InventoryReserved { order_id: command.order_id, expires_at: reservation.expires_at },
                    message,
                ),
                // Released (or expired) before this reserve arrived: the order is gone.
                Ok(_) => {
                    reply(&contracts::InventoryRejected { order_id: command.order_id, shortages: Vec::new() }, message)
                }
                Err(ReserveError::Insufficient(shortages)) => reply(
                    &contracts::InventoryRejected {
                        order_id: command.order_id,
                        shortages: shortages.into_iter().map(shortage).collect(),
                    },
                    message,
                ),
                Err(ReserveError::Store(error)) => Err(transient(&error)),
            };
        }
        if message.is::<contracts::InventoryCommit>() {
            let command: contracts::InventoryCommit = decode(message)?;
            return match step.commit(&command.order_id).await {
                Ok(_) => reply(&contracts::InventoryCommitted { order_id: command.order_id }, message),
                // Paid after the hold lapsed: the stock is taken again if it is free, else the
                // order is told what is short (it cancels and voids); never a dead letter.
                Err(TransitionError::Invalid { from: ReservationStatus::Expired, .. }) => {
                    match step.commit_lapsed(&command.order_id).await {
                        Ok(_) => reply(&contracts::InventoryCommitted { order_id: command.order_id }, message),
                        Err(ReserveError::Insufficient(shortages)) => reply(
                            &contracts::InventoryCommitFailed {
                                order_id: command.order_id,
                                shortages: shortages.into_iter().map(shortage).collect(),
                            },
                            message,
                        ),
                        Err(ReserveError::Store(error)) => Err(transient(&error)),
                    }
                }
                // The order was cancelled and its release handled before this commit: the units
                // stay where the release put them, and there is nothing to answer.
                Err(TransitionError::Invalid {
                    from: ReservationStatus::Released | ReservationStatus::Restocked,
                    ..
                }) => Ok(Vec::new()),
                Err(TransitionError::Store(error)) => Err(transient(&error)),
                // A commit of an order never reserved: a bug upstream that an operator must see
                // (the dead letter keeps the message).
                Err(error) => {
                    Err(HandlerError::Permanent(format!("cannot commit order {}: {error}", command.order_id)))
                }
            };
        }
        if message.is::<contracts::InventoryRelease>() {
            let command: contracts::InventoryRelease = decode(message)?;
            // A release is a compensation nobody waits for, so it is answered with nothing.
            // Releasing an order never reserved succeeds too: the step leaves a marker.
            return match step.release(&command.order_id).await {
                // Expired first: the units are back either way, which is all the saga asks.
                Ok(_) | Err(TransitionError::Invalid { from: ReservationStatus::Expired, .. }) => Ok(Vec::new()),
                Err(TransitionError::Store(error)) => Err(transient(&error)),
                Err(error) => {
                    Err(HandlerError::Permanent(format!("cannot release order {}: {error}", command.order_id)))
                }
            };
        }
        Err(HandlerError::Permanent(format!("inventory does not handle {}", message.kind)))
    }
}

#[async_trait::async_trait]
impl Handler for CommandHandler {
    async fn handle(&self, message: &Envelope) -> Result<(), HandlerError> {
        let Some(step) = self.inventory.claim(CONSUMER, message).await.map_err(|e| transient(&e))? else {
            return Ok(());
        };
        let answers = self.apply(&step, message).await?;
        step.answer(&answers).await.map_err(|e| transient(&e))
    }
}

/// The message announcing that the sweeper released an order's lapsed hold.
pub fn expired_announcement(reservation: &Reservation) -> Vec<Envelope> {
    let event = contracts::InventoryExpired { order_id: reservation.order_id.clone() };
    match Envelope::new(&event, reservation.order_id.clone()) {
        Ok(envelope) => vec![envelope],
        Err(error) => {
            tracing::error!(%error, order_id = %reservation.order_id, "cannot encode inventory.expired");
            Vec::new()
        }
    }
}

fn shortage(short: Shortage) -> contracts::Shortage {
    contracts::Shortage { sku: short.sku, requested: short.requested, available: short.available }
}

fn decode<E: shop_messaging::Event>(message: &Envelope) -> Result<E, HandlerError> {
    message.decode().map_err(|e| HandlerError::Permanent(format!("undecodable {}: {e}", message.kind)))
}

fn reply<E: shop_messaging::Event>(event: &E, cause: &Envelope) -> Result<Vec<Envelope>, HandlerError> {
    Envelope::reply_to(event, cause).map(|e| vec![e]).map_err(|e| HandlerError::Permanent(e.to_string()))
}

fn transient(error: &StoreError) -> HandlerError {
    HandlerError::Transient(error.to_string())
}
