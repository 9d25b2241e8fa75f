//! Payment writes (admin): refunds. Business refusals come back as `userErrors` and change
//! nothing.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use rust_decimal::Decimal;
use shop_kernel::{Money, auth::require_admin};

use super::types::{Payment, Refund};
use crate::{
    domain::{RefundInputError, RefundRefusal, parse_key, parse_reason},
    error::{PaymentErrorCode, PaymentUserError, gql},
    service::{Payments, RefundError, RefundRequest},
};

/// A refund to make.
#[derive(InputObject, Clone, Debug)]
pub struct RefundCreateInput {
    /// The order whose payment to refund.
    pub order_id: ID,
    /// The amount to give back, in units of the payment's currency (e.g. `12.50`); at most
    /// what was captured and not yet refunded.
    pub amount: Decimal,
    /// Why (1-500 characters); kept with the refund.
    pub reason: String,
    /// Chosen by the client (1-100 of A-Z, a-z, 0-9, `-`, `_`, `.`): sending the same request
    /// with the same key again returns the same refund and refunds nothing more.
    pub idempotency_key: String,
}

/// Result of `refundCreate`.
#[derive(SimpleObject, Clone, Debug)]
pub struct RefundCreatePayload {
    /// The payment after the refund; null if it was refused.
    pub payment: Option<Payment>,
    /// The refund; null if it was refused.
    pub refund: Option<Refund>,
    /// Why the refund was refused; empty if it was made.
    pub user_errors: Vec<PaymentUserError>,
}

impl RefundCreatePayload {
    fn refused(error: PaymentUserError) -> Self {
        Self { payment: None, refund: None, user_errors: vec![error] }
    }
}

/// Payment writes (admin only).
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Gives back part or all of what an order's payment captured, through the payment
    /// provider; the refunds of a payment never add up to more than it captured. Announced to
    /// other services as `payment.refunded`.
    #[graphql(requires_scopes = "admin")]
    async fn refund_create(&self, ctx: &Context<'_>, input: RefundCreateInput) -> Result<RefundCreatePayload> {
        use PaymentErrorCode as Code;
        require_admin(ctx)?;
        let refuse = |field: &str, message: String, code| {
            Ok(RefundCreatePayload::refused(PaymentUserError::new(&["input", field], message, code)))
        };
        let key = match parse_key(&input.idempotency_key) {
            Ok(key) => key,
            Err(error) => return refuse("idempotencyKey", error.to_string(), Code::Invalid),
        };
        let reason = match parse_reason(&input.reason) {
            Ok(reason) => reason,
            Err(error @ RefundInputError::BadReason) => return refuse("reason", error.to_string(), Code::Invalid),
            Err(error) => return refuse("idempotencyKey", error.to_string(), Code::Invalid),
        };
        let payments = ctx.data::<Arc<Payments>>()?;
        let Some(payment) = payments.store().by_order(input.order_id.as_str()).await.map_err(gql)? else {
            return refuse("orderId", "the order has no payment".into(), Code::PaymentNotFound);
        };
        let amount = match Money::from_decimal(input.amount, payment.currency) {
            Ok(amount) if amount.minor_units > 0 => amount,
            Ok(_) => return refuse("amount", RefundRefusal::InvalidAmount.to_string(), Code::InvalidAmount),
            Err(error) => return refuse("amount", error.to_string(), Code::InvalidAmount),
        };
        let request = RefundRequest {
            order_id: payment.order_id.clone(),
            amount_minor: Some(amount.minor_units),
            reason,
            idempotency_key: key,
        };
        match payments.refund(&request).await {
            Ok(done) => {
                let currency = done.payment.currency;
                Ok(RefundCreatePayload {
                    payment: Some(Payment(Arc::new(done.payment))),
                    refund: Some(Refund::new(done.refund, currency)),
                    user_errors: vec![],
                })
            }
            Err(RefundError::PaymentNotFound) => {
                refuse("orderId", "the order has no payment".into(), Code::PaymentNotFound)
            }
            Err(RefundError::Refused(error)) => match error {
                RefundRefusal::NotCaptured(_) => refuse("orderId", error.to_string(), Code::NotCaptured),
                RefundRefusal::InvalidAmount => refuse("amount", error.to_string(), Code::InvalidAmount),
                RefundRefusal::ExceedsRefundable { refundable } => {
                    let left = Money::from_minor(refundable, payment.currency);
                    let message = format!("at most {} {} can still be refunded", left.amount(), left.currency.as_str());
                    refuse("amount", message, Code::AmountExceedsRefundable)
                }
            },
            Err(error @ RefundError::KeyReused) => {
                refuse("idempotencyKey", error.to_string(), Code::IdempotencyKeyReused)
            }
            Err(error @ RefundError::ProviderRefused(_)) => {
                refuse("orderId", error.to_string(), Code::ProviderDeclined)
            }
            Err(error @ RefundError::ProviderUnavailable(_)) => {
                refuse("idempotencyKey", error.to_string(), Code::ProviderUnavailable)
            }
            Err(RefundError::Flow(error)) => Err(gql(error)),
        }
    }
}
