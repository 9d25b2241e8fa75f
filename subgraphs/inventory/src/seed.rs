//! Loads the demo stock from `seed/catalog.json` (each variant's `stock`), only for SKUs
//! with no stock record yet, so reseeding never overwrites real stock movements.

use serde::Deserialize;

use crate::store::{InventoryStore, StoreError};

/// The parts of the seed file inventory reads.
#[derive(Debug, Deserialize)]
pub struct SeedStock {
    pub products: Vec<SeedProduct>,
}

/// A product of the seed file.
#[derive(Debug, Deserialize)]
pub struct SeedProduct {
    pub variants: Vec<SeedVariant>,
}

/// A variant of the seed file.
#[derive(Debug, Deserialize)]
pub struct SeedVariant {
    pub sku: String,
    pub stock: i64,
}

/// Records the stock of every SKU that has none yet; returns how many SKUs it looked at.
pub async fn apply(store: &InventoryStore, seed: &SeedStock) -> Result<usize, StoreError> {
    let mut count = 0;
    for variant in seed.products.iter().flat_map(|p| &p.variants) {
        store.seed(&variant.sku, variant.stock.max(0)).await?;
        count += 1;
    }
    Ok(count)
}
