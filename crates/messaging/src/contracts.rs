//! Versioned payloads of the checkout saga and the queues that carry them.
//!
//! Field names are camelCase in JSON; money is in integer minor units. A breaking change to a
//! payload is a new type (`….v2`), never an edit of an existing one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bus::QueueSpec;
use crate::envelope::Event;

/// Commands to inventory.
pub const INVENTORY_COMMANDS: &str = "inventory.commands";
/// Commands to payments.
pub const PAYMENTS_COMMANDS: &str = "payments.commands";
/// Results the order saga reacts to.
pub const ORDERS_SAGA: &str = "orders.saga";
/// Facts the customer is told about (notifications).
pub const NOTIFICATIONS_EVENTS: &str = "notifications.events";
/// Purchases that make a review verified, and their cancellations (reviews).
pub const REVIEWS_PURCHASES: &str = "reviews.purchases";
/// Orders placed from a cart, whose lines leave it (cart).
pub const CART_ORDERS: &str = "cart.orders";

/// Every durable consumer queue of the system and its bindings. Every service declares ALL of
/// them when it connects (idempotent), so a message published before its consumer first starts
/// is queued, never dropped as unroutable.
pub fn topology() -> Vec<QueueSpec> {
    vec![
        inventory_commands_queue(),
        payments_commands_queue(),
        orders_saga_queue(),
        notifications_queue(),
        reviews_purchases_queue(),
        cart_orders_queue(),
    ]
}

/// Inventory's queue: the saga's stock commands.
pub fn inventory_commands_queue() -> QueueSpec {
    QueueSpec::new(INVENTORY_COMMANDS, ["inventory.reserve.*", "inventory.commit.*", "inventory.release.*"])
}

/// Payments' queue: the saga's payment commands.
pub fn payments_commands_queue() -> QueueSpec {
    QueueSpec::new(PAYMENTS_COMMANDS, ["payment.authorize.*", "payment.capture.*", "payment.void.*"])
}

/// The orders saga's queue: every answer of inventory and payments.
pub fn orders_saga_queue() -> QueueSpec {
    QueueSpec::new(
        ORDERS_SAGA,
        [
            "inventory.reserved.*",
            "inventory.rejected.*",
            "inventory.expired.*",
            "inventory.committed.*",
            "inventory.commit_failed.*",
            "payment.authorized.*",
            "payment.failed.*",
            "payment.captured.*",
            "payment.capture_failed.*",
            "payment.voided.*",
            "payment.refunded.*",
        ],
    )
}

/// The notifications service's queue: every fact a customer is told about.
pub fn notifications_queue() -> QueueSpec {
    QueueSpec::new(
        NOTIFICATIONS_EVENTS,
        [
            "user.registered.*",
            "order.confirmed.*",
            "order.cancelled.*",
            "order.shipped.*",
            "order.delivered.*",
            "payment.refunded.*",
        ],
    )
}

/// The reviews service's queue: the orders that make reviews verified purchases, and the
/// cancellations that take that back.
pub fn reviews_purchases_queue() -> QueueSpec {
    QueueSpec::new(REVIEWS_PURCHASES, ["order.confirmed.*", "order.delivered.*", "order.cancelled.*"])
}

/// Declares a payload struct with its derives and its `Event` type name.
macro_rules! event {
    ($(#[$meta:meta])* $name:ident = $type:literal { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Event for $name {
            const TYPE: &'static str = $type;
        }
    };
}

/// The cart's queue: orders placed from a cart, whose lines then leave it.
pub fn cart_orders_queue() -> QueueSpec {
    QueueSpec::new(CART_ORDERS, ["cart.checked_out.*"])
}

/// A quantity of one SKU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLine {
    /// The stock keeping unit.
    pub sku: String,
    /// How many units.
    pub quantity: i64,
}

/// A line that could not be reserved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    /// The stock keeping unit.
    pub sku: String,
    /// Units the order asked for.
    pub requested: i64,
    /// Units that were available.
    pub available: i64,
}

