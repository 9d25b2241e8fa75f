//! The facts of an event a notification is rendered from, stored with the notification so a
//! retry renders the same message however the event's contract evolves.

use serde::{Deserialize, Serialize};
use shop_messaging::contracts::OrderSummary;

/// What a notification says, taken from the event that caused it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// The order it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// What the order contains and costs, when the event carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<OrderSummary>,
    /// The order's total, when the event carried it without a summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_minor: Option<i64>,
    /// The currency of `total_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Why an order was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The carrier's tracking number of a shipped order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// A refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
}

/// A refund's amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// This refund, minor units.
    pub amount_minor: i64,
    /// Every refund of the payment so far, minor units.
    pub refunded_total_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}
