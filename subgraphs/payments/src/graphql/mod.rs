//! The payments GraphQL schema: a Federation v2 subgraph that owns `Payment`, extends the
//! orders service's `Order` with `payment`, and offers admins `refundCreate`.

mod mutation;
mod query;
mod types;

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, EmptySubscription, Result, Schema, SchemaBuilder,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::auth::{forbidden, require_user};
use uuid::Uuid;

pub use self::{
    mutation::{MutationRoot, RefundCreateInput, RefundCreatePayload},
    query::QueryRoot,
    types::{Order, Payment, Refund},
};
pub use crate::error::{PaymentErrorCode, PaymentUserError};
use crate::{domain, error::gql, service::Payments};

/// The payments subgraph schema.
pub type PaymentsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `payments`.
pub fn schema(payments: Arc<Payments>) -> PaymentsSchema {
    builder()
        .data(DataLoader::new(PaymentLoader(payments.clone()), tokio::spawn).max_batch_size(500))
        .data(DataLoader::new(OrderPaymentLoader(payments.clone()), tokio::spawn).max_batch_size(500))
        .data(DataLoader::new(RefundLoader(payments.clone()), tokio::spawn).max_batch_size(500))
        .data(payments)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}

/// Only the paying user or an admin may read a payment.
fn authorize(ctx: &Context<'_>, payment: &domain::Payment) -> Result<()> {
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
