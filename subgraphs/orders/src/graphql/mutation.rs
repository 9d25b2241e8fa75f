//! Order writes. Business refusals come back as `userErrors` and change nothing; a caller who
//! may not touch an order gets a `FORBIDDEN` error.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use axum::http::header::AUTHORIZATION;
use shop_kernel::{
    auth::{forbidden, require_admin, require_user},
    federation::authenticated,
    server::RequestHeaders,
};
use uuid::Uuid;

use super::types::{CheckoutInput, Order};
use crate::{
    domain::CheckoutDraft,
    error::{OrderErrorCode, OrderUserError, OrdersError, gql},
    service::{
        Orders,
        checkout::CheckoutOutcome,
        lifecycle::{Outcome, SagaError},
    },
};

macro_rules! payloads {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(SimpleObject, Clone, Debug)]
        pub struct $name {
            /// The order after the change; null if it was refused.
            pub order: Option<Order>,
            /// Why the change was refused; empty if it was made.
            pub user_errors: Vec<OrderUserError>,
        }

        impl From<Result<Order, Vec<OrderUserError>>> for $name {
            fn from(result: Result<Order, Vec<OrderUserError>>) -> Self {
                match result {
                    Ok(order) => Self { order: Some(order), user_errors: Vec::new() },
                    Err(user_errors) => Self { order: None, user_errors },
                }
            }
        }
    )*};
}

payloads! {
    /// Result of `checkout`: the placed order (PENDING while stock and payment are settled;
    /// follow it with `orderUpdated`).
    CheckoutPayload;
    /// Result of `orderCancel`.
    OrderCancelPayload;
    /// Result of `orderShip`.
    OrderShipPayload;
    /// Result of `orderDeliver`.
    OrderDeliverPayload;
}

fn orders<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Orders>> {
    ctx.data::<Arc<Orders>>()
}

fn refused(user_errors: Vec<OrderUserError>) -> Result<Order, Vec<OrderUserError>> {
    Err(user_errors)
}

fn not_found() -> Vec<OrderUserError> {
    vec![OrderUserError::new(&["id"], "no such order", OrderErrorCode::OrderNotFound)]
}

/// Turns the result of a saga step into a payload result: refusals become user errors, while
/// `FORBIDDEN` and failures stay GraphQL errors.
fn step_result(result: Result<Outcome, SagaError>) -> Result<Result<Order, Vec<OrderUserError>>> {
    match result {
        Ok(outcome) => Ok(Ok(Order::new(outcome.order))),
        Err(SagaError::UnknownOrder(_)) => Ok(Err(not_found())),
        Err(SagaError::InvalidTransition(error)) => Ok(Err(vec![OrderUserError::new(
            &["id"],
            format!("an order that is {} cannot be {}", error.from, verb(error.trigger)),
            OrderErrorCode::InvalidTransition,
        )])),
        Err(SagaError::PaymentNotCaptured(status)) => Ok(Err(vec![OrderUserError::new(
            &["id"],
            format!("the payment is {status}; an order ships once its payment is captured"),
            OrderErrorCode::PaymentNotCaptured,
        )])),
        Err(SagaError::Forbidden) => Err(forbidden()),
        Err(SagaError::Store(error)) => Err(gql(error)),
        Err(error) => Err(gql(OrdersError::Message(error.to_string()))),
    }
}

fn verb(trigger: crate::domain::Trigger) -> &'static str {
    use crate::domain::Trigger;
    match trigger {
        Trigger::Ship => "shipped",
        Trigger::Deliver => "delivered",
        _ => "cancelled",
    }
}

fn parse_id(id: &ID) -> Option<Uuid> {
    Uuid::parse_str(id.as_str()).ok()
}

/// Order writes.
pub struct MutationRoot;

/// Order writes.
#[Object(name = "Mutation")]
impl MutationRoot {
    /// Places an order from a cart or from explicit lines, at the catalog's current prices,
    /// and returns at once with the order PENDING: stock is then reserved and the payment
    /// authorized in the background (follow it with `subscription { orderUpdated }`).
    /// Refused with `userErrors` (nothing written) when a line cannot be sold or is out of
    /// stock. Retrying with the same `idempotencyKey` and input returns the same order.
    /// Needs sign-in.
    #[graphql(directive = authenticated::apply())]
    async fn checkout(&self, ctx: &Context<'_>, input: CheckoutInput) -> Result<CheckoutPayload> {
        let user_id = require_user(ctx)?.user_id;
        let header = |name: &str| {
            ctx.data_opt::<RequestHeaders>()
                .and_then(|headers| headers.0.get(name))
                .and_then(|value| value.to_str().ok())
        };
        let authorization = header(AUTHORIZATION.as_str());
        let traceparent = header("traceparent").filter(|value| shop_messaging::trace::is_valid(value));
        let draft = CheckoutDraft::from(input);
        let outcome = orders(ctx)?.checkout.place(user_id, authorization, traceparent, &draft).await.map_err(gql)?;
        let result = match outcome {
            CheckoutOutcome::Placed(order) => Ok(Order::new(*order)),
            CheckoutOutcome::Refused(user_errors) => refused(user_errors),
        };
        Ok(result.into())
    }

    /// Cancels an order: by its owner before it ships, or by an admin. Stock still held is
    /// released and the payment voided (or refunded if it was captured). `reason` (up to 500
    /// characters) is shown on the order.
    #[graphql(directive = authenticated::apply())]
    async fn order_cancel(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> Result<OrderCancelPayload> {
        let principal = require_user(ctx)?;
        let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            let error = OrderUserError::new(&["reason"], "must have at most 500 characters", OrderErrorCode::Invalid);
            return Ok(refused(vec![error]).into());
        }
        let Some(id) = parse_id(&id) else {
            return Ok(refused(not_found()).into());
        };
        Ok(step_result(orders(ctx)?.saga.cancel(id, principal, reason).await)?.into())
    }

    /// Records that a confirmed order left with the carrier (admin).
    #[graphql(requires_scopes = "admin")]
    async fn order_ship(&self, ctx: &Context<'_>, id: ID, tracking_number: String) -> Result<OrderShipPayload> {
        require_admin(ctx)?;
        let tracking_number = tracking_number.trim().to_owned();
        if tracking_number.is_empty() || tracking_number.chars().count() > 64 {
            let error =
                OrderUserError::new(&["trackingNumber"], "must have 1 to 64 characters", OrderErrorCode::Invalid);
            return Ok(refused(vec![error]).into());
        }
        let Some(id) = parse_id(&id) else {
            return Ok(refused(not_found()).into());
        };
        Ok(step_result(orders(ctx)?.saga.ship(id, &tracking_number).await)?.into())
    }

    /// Records that a shipped order reached the customer (admin).
    #[graphql(requires_scopes = "admin")]
    async fn order_deliver(&self, ctx: &Context<'_>, id: ID) -> Result<OrderDeliverPayload> {
        require_admin(ctx)?;
        let Some(id) = parse_id(&id) else {
            return Ok(refused(not_found()).into());
        };
        Ok(step_result(orders(ctx)?.saga.deliver(id).await)?.into())
    }
}
