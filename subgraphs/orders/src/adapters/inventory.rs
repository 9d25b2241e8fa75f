//! Availability from the inventory subgraph: a hint taken before the order is written (the
//! reservation, made by the saga, is the authority).

use std::{collections::HashMap, time::Duration};

use serde_json::json;

use super::{GraphqlClient, UpstreamError, at, entities, variant_representations};

const STOCK: &str =
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on ProductVariant { sku stock { available } } } }";

/// The inventory subgraph.
pub struct InventoryClient(GraphqlClient);

impl InventoryClient {
    /// A client of the inventory at `url`.
    pub fn new(url: &str, budget: Duration) -> Self {
        Self(GraphqlClient::new("inventory", url, budget))
    }

    /// Units available now, by SKU (a SKU without a stock record has 0).
    pub async fn available(&self, skus: &[String]) -> Result<HashMap<String, i64>, UpstreamError> {
        let response = self.0.execute(STOCK, json!({ "r": variant_representations(skus) }), None, true).await?;
        let list = entities(&response, skus.len(), "inventory")?;
        Ok(skus
            .iter()
            .zip(list)
            .map(|(sku, entity)| (sku.clone(), at(&entity, "/stock/available").as_i64().unwrap_or(0)))
            .collect())
    }
}
