//! What payments does, step by step: authorize, capture, void and refund. Each step asks the
//! provider first, with no database transaction open, and then records the answer in one
//! short transaction together with the messages that announce it (the outbox) and, when a
//! message asked for it, that message's inbox entry.
//!
//! Idempotency has three layers: the inbox skips a message handled before; a payment that
//! exists is answered from, not charged again; and the provider gets a stable idempotency key
//! per operation, so even a call repeated after a crash acts once. The unique key on
//! (order, operation, idempotency key) is the last line of defence.

use std::sync::Arc;

use chrono::Utc;
use shop_kernel::CurrencyCode;
use shop_messaging::{
    Envelope,
    contracts::{
        PaymentAuthorize, PaymentAuthorized, PaymentCapture, PaymentCaptureFailed, PaymentCaptured, PaymentFailed,
        PaymentRefunded, PaymentVoid, PaymentVoided,
    },
    envelope::EnvelopeError,
    outbox::OutboxWaker,
};
use uuid::Uuid;

use crate::{
    adapters::{AuthorizeRequest, PaymentProvider, ProviderError},
    domain::{
        FailureCode, Operation, Payment, PaymentStatus, Refund, RefundRefusal, RefundStatus, SAGA_VOID_KEY,
        check_refund,
    },
    store::{Claim, Lease, NewOperation, PaymentStore, RefundResult, Reserved, StoreError, Written},
};

/// The consumer name payments records in the inbox.
pub const CONSUMER: &str = "payments";

/// How often a step re-reads a payment that changed under it before giving up for now.
const ROUNDS: usize = 3;

shop_kernel::coded_error! {
    /// Why a step of the saga could not be carried out.
    #[derive(Debug, thiserror::Error)]
    pub enum FlowError {
        /// The database failed.
        #[error(transparent)]
        Store(#[from] StoreError) => inner,
        /// A reply could not be built.
        #[error("cannot build a message: {0}")]
        Envelope(#[from] EnvelopeError) => Internal,
        /// The provider did not do it.
        #[error("payment provider: {0}")]
        Provider(ProviderError) => Internal,
        /// The payment kept changing under the step; trying again later will see it settled.
        #[error("the payment changed concurrently")]
        Contended => ServiceUnavailable,
        /// The command cannot be carried out, now or later.
        #[error("{0}")]
        Refused(String) => Internal,
    }
}

impl FlowError {
    /// Whether handling the same message again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(StoreError::Unavailable(_)) | Self::Contended => true,
            Self::Provider(error) => error.is_transient(),
            Self::Store(StoreError::Corrupt(_)) | Self::Envelope(_) | Self::Refused(_) => false,
        }
    }
}

/// A request to give money back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub order_id: String,
    /// Minor units to give back; `None`: everything still refundable (the saga's void).
    pub amount_minor: Option<i64>,
    pub reason: String,
    /// Same key and same request: the same refund, made once.
    pub idempotency_key: String,
}

/// Why a refund was not made.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no payment for this order")]
    PaymentNotFound,
    #[error(transparent)]
    Refused(RefundRefusal),
    #[error("this idempotency key was used for a different refund")]
    KeyReused,
    /// The provider refused; nothing was refunded.
    #[error("the provider refused the refund")]
    ProviderRefused(FailureCode),
    /// The provider did not confirm; the refund is pending and its amount held. The same
    /// request with the same key finishes it.
    #[error("the provider did not confirm the refund; retry with the same idempotency key")]
    ProviderUnavailable(ProviderError),
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl From<StoreError> for RefundError {
    fn from(error: StoreError) -> Self {
        Self::Flow(error.into())
    }
}

impl From<EnvelopeError> for RefundError {
    fn from(error: EnvelopeError) -> Self {
        Self::Flow(error.into())
    }
}

/// A refund that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunded {
    /// The payment after it.
    pub payment: Payment,
    pub refund: Refund,
    /// Whether this call finished it (rather than finding it finished).
    pub completed_now: bool,
}

