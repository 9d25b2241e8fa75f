//! Cart writes. Business refusals come back as `userErrors` and change nothing; every
//! mutation takes an optional `expectedVersion` (from `Cart.version`) to refuse a change
//! based on a stale read.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use shop_kernel::auth::{forbidden, require_user, viewer};
use uuid::Uuid;

use super::types::Cart;
use crate::{
    domain::{LineRef, LineUpdate, NewLine, RuleError, parse_all},
    error::gql,
    error::{CartErrorCode, CartUserError},
    service::{Carts, ChangeError},
};

impl CartUserError {
    fn cart_not_found(argument: &str) -> Self {
        Self::at(vec![argument.to_owned()], "no such cart (it may have expired)", CartErrorCode::CartNotFound)
    }

    /// The user error for a refused rule; `entry` is the path of the input list entry at
    /// the given position.
    fn from_rule(error: &RuleError, list: &[&str], entry: impl Fn(usize) -> Vec<String>) -> Self {
        let message = error.to_string();
        let at = |line: usize, field: &str| {
            let mut path = entry(line);
            path.push(field.to_owned());
            path
        };
        let list = || list.iter().map(|s| (*s).to_owned()).collect();
        let (field, code) = match error {
            RuleError::InvalidQuantity { line } => (at(*line, "quantity"), CartErrorCode::InvalidQuantity),
            RuleError::InvalidSku { line, .. } => (at(*line, "sku"), CartErrorCode::Invalid),
            RuleError::InvalidProductId { line, .. } | RuleError::ProductMismatch { line, .. } => {
                (at(*line, "productId"), CartErrorCode::Invalid)
            }
            RuleError::AmbiguousLine { line } => (entry(*line), CartErrorCode::Invalid),
            RuleError::LineNotFound { line } => (entry(*line), CartErrorCode::LineNotFound),
            RuleError::NoLines => (list(), CartErrorCode::Invalid),
            RuleError::TooManyLines => (list(), CartErrorCode::TooManyLines),
            RuleError::VersionConflict { .. } => (vec!["expectedVersion".to_owned()], CartErrorCode::VersionConflict),
        };
        Self::at(field, message, code)
    }
}

/// The path of entry `index` of the input list at `list`.
fn entry_of(list: &'static [&'static str]) -> impl Fn(usize) -> Vec<String> {
    move |index| list.iter().map(|s| (*s).to_owned()).chain([index.to_string()]).collect()
}

/// A variant to put in a cart.
#[derive(InputObject, Clone, Debug)]
pub struct CartLineInput {
    /// The catalog product.
    pub product_id: ID,
    /// The variant's SKU.
    pub sku: String,
    /// Units to add, 1 to 99 (summed with what the cart already holds of this SKU).
    pub quantity: i32,
}

/// What a new cart starts with.
#[derive(InputObject, Clone, Debug, Default)]
pub struct CartCreateInput {
    /// Lines to put in the cart.
    pub lines: Option<Vec<CartLineInput>>,
}

/// A new quantity for a line, named by exactly one of `lineId` and `sku`.
#[derive(InputObject, Clone, Debug)]
pub struct CartLineUpdateInput {
    /// The line's id.
    pub line_id: Option<ID>,
    /// The line's SKU.
    pub sku: Option<String>,
    /// The new quantity, 1 to 99 (remove a line with `cartLinesRemove`).
    pub quantity: i32,
}

macro_rules! payloads {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(SimpleObject, Clone, Debug)]
        pub struct $name {
            /// The cart after the change; null if it was refused.
            pub cart: Option<Cart>,
            /// Why the change was refused; empty if it was made.
            pub user_errors: Vec<CartUserError>,
        }

        impl From<Outcome> for $name {
            fn from(Outcome { cart, user_errors }: Outcome) -> Self {
                Self { cart, user_errors }
            }
        }
    )*};
}

payloads! {
    /// Result of `cartCreate`.
    CartCreatePayload;
    /// Result of `cartLinesAdd`.
    CartLinesAddPayload;
    /// Result of `cartLinesUpdate`.
    CartLinesUpdatePayload;
    /// Result of `cartLinesRemove`.
    CartLinesRemovePayload;
    /// Result of `cartClear`.
    CartClearPayload;
    /// Result of `cartMerge`.
    CartMergePayload;
}

