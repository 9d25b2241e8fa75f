//! Payment reads and the query root.

use async_graphql::{Context, ID, MergedObject, Object, Result, dataloader::DataLoader};
use uuid::Uuid;

use super::{
    entities::{EntityRoot, PaymentLoader, authorize},
    types::Payment,
};

async fn payment_by_id(ctx: &Context<'_>, id: &ID) -> Result<Option<Payment>> {
    shop_kernel::auth::require_user(ctx)?;
    let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
    let Some(payment) = ctx.data::<DataLoader<PaymentLoader>>()?.load_one(id).await? else { return Ok(None) };
    authorize(ctx, &payment)?;
    Ok(Some(Payment(payment)))
}

/// Payment reads.
#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// A payment by id; null if there is none. Only the paying user or an admin may read it
    /// (`UNAUTHENTICATED` / `FORBIDDEN` otherwise).
    #[graphql(requires_scopes = "customer", requires_scopes = "admin")]
    async fn payment(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Payment>> {
        payment_by_id(ctx, &id).await
    }
}

/// The query root: payment reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(PaymentQuery, EntityRoot);