/// Who asked for a refund, and so how it is answered.
enum Origin<'a> {
    /// A client: the refund is announced as a new conversation about the order.
    Client,
    /// A message: the announcement replies to it, with `also` (its own reply), in the same
    /// transaction as its inbox entry.
    Message { cause: &'a Envelope, claim: Claim, also: Box<Envelope> },
}

/// The payments service: its store, the provider and the outbox relay's wake-up.
pub struct Payments {
    store: Arc<PaymentStore>,
    provider: Arc<dyn PaymentProvider>,
    waker: OutboxWaker,
    command_lease: chrono::Duration,
}

fn failed_reply(cause: &Envelope, order_id: &str, code: FailureCode, reason: &str) -> Result<Envelope, EnvelopeError> {
    let event =
        PaymentFailed { order_id: order_id.to_owned(), code: code.as_str().to_owned(), reason: reason.to_owned() };
    Envelope::reply_to(&event, cause)
}

/// The answer to an authorization request for an order that has `payment`.
fn authorization_reply(cause: &Envelope, payment: &Payment) -> Result<Envelope, EnvelopeError> {
    if payment.status == PaymentStatus::Failed {
        let code = payment.failure_code.unwrap_or(FailureCode::Declined);
        return failed_reply(cause, &payment.order_id, code, code.describe());
    }
    let event = PaymentAuthorized {
        order_id: payment.order_id.clone(),
        payment_id: payment.id.to_string(),
        amount_minor: payment.authorized_minor,
        currency: payment.currency.as_str().to_owned(),
    };
    Envelope::reply_to(&event, cause)
}

fn captured_reply(cause: &Envelope, payment: &Payment) -> Result<Envelope, EnvelopeError> {
    let event = PaymentCaptured {
        order_id: payment.order_id.clone(),
        payment_id: payment.id.to_string(),
        amount_minor: payment.captured_minor,
        currency: payment.currency.as_str().to_owned(),
    };
    Envelope::reply_to(&event, cause)
}

fn voided_reply(cause: &Envelope, order_id: &str, payment_id: Option<Uuid>) -> Result<Envelope, EnvelopeError> {
    let event = PaymentVoided { order_id: order_id.to_owned(), payment_id: payment_id.map(|id| id.to_string()) };
    Envelope::reply_to(&event, cause)
}

fn authorization_of(payment: &Payment) -> Result<&str, StoreError> {
    payment
        .provider_reference
        .as_deref()
        .ok_or_else(|| StoreError::Corrupt(format!("payment {} has no provider reference", payment.id)))
}

impl Payments {
    /// The service over `store`, calling `provider`, waking the outbox relay with `waker`.
    /// `longest_call` bounds one provider call, retries included: a command holds its
    /// payment's lease that long (and a little more) at most.
    pub fn new(
        store: Arc<PaymentStore>,
        provider: Arc<dyn PaymentProvider>,
        waker: OutboxWaker,
        longest_call: std::time::Duration,
    ) -> Self {
        let command_lease = chrono::Duration::from_std(longest_call.saturating_add(std::time::Duration::from_secs(5)))
            .unwrap_or(chrono::Duration::MAX);
        Self { store, provider, waker, command_lease }
    }

    /// Runs `command` holding the lease on the order's payment, so no other capture or void
    /// of the order talks to the provider meanwhile; `Contended` (retried later) while another
    /// holds it, `None` (and `command` not run) when the order has no payment. `command` reads
    /// the payment itself, after the lease is taken.
    async fn leased<F>(&self, order_id: &str, command: F) -> Result<Option<()>, FlowError>
    where
        F: Future<Output = Result<(), FlowError>>,
    {
        let holder = Uuid::new_v4();
        match self.store.lease(order_id, holder, Utc::now() + self.command_lease).await? {
            Lease::Held => {}
            Lease::NoPayment => return Ok(None),
            Lease::Busy => {
                metrics::counter!("payments_command_lease_waits_total").increment(1);
                return Err(FlowError::Contended);
            }
        }
        let result = command.await;
        if let Err(error) = self.store.release_lease(order_id, holder).await {
            // It expires on its own; the next command of the order waits until then.
            tracing::warn!(%error, order_id, "could not release the payment's lease");
        }
        result.map(Some)
    }

