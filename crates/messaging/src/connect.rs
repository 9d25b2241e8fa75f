//! Choosing the bus from a service's settings.

use std::sync::Arc;

use crate::{
    Bus, BusError, contracts,
    memory::InMemoryBus,
    rabbit::{RabbitBus, RabbitConfig},
};

/// The bus a service runs on: RabbitMQ at `amqp_url` with the whole topology declared, or,
/// without a URL, an in-process bus private to this service (a service alone on it talks to
/// no other service, so that is for development only and says so in the log).
pub async fn connect(
    service: &str,
    amqp_url: Option<&str>,
    exchange: &str,
    queue_prefix: &str,
) -> Result<Arc<dyn Bus>, BusError> {
    match amqp_url {
        Some(url) => {
            let config = RabbitConfig {
                url: url.to_owned(),
                exchange: exchange.to_owned(),
                queue_prefix: queue_prefix.to_owned(),
            };
            let bus: Arc<dyn Bus> = RabbitBus::connect(config, contracts::topology()).await?;
            Ok(bus)
        }
        None => {
            tracing::warn!(service, "no AMQP URL: using a private in-process bus that reaches no other service");
            let bus: Arc<dyn Bus> = InMemoryBus::new(contracts::topology());
            Ok(bus)
        }
    }
}
