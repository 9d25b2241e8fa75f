//! The payments GraphQL schema: a Federation v2 subgraph that owns `Payment`, extends the
//! orders service's `Order` with `payment`, and offers admins `refundCreate`.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    entities::{OrderPaymentLoader, PaymentLoader, RefundLoader},
    mutation::{MutationRoot, RefundCreateInput, RefundCreatePayload},
    query::QueryRoot,
    types::{Order, Payment, Refund},
};
pub use crate::error::{PaymentErrorCode, PaymentUserError};
use crate::service::Payments;

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
