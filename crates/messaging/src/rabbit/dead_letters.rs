//! Reading and replaying a queue's dead letters, on short-lived administration channels of the
//! publishing connection.

use std::sync::Arc;

use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation};

use super::RabbitBus;
use super::connection::{Link, Live, close_quietly};
use super::headers::{ATTEMPT_HEADER, DEATH_REASON_HEADER, header_string, header_u32, properties};
use super::topology::{dead_queue, short};
use crate::bus::{BusError, DeadLetter};
use crate::envelope::Envelope;

impl RabbitBus {
    /// The body of [`Bus::dead_letters`](crate::bus::Bus::dead_letters).
    pub(super) async fn peek_dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let (live, channel) = self.admin_channel().await?;
        let dead = short(&dead_queue(&self.queue_name(queue)))?;
        let mut letters = Vec::new();
        let mut last_tag = None;
        while letters.len() < limit {
            let got = channel
                .basic_get(dead.clone(), BasicGetOptions { no_ack: false })
                .await
                .map_err(|e| admin_error(&self.publisher, &live, e))?;
            let Some(message) = got else { break };
            last_tag = Some(message.delivery.delivery_tag);
            letters.push(dead_letter(&message.delivery.properties, &message.delivery.data));
        }
        // Requeue all of them: the broker puts them back where they were.
        if let Some(tag) = last_tag {
            channel
                .basic_nack(tag, BasicNackOptions { multiple: true, requeue: true })
                .await
                .map_err(|e| admin_error(&self.publisher, &live, e))?;
        }
        close_quietly(&channel).await;
        Ok(letters)
    }

    /// The body of [`Bus::replay_dead_letters`](crate::bus::Bus::replay_dead_letters).
    pub(super) async fn replay_dead(&self, queue: &str, limit: usize) -> Result<usize, BusError> {
        let (live, channel) = self.admin_channel().await?;
        let err = |e| admin_error(&self.publisher, &live, e);
        let target = short(&self.queue_name(queue))?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(err)?;
        let dead = short(&dead_queue(target.as_str()))?;
        let mut replayed = 0;
        while replayed < limit {
            let Some(message) =
                channel.basic_get(dead.clone(), BasicGetOptions { no_ack: false }).await.map_err(err)?
            else {
                break;
            };
            let delivery = message.delivery;
            let envelope = Envelope::from_json(&delivery.data).ok();
            // Mandatory: the default exchange silently drops messages for a queue that does not
            // exist; this way the broker returns them instead.
            let confirm = channel
                .basic_publish(
                    "".into(),
                    target.clone(),
                    BasicPublishOptions { mandatory: true, ..Default::default() },
                    &delivery.data,
                    properties(envelope.as_ref(), 1, None),
                )
                .await
                .map_err(err)?
                .await
                .map_err(err)?;
            let failure = match confirm {
                Confirmation::Ack(None) => None,
                Confirmation::Ack(Some(_)) => Some(BusError::Topology(format!("no queue {target}"))),
                Confirmation::Nack(_) | Confirmation::NotRequested => {
                    Some(BusError::Publish("the broker rejected a replayed message".to_owned()))
                }
            };
            if let Some(failure) = failure {
                // Closing the channel puts the unacknowledged letter back.
                close_quietly(&channel).await;
                return Err(failure);
            }
            channel.basic_ack(delivery.delivery_tag, BasicAckOptions::default()).await.map_err(err)?;
            replayed += 1;
        }
        close_quietly(&channel).await;
        Ok(replayed)
    }

    /// A short-lived channel for administration, so its errors (e.g. an unknown queue) close
    /// only itself.
    async fn admin_channel(&self) -> Result<(Arc<Live>, Channel), BusError> {
        let live = self.publisher.current()?;
        let channel = live.connection.create_channel().await.map_err(|e| self.publisher.failed(&live, e))?;
        Ok((live, channel))
    }
}

fn admin_error(link: &Link, live: &Live, error: lapin::Error) -> BusError {
    match link.failed(live, error) {
        BusError::Publish(message) => BusError::Topology(message),
        other => other,
    }
}

fn dead_letter(properties: &BasicProperties, body: &[u8]) -> DeadLetter {
    DeadLetter {
        envelope: Envelope::from_json(body).ok(),
        body: String::from_utf8_lossy(body).into_owned(),
        attempts: header_u32(properties, ATTEMPT_HEADER).unwrap_or(1),
        reason: header_string(properties, DEATH_REASON_HEADER).unwrap_or_default(),
    }
}
