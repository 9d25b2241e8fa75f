//! Publishing to the topic exchange in confirm mode: a batch goes out in one go and returns once
//! the broker holds every message.

use std::time::Duration;

use lapin::Confirmation;
use lapin::options::BasicPublishOptions;

use super::RabbitBus;
use super::connection::Live;
use super::headers::properties;
use super::topology::short;
use crate::bus::{BusError, record_published};
use crate::envelope::Envelope;

/// How long a publish waits for the broker's confirms before giving up (the outbox retries).
pub(super) const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

impl RabbitBus {
    /// Publishes raw bytes with `routing_key` to the exchange; for tests and tools that need a
    /// message that is not an envelope.
    pub async fn publish_raw(&self, routing_key: &str, body: &[u8]) -> Result<(), BusError> {
        let live = self.publisher.current()?;
        let confirm = live
            .channel
            .basic_publish(
                short(&self.exchange)?,
                short(routing_key)?,
                BasicPublishOptions::default(),
                body,
                properties(None, 1, None),
            )
            .await
            .map_err(|e| self.publisher.failed(&live, e))?;
        self.confirmed(&live, vec![confirm]).await
    }

    /// The body of [`Bus::publish`](crate::bus::Bus::publish).
    pub(super) async fn publish_envelopes(&self, messages: &[Envelope]) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let live = self.publisher.current()?;
        let exchange = short(&self.exchange)?;
        // Publish the whole batch, then wait for all confirms: one round trip instead of one per message.
        let mut confirms = Vec::with_capacity(messages.len());
        for message in messages {
            let body = message.to_json().map_err(|e| BusError::Decode(e.to_string()))?;
            let confirm = live
                .channel
                .basic_publish(
                    exchange.clone(),
                    short(&message.kind)?,
                    BasicPublishOptions::default(),
                    &body,
                    properties(Some(message), 1, None),
                )
                .await
                .map_err(|e| self.publisher.failed(&live, e))?;
            confirms.push(confirm);
        }
        self.confirmed(&live, confirms).await?;
        record_published(messages);
        Ok(())
    }

    async fn confirmed(&self, live: &Live, confirms: Vec<lapin::PublisherConfirm>) -> Result<(), BusError> {
        let all = futures::future::join_all(confirms);
        let results = tokio::time::timeout(CONFIRM_TIMEOUT, all)
            .await
            .map_err(|_| BusError::Publish("the broker did not confirm in time".to_owned()))?;
        for result in results {
            match result.map_err(|e| self.publisher.failed(live, e))? {
                Confirmation::Ack(_) => {}
                Confirmation::Nack(_) => {
                    return Err(BusError::Publish("the broker rejected a message".to_owned()));
                }
                Confirmation::NotRequested => {
                    return Err(BusError::Publish("publisher confirms are off".to_owned()));
                }
            }
        }
        Ok(())
    }
}
