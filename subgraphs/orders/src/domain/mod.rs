//! The rules of orders, free of I/O: the state machine, totals, checkout validation.

pub mod checkout;
pub mod order;
pub mod status;
pub mod totals;

pub use self::{
    checkout::{AddressSource, CheckoutDraft, CheckoutRequest, FieldError, LineSource, PostalAddress, RequestedLine},
    order::{Order, OrderLine, TimelineEntry},
    status::{Compensation, InvalidTransition, OrderStatus, PaymentStatus, Transition, Trigger},
    totals::{LineAmount, PricingRules, Totals},
};