    /// The store, for reads.
    pub fn store(&self) -> &PaymentStore {
        &self.store
    }

    fn wrote(&self, written: Written) -> Written {
        if written == Written::Done {
            self.waker.wake();
        }
        written
    }

    /// Answers `claim`'s message with `reply` and nothing else.
    async fn answer(&self, claim: &Claim, reply: Envelope) -> Result<(), FlowError> {
        let written = self.store.acknowledge(claim, &[reply]).await?;
        self.wrote(written);
        Ok(())
    }

    /// `payment.authorize`: charges the order once, with the order id as idempotency key,
    /// and answers `payment.authorized` or `payment.failed`. An order with a payment gets
    /// that payment's outcome again. A provider that does not answer (timeout, outage, open
    /// breaker) leaves the outcome unknown: nothing is recorded and the command is retried with
    /// the same key; the order's own payment deadline compensates the order meanwhile.
    #[tracing::instrument(skip_all, fields(order_id = %command.order_id))]
    pub async fn authorize(&self, cause: &Envelope, command: &PaymentAuthorize) -> Result<(), FlowError> {
        let claim = Claim { consumer: CONSUMER, message_id: cause.id };
        if let Some(existing) = self.store.by_order(&command.order_id).await? {
            return self.answer(&claim, authorization_reply(cause, &existing)?).await;
        }
        let currency = CurrencyCode::parse(&command.currency);
        let (Some(currency), true) = (currency, command.amount_minor > 0) else {
            tracing::error!(currency = %command.currency, amount = command.amount_minor, "malformed payment request");
            let reason = "the payment request has an invalid amount or currency";
            return self.answer(&claim, failed_reply(cause, &command.order_id, FailureCode::Declined, reason)?).await;
        };
        let key = Operation::Authorize.provider_key(&command.order_id, None);
        let request =
            AuthorizeRequest { token: command.payment_token.clone(), amount_minor: command.amount_minor, currency };
        let result = self.provider.authorize(&request, &key).await;
        if let Err(error) = result
            && error.is_transient()
        {
            // No answer is not a refusal: the provider may have authorized. Nothing is recorded
            // and the command is retried with the same idempotency key until the provider
            // says what happened; if the order was cancelled meanwhile, its late authorization
            // is voided, so no hold is orphaned and no second hold is made.
            metrics::counter!("payments_authorizations_total", "outcome" => "UNKNOWN").increment(1);
            return Err(FlowError::Provider(error));
        }

        let now = Utc::now();
        let mut payment = Payment {
            id: Uuid::now_v7(),
            order_id: command.order_id.clone(),
            user_id: command.user_id.clone(),
            currency,
            amount_minor: command.amount_minor,
            authorized_minor: 0,
            captured_minor: 0,
            refunded_minor: 0,
            status: PaymentStatus::Failed,
            failure_code: None,
            provider_reference: None,
            created_at: now,
            updated_at: now,
        };
        match &result {
            Ok(receipt) => {
                payment.status = PaymentStatus::Authorized;
                payment.authorized_minor = command.amount_minor;
                payment.provider_reference = Some(receipt.reference.clone());
            }
            Err(error) => payment.failure_code = Some(error.failure_code()),
        }
        let outcome = payment.failure_code.map_or("SUCCEEDED", FailureCode::as_str);
        let op = NewOperation {
            operation: Operation::Authorize,
            idempotency_key: key,
            amount_minor: command.amount_minor,
            outcome: outcome.to_owned(),
            provider_reference: payment.provider_reference.clone(),
        };
        let reply = authorization_reply(cause, &payment)?;
        match self.wrote(self.store.record_authorization(&claim, &payment, &op, &[reply]).await?) {
            Written::Done => {
                metrics::counter!("payments_authorizations_total", "outcome" => outcome).increment(1);
                Ok(())
            }
            Written::Duplicate => Ok(()),
            // Another delivery of the order's request recorded its payment first: answer from it.
            Written::Conflict => match self.store.by_order(&command.order_id).await? {
                Some(existing) => self.answer(&claim, authorization_reply(cause, &existing)?).await,
                None => Err(FlowError::Contended),
            },
        }
    }