/// What every cart mutation returns, before it is wrapped in its payload type.
struct Outcome {
    cart: Option<Cart>,
    user_errors: Vec<CartUserError>,
}

impl Outcome {
    fn refused(user_errors: Vec<CartUserError>) -> Self {
        Self { cart: None, user_errors }
    }
}

fn carts<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Carts>> {
    ctx.data::<Arc<Carts>>()
}

/// Turns the result of a change into an outcome: refusals become user errors, while
/// `FORBIDDEN` and store failures stay GraphQL errors. `user_error` maps a refused rule.
fn outcome(
    ctx: &Context<'_>,
    result: Result<crate::domain::Cart, ChangeError>,
    cart_argument: &str,
    user_error: impl Fn(&RuleError) -> CartUserError,
) -> Result<Outcome> {
    match result {
        Ok(cart) => Ok(Outcome { cart: Some(Cart::new(cart, carts(ctx)?.idle_ttl())), user_errors: Vec::new() }),
        Err(ChangeError::NotFound) => Ok(Outcome::refused(vec![CartUserError::cart_not_found(cart_argument)])),
        Err(ChangeError::Forbidden) => Err(forbidden()),
        Err(ChangeError::Rule(error)) => Ok(Outcome::refused(vec![user_error(&error)])),
        Err(ChangeError::Store(error)) => Err(gql(error)),
    }
}

fn parse_new_lines(lines: &[CartLineInput], list: &'static [&'static str]) -> Result<Vec<NewLine>, Vec<CartUserError>> {
    parse_all(lines, |i, l| NewLine::parse(i, l.product_id.as_str(), &l.sku, i64::from(l.quantity)))
        .map_err(|errors| errors.iter().map(|e| CartUserError::from_rule(e, list, entry_of(list))).collect())
}

/// Cart writes: anyone may create a cart and change a guest cart whose id they hold; a
/// user's cart may be changed by that user only (`FORBIDDEN` for anyone else).
pub struct MutationRoot;

