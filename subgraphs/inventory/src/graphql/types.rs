//! The inventory's own GraphQL types: stock as a shopper may see it, the warehouse view of a
//! SKU with its audit trail (admin), and the input and payload of `stockAdjust`.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, InputObject, Result, SimpleObject};
use chrono::{DateTime, Utc};
use shop_kernel::relay::{self, PageRequest, PlainConnection};

use crate::{
    domain::StockLevel,
    error::{InventoryUserError, gql},
    service::Inventory,
};

/// What a shopper may know about stock.
#[derive(SimpleObject, Clone, Debug)]
pub struct Stock {
    /// Units that can be ordered now.
    pub available: i64,
    /// Whether at least one unit can be ordered.
    pub in_stock: bool,
}

impl Stock {
    pub(super) fn of(available: i64) -> Self {
        Self { available: available.max(0), in_stock: available > 0 }
    }
}

/// Stock of one SKU as the warehouse sees it (admin).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct StockLevelObject {
    /// Stock keeping unit.
    pub sku: String,
    /// Units in the warehouse.
    pub on_hand: i64,
    /// Units held for orders not yet paid.
    pub reserved: i64,
    /// Units that can still be sold.
    pub available: i64,
}

impl From<StockLevel> for StockLevelObject {
    fn from(level: StockLevel) -> Self {
        Self { available: level.available(), sku: level.sku, on_hand: level.on_hand, reserved: level.reserved }
    }
}

/// One audited change of stock.
#[derive(SimpleObject, Clone, Debug)]
pub struct StockAdjustment {
    /// Change of on-hand units (negative removes).
    pub delta: i64,
    /// Why it was made.
    pub reason: String,
    /// On-hand units right after.
    pub on_hand_after: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

#[ComplexObject]
impl StockLevelObject {
    /// The audit trail of this SKU, newest first.
    async fn adjustments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlainConnection<StockAdjustment>> {
        let page = PageRequest::parse(first, after.as_deref()).map_err(gql)?;
        let rows =
            ctx.data::<Arc<Inventory>>()?.adjustments(&self.sku, page.offset, page.fetch_limit()).await.map_err(gql)?;
        let rows = rows
            .into_iter()
            .map(|r| StockAdjustment {
                delta: r.delta,
                reason: r.reason,
                on_hand_after: r.on_hand_after,
                created_at: r.created_at,
            })
            .collect();
        Ok(relay::connection_from_rows(page, rows, async_graphql::connection::EmptyFields))
    }
}

/// A stock correction.
#[derive(InputObject, Clone, Debug)]
pub struct StockAdjustInput {
    /// The SKU to correct.
    pub sku: String,
    /// Units to add (positive) or remove (negative); never zero.
    pub delta: i64,
    /// Why, for the audit trail (1-200 characters).
    pub reason: String,
}

/// Result of `stockAdjust`.
#[derive(SimpleObject, Clone, Debug)]
pub struct StockAdjustPayload {
    /// Stock after the change, if it was made.
    pub stock_level: Option<StockLevelObject>,
    /// Why it was not, if it was not.
    pub user_errors: Vec<InventoryUserError>,
}