    /// `payment.capture`: takes the authorized amount and answers `payment.captured`
    /// (again, for a payment captured before).
    #[tracing::instrument(skip_all, fields(order_id = %command.order_id))]
    pub async fn capture(&self, cause: &Envelope, command: &PaymentCapture) -> Result<(), FlowError> {
        match self.leased(&command.order_id, self.capture_leased(cause, command)).await? {
            Some(()) => Ok(()),
            None => Err(FlowError::Refused(format!("order {} has no payment to capture", command.order_id))),
        }
    }

    async fn capture_leased(&self, cause: &Envelope, command: &PaymentCapture) -> Result<(), FlowError> {
        let claim = Claim { consumer: CONSUMER, message_id: cause.id };
        for _ in 0..ROUNDS {
            let Some(payment) = self.store.by_order(&command.order_id).await? else {
                return Err(FlowError::Refused(format!("order {} has no payment to capture", command.order_id)));
            };
            match payment.status {
                PaymentStatus::Captured | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => {
                    return self.answer(&claim, captured_reply(cause, &payment)?).await;
                }
                // Voided first: the order was cancelled, there is nothing to take. Answered
                // with nothing rather than dead-lettered.
                PaymentStatus::Voided | PaymentStatus::Failed => {
                    tracing::info!(status = payment.status.as_str(), "capture of a payment that will not be taken");
                    self.wrote(self.store.acknowledge(&claim, &[]).await?);
                    return Ok(());
                }
                PaymentStatus::Authorized => {}
            }
            let key = Operation::Capture.provider_key(&command.order_id, None);
            let receipt = match self.provider.capture(authorization_of(&payment)?, payment.authorized_minor, &key).await
            {
                Ok(receipt) => receipt,
                Err(error) if error.is_transient() => return Err(FlowError::Provider(error)),
                // Refused for good: the order is told, so it is cancelled (and the hold voided)
                // rather than left confirmed with money never taken.
                Err(error) => {
                    tracing::error!(%error, "the provider refused the capture");
                    metrics::counter!("payments_capture_failures_total").increment(1);
                    let event = PaymentCaptureFailed {
                        order_id: payment.order_id.clone(),
                        payment_id: payment.id.to_string(),
                        code: error.failure_code().as_str().to_owned(),
                    };
                    return self.answer(&claim, Envelope::reply_to(&event, cause)?).await;
                }
            };
            let captured = Payment {
                status: PaymentStatus::Captured,
                captured_minor: payment.authorized_minor,
                ..payment.clone()
            };
            let op = NewOperation {
                operation: Operation::Capture,
                idempotency_key: key,
                amount_minor: captured.captured_minor,
                outcome: "SUCCEEDED".into(),
                provider_reference: Some(receipt.reference),
            };
            let reply = captured_reply(cause, &captured)?;
            let written = self
                .store
                .record_transition(&claim, &payment, PaymentStatus::Captured, captured.captured_minor, &op, &[reply])
                .await?;
            if self.wrote(written) != Written::Conflict {
                return Ok(());
            }
        }
        Err(FlowError::Contended)
    }

    /// `payment.void`: releases an authorization, refunds what was captured, and answers
    /// `payment.voided` (with no payment id when the order has no payment). Idempotent.
    #[tracing::instrument(skip_all, fields(order_id = %command.order_id))]
    pub async fn void(&self, cause: &Envelope, command: &PaymentVoid) -> Result<(), FlowError> {
        match self.leased(&command.order_id, self.void_leased(cause, command)).await? {
            Some(()) => Ok(()),
            None => {
                let claim = Claim { consumer: CONSUMER, message_id: cause.id };
                self.answer(&claim, voided_reply(cause, &command.order_id, None)?).await
            }
        }
    }