/// One line of an order as the order's facts carry it: what was bought, at what price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineFact {
    /// The catalog product.
    pub product_id: String,
    /// The stock keeping unit of the variant.
    pub sku: String,
    /// Product name at order time.
    pub product_name: String,
    /// Variant name at order time.
    pub variant_name: String,
    /// How many units.
    pub quantity: i64,
    /// Unit price in minor units at order time.
    pub unit_price_minor: i64,
    /// `quantity × unit price`, in minor units, before tax.
    pub line_subtotal_minor: i64,
}

/// What an order contains and costs, as its announcements carry it, so consumers (emails,
/// verified purchases) need not ask the orders service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    /// ISO 4217 code.
    pub currency: String,
    /// The lines, in order.
    pub lines: Vec<OrderLineFact>,
    /// Sum of the lines, minor units.
    pub subtotal_minor: i64,
    /// Shipping, minor units.
    pub shipping_minor: i64,
    /// Tax, minor units.
    pub tax_minor: i64,
    /// What the customer pays, minor units.
    pub total_minor: i64,
}

event! {
    /// A customer account was created.
    UserRegistered = "user.registered.v1" {
        /// The new user.
        user_id: String,
        /// Where to write to them.
        email: String,
        /// How to address them.
        name: String,
        /// When the account was created.
        registered_at: DateTime<Utc>,
    }
}

event! {
    /// Orders → cart: order `order_id` was placed from cart `cart_id` with these lines; they
    /// leave the cart (lines added after the checkout stay), once however often this arrives
    /// (the cart remembers its latest 20 checkouts; redeliveries come within minutes).
    CartCheckedOut = "cart.checked_out.v1" {
        /// The cart the order was placed from.
        cart_id: String,
        /// The order placed.
        order_id: String,
        /// What the order took from the cart.
        lines: Vec<StockLine>,
    }
}

