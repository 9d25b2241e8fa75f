//! Choosing the bus from a service's settings.

use std::sync::Arc;

use shop_kernel::{
    Shared,
    config::{BusConfig, Environment},
};

use crate::{
    Bus, BusError, contracts,
    memory::InMemoryBus,
    rabbit::{RabbitBus, RabbitConfig},
};

/// The bus a service runs on:
/// - the bus its process provides in `shared` (the embedded launcher's, shared by every
///   subgraph of the process), if there is one;
/// - else RabbitMQ at `config.amqp_url`, with the whole topology declared;
/// - else, in development only, an in-process bus private to this service, which reaches no
///   other service (it says so in the log). In production a missing URL is an error: a
///   service that talks to nobody must not look healthy.
pub async fn bus_for(service: &str, config: &BusConfig, shared: &Shared) -> Result<Arc<dyn Bus>, BusError> {
    if let Some(bus) = shared.get::<Arc<dyn Bus>>() {
        return Ok(bus.clone());
    }
    match (&config.amqp_url, shared.environment()) {
        (Some(url), _) => connect(url.expose(), config).await,
        (None, Environment::Development) => {
            tracing::warn!(service, "no AMQP URL: using a private in-process bus that reaches no other service");
            let bus: Arc<dyn Bus> = InMemoryBus::new(contracts::topology());
            Ok(bus)
        }
        (None, Environment::Production) => Err(BusError::NotConfigured(format!(
            "{service} needs a broker: set {}__AMQP_URL (or SHOP_ENVIRONMENT=development for a private in-process bus)",
            service.to_ascii_uppercase()
        ))),
    }
}

/// RabbitMQ at `url` with `config`'s exchange and prefix, the whole topology declared.
pub async fn connect(url: &str, config: &BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    let config = RabbitConfig {
        url: url.to_owned(),
        exchange: config.exchange.clone(),
        queue_prefix: config.queue_prefix.clone(),
    };
    let bus: Arc<dyn Bus> = RabbitBus::connect(config, contracts::topology()).await?;
    Ok(bus)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_deployment_without_a_broker_refuses_to_start() {
        let error =
            bus_for("orders", &BusConfig::default(), &Shared::new(Environment::Production)).await.err().unwrap();
        assert!(matches!(&error, BusError::NotConfigured(why) if why.contains("ORDERS__AMQP_URL")), "{error}");
    }

    #[tokio::test]
    async fn a_developer_alone_gets_a_private_bus() {
        assert!(bus_for("orders", &BusConfig::default(), &Shared::new(Environment::Development)).await.is_ok());
    }

    #[tokio::test]
    async fn the_bus_the_process_provides_wins() {
        let provided: Arc<dyn Bus> = InMemoryBus::new(contracts::topology());
        let shared = Shared::new(Environment::Production).with(provided.clone());
        let config = BusConfig { amqp_url: Some("amqp://nowhere.invalid:1/%2f".into()), ..BusConfig::default() };
        let bus = bus_for("orders", &config, &shared).await.unwrap();
        assert!(Arc::ptr_eq(&bus, &provided), "no connection to the configured broker is tried");
    }
}
