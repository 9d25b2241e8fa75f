//! Inventory writes (admin). Business refusals come back as `userErrors` and change nothing.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};

use super::{
    require_admin,
    types::{StockAdjustInput, StockAdjustPayload},
};
use crate::{
    domain::{Adjustment, AdjustmentError},
    error::{InventoryErrorCode, InventoryUserError, gql},
    service::{AdjustError, Inventory},
};

/// Inventory writes (admin).
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Corrects the on-hand stock of a SKU and records why. Never takes stock below what
    /// is reserved for orders.
    #[graphql(requires_scopes = "admin")]
    async fn stock_adjust(&self, ctx: &Context<'_>, input: StockAdjustInput) -> Result<StockAdjustPayload> {
        require_admin(ctx)?;
        let refuse = |field: &str, message: String, code| {
            Ok(StockAdjustPayload {
                stock_level: None,
                user_errors: vec![InventoryUserError::new(&["input", field], message, code)],
            })
        };
        let adjustment = match Adjustment::new(&input.sku, input.delta, &input.reason) {
            Ok(a) => a,
            Err(error) => {
                let field = match error {
                    AdjustmentError::BadDelta => "delta",
                    AdjustmentError::BadReason => "reason",
                    AdjustmentError::BadSku(_) => "sku",
                };
                return refuse(field, error.to_string(), InventoryErrorCode::Invalid);
            }
        };
        match ctx.data::<Arc<Inventory>>()?.adjust(&adjustment).await {
            Ok(level) => Ok(StockAdjustPayload { stock_level: Some(level.into()), user_errors: vec![] }),
            Err(AdjustError::UnknownSku) => {
                refuse("sku", "no stock recorded for this SKU".into(), InventoryErrorCode::NotFound)
            }
            Err(error @ AdjustError::WouldGoBelowReserved { .. }) => {
                refuse("delta", error.to_string(), InventoryErrorCode::InsufficientStock)
            }
            Err(AdjustError::Store(error)) => Err(gql(error)),
        }
    }
}
