//! Orders as clients see them.

use std::sync::Arc;

use async_graphql::{ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use shop_kernel::money::MoneyObject;

use super::entities::User;
use crate::domain::{self, OrderStatus, PaymentStatus, checkout::PostalAddressDraft};

/// An order: what was bought at what price (a snapshot taken at checkout), where it ships,
/// and where it is in its life. Readable by its owner and by admins.
#[derive(Clone, Debug)]
pub struct Order(pub Arc<domain::Order>);

impl Order {
    /// The view of `order`.
    pub fn new(order: impl Into<Arc<domain::Order>>) -> Self {
        Self(order.into())
    }
}

/// An order: what was bought at what price (a snapshot taken at checkout), where it ships,
/// and where it is in its life. Readable by its owner and by admins.
#[Object]
impl Order {
    /// The order's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Who placed it.
    async fn user(&self) -> User {
        User::new(self.0.user_id)
    }

    /// What was bought, in checkout order.
    async fn lines(&self) -> Vec<OrderLine> {
        self.0.lines.iter().map(|line| OrderLine { line: line.clone(), currency: self.0.currency }).collect()
    }

    /// Where it ships (a copy of the address taken at checkout).
    async fn shipping_address(&self) -> ShippingAddress {
        ShippingAddress { address: self.0.shipping_address.clone() }
    }

    /// Σ unit price × quantity over the lines.
    async fn subtotal(&self) -> MoneyObject {
        self.0.money(self.0.subtotal_minor).into()
    }

    /// Shipping: a flat rate, free from a subtotal threshold.
    async fn shipping(&self) -> MoneyObject {
        self.0.money(self.0.shipping_minor).into()
    }

    /// Σ line taxes (each line's tax rounded once, half up).
    async fn tax(&self) -> MoneyObject {
        self.0.money(self.0.tax_minor).into()
    }

    /// The tax rate applied, in basis points (1900 = 19 %), chosen by the shipping country.
    async fn tax_rate_basis_points(&self) -> u32 {
        self.0.tax_rate_bp
    }

    /// subtotal + shipping + tax: what is charged.
    async fn total(&self) -> MoneyObject {
        self.0.money(self.0.total_minor).into()
    }

    /// Where the order is in its life.
    async fn status(&self) -> OrderStatus {
        self.0.status
    }

    /// What happened to its payment.
    async fn payment_status(&self) -> PaymentStatus {
        self.0.payment_status
    }

    /// The carrier's tracking number, once shipped.
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }

    /// Why it was cancelled, if it was.
    async fn cancellation_reason(&self) -> Option<&str> {
        self.0.cancellation_reason.as_deref()
    }

    /// The tracking timeline: every change, oldest first.
    async fn events(&self) -> Vec<OrderEvent> {
        self.0.events.iter().map(|e| OrderEvent { status: e.status, at: e.at, note: e.note.clone() }).collect()
    }

    /// When it was placed.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One bought variant, as the catalog described and priced it at checkout.
#[derive(Clone, Debug)]
pub struct OrderLine {
    line: domain::OrderLine,
    currency: shop_kernel::CurrencyCode,
}

/// One bought variant, as the catalog described and priced it at checkout.
#[Object]
impl OrderLine {
    /// The catalog product.
    async fn product_id(&self) -> ID {
        ID(self.line.product_id.clone())
    }

    /// The variant's stock keeping unit.
    async fn sku(&self) -> &str {
        &self.line.sku
    }

    /// The product's name at checkout.
    async fn product_name(&self) -> &str {
        &self.line.product_name
    }

    /// The variant's name at checkout, e.g. "Black / M".
    async fn variant_name(&self) -> &str {
        &self.line.variant_name
    }

    /// Units bought.
    async fn quantity(&self) -> i64 {
        self.line.quantity
    }

    /// Price of one unit at checkout.
    async fn unit_price(&self) -> MoneyObject {
        shop_kernel::Money::from_minor(self.line.unit_price_minor, self.currency).into()
    }

    /// unitPrice × quantity.
    async fn line_subtotal(&self) -> MoneyObject {
        shop_kernel::Money::from_minor(self.line.line_subtotal_minor, self.currency).into()
    }

    /// Tax of this line, rounded once (half up) to the currency's minor unit.
    async fn tax(&self) -> MoneyObject {
        shop_kernel::Money::from_minor(self.line.tax_minor, self.currency).into()
    }
}

/// Where an order ships: a copy taken at checkout, unaffected by later address changes.
#[derive(SimpleObject, Clone, Debug)]
pub struct ShippingAddress {
    /// The address itself.
    #[graphql(flatten)]
    address: domain::PostalAddress,
}

/// One step of an order's tracking timeline.
#[derive(SimpleObject, Clone, Debug)]
pub struct OrderEvent {
    /// The order's status after this step.
    pub status: OrderStatus,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, for people.
    pub note: Option<String>,
}

/// A variant and quantity to order.
#[derive(InputObject, Clone, Debug)]
pub struct CheckoutLineInput {
    /// The variant's SKU.
    pub sku: String,
    /// Units, 1 to 99.
    pub quantity: i32,
}

/// Where to ship an order.
#[derive(InputObject, Clone, Debug)]
pub struct ShippingAddressInput {
    /// The address itself.
    #[graphql(flatten)]
    pub address: PostalAddressDraft,
}

/// What to order: exactly one of `cartId` and `lines`, exactly one of `shippingAddress` and
/// `addressId`.
#[derive(InputObject, Clone, Debug)]
pub struct CheckoutInput {
    /// A cart to order (its lines; the cart is emptied once the order is placed).
    pub cart_id: Option<ID>,
    /// Lines to order instead of a cart: 1 to 100, each SKU once.
    pub lines: Option<Vec<CheckoutLineInput>>,
    /// Where to ship.
    pub shipping_address: Option<ShippingAddressInput>,
    /// One of your saved addresses to ship to instead.
    pub address_id: Option<ID>,
    /// The payment method's token from the payment form (e.g. `tok_visa`).
    pub payment_token: String,
    /// Your key for this checkout, 8 to 100 characters: retrying with the same key and the
    /// same input returns the same order instead of placing another.
    pub idempotency_key: String,
}

impl From<CheckoutInput> for domain::CheckoutDraft {
    fn from(input: CheckoutInput) -> Self {
        Self {
            cart_id: input.cart_id.map(|id| id.0),
            lines: input.lines.map(|lines| {
                lines
                    .into_iter()
                    .map(|l| domain::checkout::LineDraft { sku: l.sku, quantity: i64::from(l.quantity) })
                    .collect()
            }),
            shipping_address: input.shipping_address.map(|input| input.address),
            address_id: input.address_id.map(|id| id.0),
            payment_token: input.payment_token,
            idempotency_key: input.idempotency_key,
        }
    }
}
