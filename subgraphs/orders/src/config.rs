//! Settings of the orders service (see `shop_kernel::config` for how they are loaded:
//! `config/orders.yaml`, then `ORDERS__*` environment variables).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shop_kernel::{
    CurrencyCode,
    auth::AuthConfig,
    config::{BusConfig, Common, DatabaseConfig, Problems, ServiceConfig, Settings},
};

use crate::domain::PricingRules;

/// Orders settings; the defaults are the embedded mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// `listen`. Default `0.0.0.0:4005`.
    #[serde(flatten)]
    pub service: ServiceConfig,
    /// `database_url`: `postgres://…` in production, `sqlite://…` when embedded (default
    /// `sqlite://data/orders.db?mode=rwc`); `max_connections` (default 16).
    #[serde(flatten)]
    pub database: DatabaseConfig,
    /// `amqp_url`, `exchange` and `queue_prefix` of the saga's broker.
    #[serde(flatten)]
    pub bus: BusConfig,
    /// The catalog subgraph (authoritative prices). Default `http://localhost:4002/graphql`.
    pub catalog_url: String,
    /// The inventory subgraph (availability). Default `http://localhost:4003/graphql`.
    pub inventory_url: String,
    /// The users subgraph (saved addresses). Default `http://localhost:4001/graphql`.
    pub users_url: String,
    /// The cart subgraph (cart lines read at checkout). Default `http://localhost:4004/graphql`.
    pub cart_url: String,
    /// Time budget of one call to a neighbouring subgraph, retries included, in milliseconds.
    /// Default 2000.
    pub upstream_timeout_ms: u64,
    /// The currency orders are priced in; catalog prices in another currency are refused
    /// (`CURRENCY_MISMATCH`). Default `USD`.
    pub currency: CurrencyCode,
    /// Flat shipping per order, minor units. Default 499.
    pub shipping_flat_minor: i64,
    /// Orders whose subtotal is at least this ship free, minor units. Default 5000.
    pub free_shipping_threshold_minor: i64,
    /// Tax rate by shipping country (ISO 3166-1 alpha-2), in basis points (1 bp = 0.01 %).
    /// Default: demo rates, VAT-style: `US` 0 (US sales tax depends on the state, which this
    /// demo does not model), `CA` 500 (GST), `GB` 2000, `DE` 1900, `FR` 2000, `NL` 2100,
    /// `SE` 2500, `CH` 810, `AU` 1000, `JP` 1000. Setting it replaces the whole map; keys are
    /// matched case-insensitively. Rates above 10000 (100 %) are refused.
    // Left out of the layered defaults, so a configured map replaces the demo one instead of
    // being merged into it.
    #[serde(default = "demo_tax_rates", skip_serializing)]
    pub tax_rates_bp: HashMap<String, u32>,
    /// Tax rate of countries not listed in `tax_rates_bp`, basis points. Default 0.
    pub default_tax_bp: u32,
    /// How long payments may take to authorize before the order is cancelled, seconds.
    /// Default 120.
    pub payment_timeout_secs: u64,
    /// How long inventory may take to answer a reservation before the order is cancelled,
    /// seconds. Default 900.
    pub pending_timeout_secs: u64,
    /// How often the sweeper looks for timed-out orders, seconds. Default 5.
    pub sweep_interval_secs: u64,
    /// How access tokens are verified (admin operations need the `ADMIN` role).
    pub auth: AuthConfig,
}

fn demo_tax_rates() -> HashMap<String, u32> {
    [
        ("US", 0),
        ("CA", 500),
        ("GB", 2_000),
        ("DE", 1_900),
        ("FR", 2_000),
        ("NL", 2_100),
        ("SE", 2_500),
        ("CH", 810),
        ("AU", 1_000),
        ("JP", 1_000),
    ]
    .into_iter()
    .map(|(country, bp)| (country.to_owned(), bp))
    .collect()
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            service: ServiceConfig::on_port(4005),
            database: DatabaseConfig::embedded("orders.db", 16),
            bus: BusConfig::default(),
            catalog_url: "http://localhost:4002/graphql".into(),
            inventory_url: "http://localhost:4003/graphql".into(),
            users_url: "http://localhost:4001/graphql".into(),
            cart_url: "http://localhost:4004/graphql".into(),
            upstream_timeout_ms: 2_000,
            currency: CurrencyCode::Usd,
            shipping_flat_minor: 499,
            free_shipping_threshold_minor: 5_000,
            tax_rates_bp: demo_tax_rates(),
            default_tax_bp: 0,
            payment_timeout_secs: 120,
            pending_timeout_secs: 900,
            sweep_interval_secs: 5,
            auth: AuthConfig::default(),
        }
    }
}

impl Settings for OrdersConfig {
    fn common(&mut self) -> Common<'_> {
        Common {
            database: Some(&mut self.database),
            bus: Some(&mut self.bus),
            auth: Some(&mut self.auth),
            neighbours: vec![
                ("catalog", &mut self.catalog_url),
                ("inventory", &mut self.inventory_url),
                ("users", &mut self.users_url),
                ("cart", &mut self.cart_url),
            ],
            ..Common::new(&mut self.service)
        }
    }

    fn validate(&self, problems: &mut Problems) {
        problems.within("upstream_timeout_ms", self.upstream_timeout_ms, 1..=60_000);
        problems.within("shipping_flat_minor", self.shipping_flat_minor, 0..=i64::from(u32::MAX));
        problems.within("free_shipping_threshold_minor", self.free_shipping_threshold_minor, 0..=i64::MAX);
        for (country, rate) in &self.tax_rates_bp {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
                problems.refuse(&format!("tax_rates_bp.{country}"), "is not an ISO 3166-1 alpha-2 country code");
            }
            problems.within(&format!("tax_rates_bp.{country}"), *rate, 0..=10_000);
        }
        problems.within("default_tax_bp", self.default_tax_bp, 0..=10_000);
        problems.within("payment_timeout_secs", self.payment_timeout_secs, 1..=24 * 3600);
        problems.within("pending_timeout_secs", self.pending_timeout_secs, 1..=7 * 24 * 3600);
        problems.within("sweep_interval_secs", self.sweep_interval_secs, 1..=3600);
    }
}

impl OrdersConfig {
    /// The shipping and tax rules.
    pub fn pricing(&self) -> PricingRules {
        PricingRules {
            shipping_flat_minor: self.shipping_flat_minor,
            free_shipping_threshold_minor: self.free_shipping_threshold_minor,
            tax_rates_bp: self.tax_rates_bp.iter().map(|(c, bp)| (c.to_ascii_uppercase(), *bp)).collect(),
            default_tax_bp: self.default_tax_bp,
        }
    }
}