    async fn void_leased(&self, cause: &Envelope, command: &PaymentVoid) -> Result<(), FlowError> {
        let claim = Claim { consumer: CONSUMER, message_id: cause.id };
        for _ in 0..ROUNDS {
            let Some(payment) = self.store.by_order(&command.order_id).await? else {
                return self.answer(&claim, voided_reply(cause, &command.order_id, None)?).await;
            };
            let reply = voided_reply(cause, &command.order_id, Some(payment.id))?;
            match payment.status {
                PaymentStatus::Voided | PaymentStatus::Failed => return self.answer(&claim, reply).await,
                PaymentStatus::Authorized => {
                    let key = Operation::Void.provider_key(&command.order_id, None);
                    let receipt =
                        self.provider.void(authorization_of(&payment)?, &key).await.map_err(FlowError::Provider)?;
                    let op = NewOperation {
                        operation: Operation::Void,
                        idempotency_key: key,
                        amount_minor: payment.authorized_minor,
                        outcome: "SUCCEEDED".into(),
                        provider_reference: Some(receipt.reference),
                    };
                    let written =
                        self.store.record_transition(&claim, &payment, PaymentStatus::Voided, 0, &op, &[reply]).await?;
                    if self.wrote(written) != Written::Conflict {
                        return Ok(());
                    }
                }
                PaymentStatus::Captured | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => {
                    let earlier = self.store.refund_by_key(payment.id, SAGA_VOID_KEY).await?;
                    let settled = match &earlier {
                        Some(refund) => refund.status == RefundStatus::Succeeded,
                        None => payment.refundable_minor() == 0,
                    };
                    if settled {
                        return self.answer(&claim, reply).await;
                    }
                    let request = RefundRequest {
                        order_id: command.order_id.clone(),
                        amount_minor: None,
                        reason: command.reason.clone(),
                        idempotency_key: SAGA_VOID_KEY.to_owned(),
                    };
                    let origin = Origin::Message { cause, claim, also: Box::new(reply.clone()) };
                    match self.refund_from(&request, origin).await {
                        Ok(done) if done.completed_now => return Ok(()),
                        Ok(_) => return self.answer(&claim, reply).await,
                        // The payment changed meanwhile: look again.
                        Err(RefundError::Refused(_) | RefundError::PaymentNotFound | RefundError::KeyReused) => {}
                        Err(RefundError::ProviderUnavailable(error)) => return Err(FlowError::Provider(error)),
                        Err(RefundError::ProviderRefused(code)) => {
                            return Err(FlowError::Refused(format!(
                                "the provider refused the refund ({})",
                                code.as_str()
                            )));
                        }
                        Err(RefundError::Flow(error)) => return Err(error),
                    }
                }
            }
        }
        Err(FlowError::Contended)
    }

    /// Gives money back to the customer, at most what was captured and not yet refunded, and
    /// announces it as `payment.refunded`. The same idempotency key with the same request
    /// returns the same refund without asking the provider again.
    pub async fn refund(&self, request: &RefundRequest) -> Result<Refunded, RefundError> {
        self.refund_from(request, Origin::Client).await
    }