event! {
    /// Reserve every line of an order, all or nothing.
    InventoryReserve = "inventory.reserve.v1" {
        /// The order.
        order_id: String,
        /// What to reserve.
        lines: Vec<StockLine>,
    }
}
event! {
    /// Turn the order's reservation into a sale.
    InventoryCommit = "inventory.commit.v1" {
        /// The order.
        order_id: String,
    }
}
event! {
    /// Give the order's reserved stock back (compensation).
    InventoryRelease = "inventory.release.v1" {
        /// The order.
        order_id: String,
        /// Why, for the audit trail.
        reason: String,
    }
}
event! {
    /// Every line is reserved until `expires_at`.
    InventoryReserved = "inventory.reserved.v1" {
        /// The order.
        order_id: String,
        /// When the sweeper releases the reservation unless committed.
        expires_at: DateTime<Utc>,
    }
}
event! {
    /// Nothing was reserved: some lines are short.
    InventoryRejected = "inventory.rejected.v1" {
        /// The order.
        order_id: String,
        /// The lines that could not be reserved.
        shortages: Vec<Shortage>,
    }
}
event! {
    /// The reservation became a sale.
    InventoryCommitted = "inventory.committed.v1" {
        /// The order.
        order_id: String,
    }
}
event! {
    /// A commit arrived after the order's hold had lapsed and its units were no longer free:
    /// nothing was taken.
    InventoryCommitFailed = "inventory.commit_failed.v1" {
        /// The order.
        order_id: String,
        /// The lines that were short when the commit arrived.
        shortages: Vec<Shortage>,
    }
}
event! {
    /// The sweeper released the reservation because it expired.
    InventoryExpired = "inventory.expired.v1" {
        /// The order.
        order_id: String,
    }
}
event! {
    /// The provider refused to capture the order's authorization (it lapsed, say): nothing was
    /// taken, the authorization may still hold the amount.
    PaymentCaptureFailed = "payment.capture_failed.v1" {
        /// The order.
        order_id: String,
        /// The payment.
        payment_id: String,
        /// Why, as a failure code (`DECLINED`, …).
        code: String,
    }
}
event! {
    /// Authorize the order's amount; the order id is the idempotency key of the charge.
    PaymentAuthorize = "payment.authorize.v1" {
        /// The order (and idempotency key).
        order_id: String,
        /// Who pays.
        user_id: String,
        /// Amount in minor units.
        amount_minor: i64,
        /// ISO 4217 code.
        currency: String,
        /// The provider token of the payment method.
        payment_token: String,
    }
}
event! {
    /// Capture the authorized amount.
    PaymentCapture = "payment.capture.v1" {
        /// The order.
        order_id: String,
    }
}
event! {
    /// Void if authorized, refund if captured, no-op if none.
    PaymentVoid = "payment.void.v1" {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    }
}
event! {
    /// The amount is authorized.
    PaymentAuthorized = "payment.authorized.v1" {
        /// The order.
        order_id: String,
        /// The provider's payment id.
        payment_id: String,
        /// Amount in minor units.
        amount_minor: i64,
        /// ISO 4217 code.
        currency: String,
    }
}
event! {
    /// The payment could not be authorized or captured.
    PaymentFailed = "payment.failed.v1" {
        /// The order.
        order_id: String,
        /// `DECLINED` | `INSUFFICIENT_FUNDS` | `TIMEOUT` | `PROVIDER_UNAVAILABLE`.
        code: String,
        /// Human-readable detail.
        reason: String,
    }
}
event! {
    /// The authorized amount was captured.
    PaymentCaptured = "payment.captured.v1" {
        /// The order.
        order_id: String,
        /// The provider's payment id.
        payment_id: String,
        /// Amount in minor units.
        amount_minor: i64,
        /// ISO 4217 code.
        currency: String,
    }
}
event! {
    /// The authorization was voided (or there was none).
    PaymentVoided = "payment.voided.v1" {
        /// The order.
        order_id: String,
        /// The voided payment, if there was one.
        payment_id: Option<String>,
    }
}
event! {
    /// A captured payment was (partly) refunded.
    PaymentRefunded = "payment.refunded.v1" {
        /// The order.
        order_id: String,
        /// The provider's payment id.
        payment_id: String,
        /// The provider's refund id.
        refund_id: String,
        /// This refund, in minor units.
        amount_minor: i64,
        /// All refunds of the payment so far, in minor units.
        refunded_total_minor: i64,
        /// ISO 4217 code.
        currency: String,
        /// Who paid (absent in messages from before it was added).
        #[serde(default)]
        user_id: Option<String>,
    }
}
event! {
    /// The order's status changed; drives live tracking.
    OrderUpdated = "order.updated.v1" {
        /// The order.
        order_id: String,
        /// Its owner.
        user_id: String,
        /// The new order status.
        status: String,
        /// The payment status.
        payment_status: String,
        /// When it changed.
        at: DateTime<Utc>,
        /// Optional detail, e.g. a cancellation reason.
        note: Option<String>,
    }
}
event! {
    /// The order is paid and its stock committed.
    OrderConfirmed = "order.confirmed.v1" {
        /// The order.
        order_id: String,
        /// Its owner.
        user_id: String,
        /// Total in minor units.
        total_minor: i64,
        /// ISO 4217 code.
        currency: String,
        /// What the order contains and costs (absent in messages from before it was added).
        #[serde(default)]
        summary: Option<OrderSummary>,
    }
}
event! {
    /// The order was cancelled.
    OrderCancelled = "order.cancelled.v1" {
        /// The order.
        order_id: String,
        /// Its owner.
        user_id: String,
        /// Why.
        reason: String,
        /// What the order contains and costs (absent in messages from before it was added).
        #[serde(default)]
        summary: Option<OrderSummary>,
    }
}
event! {
    /// The order left the warehouse.
    OrderShipped = "order.shipped.v1" {
        /// The order.
        order_id: String,
        /// Its owner.
        user_id: String,
        /// The carrier's tracking number.
        tracking_number: String,
        /// What the order contains and costs (absent in messages from before it was added).
        #[serde(default)]
        summary: Option<OrderSummary>,
    }
}
event! {
    /// The order reached the customer.
    OrderDelivered = "order.delivered.v1" {
        /// The order.
        order_id: String,
        /// Its owner.
        user_id: String,
        /// What the order contains and costs (absent in messages from before it was added).
        #[serde(default)]
        summary: Option<OrderSummary>,
    }
}
