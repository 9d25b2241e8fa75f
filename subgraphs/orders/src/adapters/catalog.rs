//! Authoritative names and prices from the catalog subgraph.

use std::{str::FromStr, time::Duration};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use shop_kernel::{CurrencyCode, Money};

use super::{GraphqlClient, UpstreamError, at, entities, variant_representations};

const VARIANTS: &str = "query($r: [_Any!]!) { _entities(representations: $r) { \
    ... on ProductVariant { sku name price { amount currencyCode } product { id name status } } } }";

/// A variant as the catalog sells it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogVariant {
    /// Its SKU.
    pub sku: String,
    /// What distinguishes it, e.g. "Black / M".
    pub variant_name: String,
    /// The product's id, if the variant has a product.
    pub product_id: Option<String>,
    /// The product's name.
    pub product_name: String,
    /// Whether the product is for sale (`ACTIVE`).
    pub for_sale: bool,
    /// The unit price, exactly, if its currency is one the shop knows.
    pub price: Option<Money>,
    /// The price's currency as the catalog sent it.
    pub currency_code: String,
}

/// The catalog subgraph.
pub struct CatalogClient(GraphqlClient);

impl CatalogClient {
    /// A client of the catalog at `url`.
    pub fn new(url: &str, budget: Duration) -> Self {
        Self(GraphqlClient::new("catalog", url, budget))
    }

    /// The variants of `skus`, in order; `None` for a SKU the catalog does not know.
    pub async fn variants(&self, skus: &[String]) -> Result<Vec<Option<CatalogVariant>>, UpstreamError> {
        let response = self.0.execute(VARIANTS, json!({ "r": variant_representations(skus) }), None, true).await?;
        Ok(entities(&response, skus.len(), "catalog")?.iter().map(parse).collect())
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

fn parse(entity: &Value) -> Option<CatalogVariant> {
    let sku = entity.get("sku")?.as_str()?.to_owned();
    let product = entity.get("product").filter(|p| !p.is_null());
    let currency_code = at(entity, "/price/currencyCode").as_str().unwrap_or_default().to_owned();
    let price = CurrencyCode::parse(&currency_code)
        .and_then(|currency| Money::from_decimal(decimal(at(entity, "/price/amount"))?, currency).ok());
    Some(CatalogVariant {
        sku,
        variant_name: at(entity, "/name").as_str().unwrap_or_default().to_owned(),
        product_id: product.and_then(|p| at(p, "/id").as_str()).map(str::to_owned),
        product_name: product.and_then(|p| at(p, "/name").as_str()).unwrap_or_default().to_owned(),
        for_sale: product.is_some_and(|p| at(p, "/status") == "ACTIVE"),
        price,
        currency_code,
    })
}