    #[tracing::instrument(skip_all, fields(order_id = %request.order_id))]
    async fn refund_from(&self, request: &RefundRequest, origin: Origin<'_>) -> Result<Refunded, RefundError> {
        let mut payment = self.store.by_order(&request.order_id).await?.ok_or(RefundError::PaymentNotFound)?;
        let provider_key = Operation::Refund.provider_key(&request.order_id, Some(&request.idempotency_key));
        let mut refund = None;
        for _ in 0..ROUNDS {
            if let Some(existing) = self.store.refund_by_key(payment.id, &request.idempotency_key).await? {
                refund = Some(same_refund(request, existing)?);
                break;
            }
            let amount = request.amount_minor.unwrap_or_else(|| payment.refundable_minor());
            check_refund(&payment, amount).map_err(RefundError::Refused)?;
            let now = Utc::now();
            let new = Refund {
                id: Uuid::now_v7(),
                payment_id: payment.id,
                order_id: payment.order_id.clone(),
                amount_minor: amount,
                reason: request.reason.clone(),
                idempotency_key: request.idempotency_key.clone(),
                status: RefundStatus::Pending,
                failure_code: None,
                provider_reference: None,
                created_at: now,
                updated_at: now,
            };
            let op = NewOperation {
                operation: Operation::Refund,
                idempotency_key: provider_key.clone(),
                amount_minor: amount,
                outcome: RefundStatus::Pending.as_str().into(),
                provider_reference: None,
            };
            match self.store.reserve_refund(&new, &op).await? {
                Reserved::Done(held) => {
                    payment = held;
                    refund = Some(new);
                    break;
                }
                // A concurrent refund took what was left, or used the key: look again.
                Reserved::Exceeds | Reserved::KeyTaken => {
                    payment = self.store.by_order(&request.order_id).await?.ok_or(RefundError::PaymentNotFound)?;
                }
            }
        }
        let refund = refund.ok_or(FlowError::Contended)?;
        match refund.status {
            RefundStatus::Succeeded => return Ok(Refunded { payment, refund, completed_now: false }),
            RefundStatus::Failed => {
                return Err(RefundError::ProviderRefused(refund.failure_code.unwrap_or(FailureCode::Declined)));
            }
            RefundStatus::Pending => {}
        }

        let answer = self.provider.refund(authorization_of(&payment)?, refund.amount_minor, &provider_key).await;
        let receipt = match answer {
            Ok(receipt) => receipt,
            Err(error) if error.is_transient() => return Err(RefundError::ProviderUnavailable(error)),
            Err(error) => {
                let code = error.failure_code();
                self.store.complete_refund(&refund, &provider_key, &RefundResult::Refused(code), None, &[]).await?;
                return Err(RefundError::ProviderRefused(code));
            }
        };
        let event = PaymentRefunded {
            order_id: payment.order_id.clone(),
            payment_id: payment.id.to_string(),
            refund_id: refund.id.to_string(),
            amount_minor: refund.amount_minor,
            refunded_total_minor: payment.refunded_minor,
            currency: payment.currency.as_str().to_owned(),
            user_id: Some(payment.user_id.clone()),
        };
        let result = RefundResult::Succeeded { provider_reference: receipt.reference };
        let written = match origin {
            Origin::Client => {
                let announcement = Envelope::new(&event, payment.order_id.clone())?;
                self.store.complete_refund(&refund, &provider_key, &result, None, &[announcement]).await?
            }
            Origin::Message { cause, claim, also } => {
                let announcement = Envelope::reply_to(&event, cause)?;
                self.store
                    .complete_refund(&refund, &provider_key, &result, Some(&claim), &[announcement, *also])
                    .await?
            }
        };
        self.wrote(written);
        let payment = self.store.by_order(&request.order_id).await?.ok_or(RefundError::PaymentNotFound)?;
        let refund = self
            .store
            .refund_by_key(payment.id, &request.idempotency_key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("refund vanished".into()))?;
        Ok(Refunded { payment, refund, completed_now: written == Written::Done })
    }
}

/// A refund found under the request's key: the same request gets it; a different one
/// (another amount or reason) is refused. A request for "everything left" matches any.
fn same_refund(request: &RefundRequest, existing: Refund) -> Result<Refund, RefundError> {
    let same = match request.amount_minor {
        Some(amount) => amount == existing.amount_minor && request.reason == existing.reason,
        None => true,
    };
    if same { Ok(existing) } else { Err(RefundError::KeyReused) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variant_of_flow_error_is_produced() {
        shop_testkit::errors::assert_every_variant_produced::<super::FlowError>(env!("CARGO_MANIFEST_DIR"));
    }
}
