//! Payment rules with no I/O: the status a payment may move to, why an authorization
//! failed, and how much may be refunded.

mod payment;
mod refund;

pub use self::{
    payment::{FailureCode, Operation, Payment, PaymentStatus},
    refund::{
        MAX_KEY_LEN, MAX_REASON_LEN, Refund, RefundInputError, RefundRefusal, RefundStatus, SAGA_VOID_KEY,
        check_refund, parse_key, parse_reason,
    },
};
