//! An order as the service knows it: a snapshot of what was bought at what price, where it
//! ships, and where it is in its life.

use chrono::{DateTime, Utc};
use shop_kernel::{CurrencyCode, Money};
use uuid::Uuid;

use super::{
    checkout::PostalAddress,
    status::{OrderStatus, PaymentStatus},
};

/// One bought variant, as the catalog described and priced it at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The catalog product.
    pub product_id: String,
    /// The variant's SKU.
    pub sku: String,
    /// The product's name at checkout.
    pub product_name: String,
    /// The variant's name at checkout.
    pub variant_name: String,
    /// Units bought.
    pub quantity: i64,
    /// Price of one unit at checkout, minor units.
    pub unit_price_minor: i64,
    /// Unit price × quantity.
    pub line_subtotal_minor: i64,
    /// Tax of the line, rounded once (see [`super::totals`]).
    pub tax_minor: i64,
}

/// One entry of the tracking timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The status the order had after this step.
    pub status: OrderStatus,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, for people (e.g. the cancellation reason, a tracking number).
    pub note: Option<String>,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// Who placed it.
    pub user_id: Uuid,
    /// The client's key of the checkout that placed it.
    pub idempotency_key: String,
    /// The fingerprint of that checkout request.
    pub request_hash: String,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// What happened to its payment.
    pub payment_status: PaymentStatus,
    /// Currency of every amount.
    pub currency: CurrencyCode,
    /// What was bought, in checkout order.
    pub lines: Vec<OrderLine>,
    /// Where it ships.
    pub shipping_address: PostalAddress,
    /// Σ line subtotals.
    pub subtotal_minor: i64,
    /// Shipping charged.
    pub shipping_minor: i64,
    /// Σ line taxes.
    pub tax_minor: i64,
    /// subtotal + shipping + tax.
    pub total_minor: i64,
    /// The tax rate applied, basis points.
    pub tax_rate_bp: u32,
    /// The payment method, kept only until authorization is requested. Never shown.
    pub payment_token: Option<String>,
    /// The payment at payments, once authorized.
    pub payment_id: Option<String>,
    /// Refunded so far, minor units.
    pub refunded_minor: i64,
    /// The carrier's tracking number, once shipped.
    pub tracking_number: Option<String>,
    /// Why it was cancelled, if it was.
    pub cancellation_reason: Option<String>,
    /// When the current step times out (PENDING: inventory; AWAITING_PAYMENT: payment).
    pub deadline_at: Option<DateTime<Utc>>,
    /// Incremented by every change (conditional updates compare it).
    pub version: i64,
    /// The tracking timeline, oldest first.
    pub events: Vec<TimelineEntry>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Order {
    /// An amount of this order's currency.
    pub fn money(&self, minor_units: i64) -> Money {
        Money::from_minor(minor_units, self.currency)
    }
}
