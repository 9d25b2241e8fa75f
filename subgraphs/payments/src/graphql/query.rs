//! Payment reads and the federation entry points.

use async_graphql::{Context, ID, MergedObject, Object, Result, dataloader::DataLoader};
use uuid::Uuid;

use super::{
    PaymentLoader, authorize,
    types::{Order, Payment},
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

/// The query root: payment reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(PaymentQuery, EntityRoot);
