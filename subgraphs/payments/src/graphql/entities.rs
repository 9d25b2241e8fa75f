//! The entities: `Payment` (owned here) and the orders service's `Order`, which this subgraph
//! extends. Their DataLoaders make every lookup of one operation (a whole `_entities` batch)
//! one store query.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object, Result,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::auth::{forbidden, require_user};
use uuid::Uuid;

use super::types::{Order, Payment};
use crate::{domain, error::gql, service::Payments};

/// Only the paying user or an admin may read a payment.
pub(super) fn authorize(ctx: &Context<'_>, payment: &domain::Payment) -> Result<()> {
    let principal = require_user(ctx)?;
    if principal.is_admin() || payment.paid_by(principal.user_id) { Ok(()) } else { Err(forbidden()) }
}

/// Payments by id: every payment of one operation (a whole `_entities` batch) is one query.
pub struct PaymentLoader(pub Arc<Payments>);

impl Loader<Uuid> for PaymentLoader {
    type Value = Arc<domain::Payment>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let payments = self.0.store().by_ids(keys).await.map_err(gql)?;
        Ok(payments.into_iter().map(|p| (p.id, Arc::new(p))).collect())
    }
}

/// Payments by order id, for `Order.payment`.
pub struct OrderPaymentLoader(pub Arc<Payments>);

impl Loader<String> for OrderPaymentLoader {
    type Value = Arc<domain::Payment>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let payments = self.0.store().by_orders(keys).await.map_err(gql)?;
        Ok(payments.into_iter().map(|p| (p.order_id.clone(), Arc::new(p))).collect())
    }
}

/// The refunds of payments, oldest first.
pub struct RefundLoader(pub Arc<Payments>);

impl Loader<Uuid> for RefundLoader {
    type Value = Arc<Vec<domain::Refund>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut by_payment: HashMap<Uuid, Vec<domain::Refund>> = HashMap::new();
        for refund in self.0.store().refunds_of(keys).await.map_err(gql)? {
            by_payment.entry(refund.payment_id).or_default().push(refund);
        }
        Ok(by_payment.into_iter().map(|(id, refunds)| (id, Arc::new(refunds))).collect())
    }
}

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `Payment` references; an unknown or malformed id resolves to null. Its
    /// fields check who may read them, so a refusal nulls this entity alone.
    #[graphql(entity)]
    async fn find_payment_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Payment>> {
        let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
        let payment = ctx.data::<DataLoader<PaymentLoader>>()?.load_one(id).await?;
        Ok(payment.map(Payment))
    }

    /// Resolves `Order` references. Every order resolves, with or without a payment; access
    /// is checked on `payment`, so a refusal nulls that field alone.
    #[graphql(entity)]
    async fn find_order_by_id(&self, id: ID) -> Order {
        Order { id }
    }
}
