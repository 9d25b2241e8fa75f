//! The shop as a whole: the one list of its subgraphs, which the launcher (`src/main.rs`),
//! `export-schema` and the end-to-end stack (`tests/e2e`) loop over, and the files it ships.

use std::path::PathBuf;

use shop_kernel::SubgraphKind;

/// Every subgraph of the shop, in the order a process starts them (users first: the others
/// verify tokens against its keys).
pub fn subgraphs() -> [SubgraphKind; 8] {
    [
        SubgraphKind::of::<shop_users::UsersService>(),
        SubgraphKind::of::<shop_catalog::CatalogService>(),
        SubgraphKind::of::<shop_inventory::InventoryService>(),
        SubgraphKind::of::<shop_cart::CartService>(),
        SubgraphKind::of::<shop_orders::OrdersService>(),
        SubgraphKind::of::<shop_payments::PaymentsService>(),
        SubgraphKind::of::<shop_notifications::NotificationsService>(),
        SubgraphKind::of::<shop_reviews::ReviewsService>(),
    ]
}

/// The demo catalog, its stock and the demo accounts' seed (`seed/catalog.json`), built into
/// the binary so `shop` seeds from any working directory.
pub const DEMO_DATA: &str = include_str!("../seed/catalog.json");

/// A file shipped in this repository (`router/router.yaml`, `schema/supergraph.graphql`),
/// found from the crate's folder so the launcher works from any working directory.
pub fn shipped_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::HashMap;

    /// The `environment:` blocks of `docker-compose.yml` (anchors resolved by the YAML parser).
    fn compose_environment() -> HashMap<String, String> {
        let text = std::fs::read_to_string(super::shipped_file("docker-compose.yml")).unwrap();
        let mut compose: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        compose.apply_merge().unwrap();
        let mut variables = HashMap::new();
        for (_, service) in compose["services"].as_mapping().unwrap() {
            let Some(environment) = service.get("environment").and_then(serde_yaml::Value::as_mapping) else {
                continue;
            };
            for (key, value) in environment {
                let value = match value {
                    serde_yaml::Value::String(text) => text.clone(),
                    other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
                };
                variables.insert(key.as_str().unwrap().to_owned(), value);
            }
        }
        variables
    }

    #[test]
    fn every_subgraph_starts_from_its_defaults_alone() {
        for kind in super::subgraphs() {
            kind.load_settings_from("", HashMap::new()).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        }
    }

    #[test]
    fn the_compose_stack_configures_every_subgraph_validly() {
        let environment = compose_environment();
        for kind in super::subgraphs() {
            let prefix = format!("{}__", kind.name().to_ascii_uppercase());
            let own: HashMap<String, String> = environment
                .iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(!own.is_empty(), "compose sets nothing for {}", kind.name());
            let mut settings = kind
                .load_settings_from("", own)
                .unwrap_or_else(|e| panic!("{} in docker-compose.yml: {e}", kind.name()));
            let common = settings.common();
            if let Some(database) = common.database {
                assert!(!database.url().starts_with("sqlite"), "{} runs on a real database in compose", kind.name());
            }
            if let Some(bus) = common.bus {
                assert!(bus.amqp_url.is_some(), "{} talks to RabbitMQ in compose", kind.name());
            }
        }
    }
}
