//! The cart as clients see it, and the catalog entities its lines point at.

use std::{sync::Arc, time::Duration};

use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain;

/// A catalog product, referenced by id: the catalog resolves its fields.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(unresolvable = "id")]
pub struct Product {
    /// Product id (the key shared with the catalog).
    pub id: ID,
}

/// A catalog variant, referenced by SKU: the catalog resolves its fields, price included.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(unresolvable = "sku")]
pub struct ProductVariant {
    /// Stock keeping unit (the key shared with the catalog).
    pub sku: String,
}

/// A shopping cart: a guest's, reached by its id alone, or a signed-in user's. It holds
/// what the shopper wants, not prices: those come from the catalog through each line's
/// `variant`.
#[derive(Clone, Debug)]
pub struct Cart {
    cart: Arc<domain::Cart>,
    expires_at: DateTime<Utc>,
}

impl Cart {
    /// The view of `cart`, which expires `ttl` after its last change.
    pub fn new(cart: impl Into<Arc<domain::Cart>>, ttl: Duration) -> Self {
        let cart = cart.into();
        let expires_at = cart.expires_at(ttl);
        Self { cart, expires_at }
    }
}

/// A shopping cart: a guest's, reached by its id alone, or a signed-in user's. It holds
/// what the shopper wants, not prices: those come from the catalog through each line's
/// `variant`.
#[Object]
impl Cart {
    /// The cart's id. For a guest cart it is the only key to the cart: keep it private.
    async fn id(&self) -> ID {
        ID(self.cart.id().to_string())
    }

    /// The lines, oldest first (at most 100).
    async fn lines(&self) -> Vec<CartLine> {
        self.cart.lines().iter().cloned().map(CartLine).collect()
    }

    /// Units over all lines.
    async fn total_quantity(&self) -> i64 {
        self.cart.total_quantity()
    }

    /// Incremented by every change. Pass it as `expectedVersion` to have a change refused if
    /// the cart changed since you read it.
    async fn version(&self) -> i64 {
        self.cart.version()
    }

    /// When the cart was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.cart.created_at()
    }

    /// When the cart last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.cart.updated_at()
    }

    /// When the cart will be deleted unless it changes before (every change postpones it).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// Some units of one product variant in a cart.
#[derive(Clone, Debug)]
pub struct CartLine(domain::CartLine);

/// Some units of one product variant in a cart.
#[Object]
impl CartLine {
    /// The line's id, stable for as long as the cart holds this SKU.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The variant's stock keeping unit (unique within the cart).
    async fn sku(&self) -> &str {
        self.0.sku.as_str()
    }

    /// Units wanted, 1 to 99.
    async fn quantity(&self) -> i32 {
        i32::from(self.0.quantity.get())
    }

    /// The product (name, images and more come from the catalog).
    async fn product(&self) -> Product {
        Product { id: ID(self.0.product_id.to_string()) }
    }

    /// The variant (name and price come from the catalog).
    async fn variant(&self) -> ProductVariant {
        ProductVariant { sku: self.0.sku.as_str().to_owned() }
    }
}