/// Cart writes: anyone may create a cart and change a guest cart whose id they hold; a
/// user's cart may be changed by that user only (`FORBIDDEN` for anyone else).
#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a cart. A signed-in caller gets their current cart if they have one (with
    /// `lines` added to it), or else a new cart of their own; an anonymous caller gets a new
    /// guest cart, whose id is the only key to it.
    async fn cart_create(&self, ctx: &Context<'_>, input: Option<CartCreateInput>) -> Result<CartCreatePayload> {
        const LINES: &[&str] = &["input", "lines"];
        let lines = input.and_then(|i| i.lines).unwrap_or_default();
        let lines = match parse_new_lines(&lines, LINES) {
            Ok(lines) => lines,
            Err(user_errors) => return Ok(Outcome::refused(user_errors).into()),
        };
        let result = carts(ctx)?.create(viewer(ctx), &lines).await;
        outcome(ctx, result, "input", |e| CartUserError::from_rule(e, LINES, entry_of(LINES))).map(Into::into)
    }

    /// Adds lines to a cart. A SKU the cart already holds has its quantity increased.
    async fn cart_lines_add(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        lines: Vec<CartLineInput>,
        expected_version: Option<i64>,
    ) -> Result<CartLinesAddPayload> {
        const LINES: &[&str] = &["lines"];
        let Ok(id) = Uuid::parse_str(cart_id.as_str()) else {
            return Ok(Outcome::refused(vec![CartUserError::cart_not_found("cartId")]).into());
        };
        let lines = match parse_new_lines(&lines, LINES) {
            Ok(lines) => lines,
            Err(user_errors) => return Ok(Outcome::refused(user_errors).into()),
        };
        let result =
            carts(ctx)?.change(id, viewer(ctx), expected_version, |cart, now| cart.add_lines(&lines, now)).await;
        outcome(ctx, result, "cartId", |e| CartUserError::from_rule(e, LINES, entry_of(LINES))).map(Into::into)
    }

    /// Sets the quantity of lines of a cart.
    async fn cart_lines_update(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        lines: Vec<CartLineUpdateInput>,
        expected_version: Option<i64>,
    ) -> Result<CartLinesUpdatePayload> {
        const LINES: &[&str] = &["lines"];
        let Ok(id) = Uuid::parse_str(cart_id.as_str()) else {
            return Ok(Outcome::refused(vec![CartUserError::cart_not_found("cartId")]).into());
        };
        let parsed = parse_all(&lines, |i, l| {
            LineUpdate::parse(i, l.line_id.as_ref().map(|id| id.as_str()), l.sku.as_deref(), i64::from(l.quantity))
        });
        let updates = match parsed {
            Ok(updates) => updates,
            Err(errors) => {
                let user_errors = errors.iter().map(|e| CartUserError::from_rule(e, LINES, entry_of(LINES))).collect();
                return Ok(Outcome::refused(user_errors).into());
            }
        };
        let result =
            carts(ctx)?.change(id, viewer(ctx), expected_version, |cart, now| cart.update_lines(&updates, now)).await;
        outcome(ctx, result, "cartId", |e| CartUserError::from_rule(e, LINES, entry_of(LINES))).map(Into::into)
    }

    /// Removes lines from a cart, named by id (`lineIds`) or by SKU (`skus`).
    async fn cart_lines_remove(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        line_ids: Option<Vec<ID>>,
        skus: Option<Vec<String>>,
        expected_version: Option<i64>,
    ) -> Result<CartLinesRemovePayload> {
        let Ok(id) = Uuid::parse_str(cart_id.as_str()) else {
            return Ok(Outcome::refused(vec![CartUserError::cart_not_found("cartId")]).into());
        };
        let (line_ids, skus) = (line_ids.unwrap_or_default(), skus.unwrap_or_default());
        let by_id = line_ids.len();
        // One list for the rules: ids first, then SKUs; errors are mapped back to their argument.
        let entry = move |index: usize| match index.checked_sub(by_id) {
            None => vec!["lineIds".to_owned(), index.to_string()],
            Some(index) => vec!["skus".to_owned(), index.to_string()],
        };
        let raw: Vec<(Option<&str>, Option<&str>)> = line_ids
            .iter()
            .map(|id| (Some(id.as_str()), None))
            .chain(skus.iter().map(|sku| (None, Some(sku.as_str()))))
            .collect();
        let references = match parse_all(&raw, |i, (id, sku)| LineRef::parse(i, *id, *sku).map_err(|e| vec![e])) {
            Ok(references) => references,
            Err(errors) => {
                let user_errors = errors.iter().map(|e| CartUserError::from_rule(e, &["lineIds"], entry)).collect();
                return Ok(Outcome::refused(user_errors).into());
            }
        };
        let result = carts(ctx)?
            .change(id, viewer(ctx), expected_version, |cart, now| cart.remove_lines(&references, now))
            .await;
        outcome(ctx, result, "cartId", |e| CartUserError::from_rule(e, &["lineIds"], entry)).map(Into::into)
    }

    /// Removes every line of a cart.
    async fn cart_clear(
        &self,
        ctx: &Context<'_>,
        cart_id: ID,
        expected_version: Option<i64>,
    ) -> Result<CartClearPayload> {
        let Ok(id) = Uuid::parse_str(cart_id.as_str()) else {
            return Ok(Outcome::refused(vec![CartUserError::cart_not_found("cartId")]).into());
        };
        let result = carts(ctx)?.change(id, viewer(ctx), expected_version, |cart, now| Ok(cart.clear(now))).await;
        outcome(ctx, result, "cartId", |e| CartUserError::from_rule(e, &[], entry_of(&[]))).map(Into::into)
    }

    /// Moves a guest cart's lines into the signed-in caller's cart (created if they have
    /// none), summing quantities of a SKU in both (capped at 99), and deletes the guest cart,
    /// in one atomic step. `expectedVersion` is that of the caller's cart. Needs sign-in.
    async fn cart_merge(
        &self,
        ctx: &Context<'_>,
        guest_cart_id: ID,
        expected_version: Option<i64>,
    ) -> Result<CartMergePayload> {
        let user = require_user(ctx)?.user_id;
        let Ok(guest_id) = Uuid::parse_str(guest_cart_id.as_str()) else {
            return Ok(Outcome::refused(vec![CartUserError::cart_not_found("guestCartId")]).into());
        };
        let result = carts(ctx)?.merge(user, guest_id, expected_version).await;
        outcome(ctx, result, "guestCartId", |e| CartUserError::from_rule(e, &[], entry_of(&[]))).map(Into::into)
    }
}
