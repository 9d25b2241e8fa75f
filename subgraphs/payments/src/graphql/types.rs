//! Payments and refunds as clients see them, and the orders service's `Order` they belong to.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use shop_kernel::{CurrencyCode, Money, money::MoneyObject};

use super::entities::{OrderPaymentLoader, RefundLoader, authorize};
use crate::domain::{self, FailureCode, PaymentStatus, RefundStatus};

/// The payment of one order: what was authorized on the customer's payment method, what was
/// captured, and what was refunded. No card data is ever stored.
///
/// Every field but `id` is for the paying user or an admin (`UNAUTHENTICATED` /
/// `FORBIDDEN` otherwise). The check sits on the fields, not the entity resolver, so a refused
/// payment nulls that one entity instead of the router's whole `_entities` batch.
#[derive(Clone, Debug)]
pub struct Payment(pub Arc<domain::Payment>);

impl Payment {
    fn visible(&self, ctx: &Context<'_>) -> Result<()> {
        authorize(ctx, &self.0)
    }
}

/// The payment of one order: what was authorized on the customer's payment method, what was
/// captured, and what was refunded. No card data is ever stored. Every field but `id` is for
/// the paying user or an admin (`UNAUTHENTICATED` / `FORBIDDEN` otherwise).
#[Object]
impl Payment {
    /// The payment's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The order it pays for.
    async fn order_id(&self, ctx: &Context<'_>) -> Result<ID> {
        self.visible(ctx)?;
        Ok(ID(self.0.order_id.clone()))
    }

    /// The amount the order asked for: authorized, unless the payment failed.
    async fn amount(&self, ctx: &Context<'_>) -> Result<MoneyObject> {
        self.visible(ctx)?;
        Ok(self.0.money(self.0.amount_minor).into())
    }

    /// The amount held on the payment method (zero if the authorization failed).
    async fn authorized_amount(&self, ctx: &Context<'_>) -> Result<MoneyObject> {
        self.visible(ctx)?;
        Ok(self.0.money(self.0.authorized_minor).into())
    }

    /// The amount taken.
    async fn captured_amount(&self, ctx: &Context<'_>) -> Result<MoneyObject> {
        self.visible(ctx)?;
        Ok(self.0.money(self.0.captured_minor).into())
    }

    /// The amount given back, pending refunds included.
    async fn refunded_amount(&self, ctx: &Context<'_>) -> Result<MoneyObject> {
        self.visible(ctx)?;
        Ok(self.0.money(self.0.refunded_minor).into())
    }

    /// The amount that may still be refunded.
    async fn refundable_amount(&self, ctx: &Context<'_>) -> Result<MoneyObject> {
        self.visible(ctx)?;
        Ok(self.0.money(self.0.refundable_minor()).into())
    }

    /// Where the payment is in its life.
    async fn status(&self, ctx: &Context<'_>) -> Result<PaymentStatus> {
        self.visible(ctx)?;
        Ok(self.0.status)
    }

    /// Why the authorization failed; null unless the status is `FAILED`.
    async fn failure_code(&self, ctx: &Context<'_>) -> Result<Option<FailureCode>> {
        self.visible(ctx)?;
        Ok(self.0.failure_code)
    }

    /// Refunds of this payment, oldest first.
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        self.visible(ctx)?;
        let refunds = ctx.data::<DataLoader<RefundLoader>>()?.load_one(self.0.id).await?;
        let currency = self.0.currency;
        Ok(refunds.map(|r| r.iter().map(|refund| Refund::new(refund.clone(), currency)).collect()).unwrap_or_default())
    }

    /// When the payment was first authorized (or failed).
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        self.visible(ctx)?;
        Ok(self.0.created_at)
    }

    /// When the payment last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        self.visible(ctx)?;
        Ok(self.0.updated_at)
    }
}

/// Money given back to the customer for a captured payment.
#[derive(Clone, Debug)]
pub struct Refund {
    refund: domain::Refund,
    currency: CurrencyCode,
}

impl Refund {
    /// The view of `refund`, of a payment in `currency`.
    pub fn new(refund: domain::Refund, currency: CurrencyCode) -> Self {
        Self { refund, currency }
    }
}

/// Money given back to the customer for a captured payment.
#[Object]
impl Refund {
    /// The refund's id.
    async fn id(&self) -> ID {
        ID(self.refund.id.to_string())
    }

    /// The amount given back.
    async fn amount(&self) -> MoneyObject {
        Money::from_minor(self.refund.amount_minor, self.currency).into()
    }

    /// Why it was given back.
    async fn reason(&self) -> &str {
        &self.refund.reason
    }

    /// Whether the money went back (`SUCCEEDED`), is on its way (`PENDING`) or was refused.
    async fn status(&self) -> RefundStatus {
        self.refund.status
    }

    /// When it was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.refund.created_at
    }
}

/// An order (owned by the orders service); this subgraph adds its payment.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Order {
    /// The order's id (the key shared with the orders service).
    pub id: ID,
}

#[ComplexObject]
impl Order {
    /// The order's payment; null while it has none. Only the paying user or an admin may
    /// read it (`UNAUTHENTICATED` / `FORBIDDEN` otherwise).
    #[graphql(requires_scopes = "customer", requires_scopes = "admin")]
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        shop_kernel::auth::require_user(ctx)?;
        let Some(payment) = ctx.data::<DataLoader<OrderPaymentLoader>>()?.load_one(self.id.to_string()).await? else {
            return Ok(None);
        };
        authorize(ctx, &payment)?;
        Ok(Some(Payment(payment)))
    }
}
