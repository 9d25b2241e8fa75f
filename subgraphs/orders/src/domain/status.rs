//! The order state machine: ONE transition table ([`TRANSITIONS`]) says which trigger moves an
//! order from which status to which, and what compensation a cancellation owes.
//!
//! ```text
//! PENDING ──reserved──► AWAITING_PAYMENT ─authorized, then committed─► CONFIRMED ──ship──► SHIPPED ──deliver──► DELIVERED
//!    │                        │                              │
//!    └────────────────────────┴──────────────────────────────┴──► CANCELLED (with compensation)
//! ```

use std::fmt;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Placed; the stock is being reserved.
    Pending,
    /// Stock is held; the payment is being authorized, then the stock committed.
    AwaitingPayment,
    /// Paid (authorized) and stock committed; waiting to ship.
    Confirmed,
    /// Handed to the carrier.
    Shipped,
    /// Received by the customer.
    Delivered,
    /// Will not be fulfilled (see `cancellationReason`).
    Cancelled,
}

impl OrderStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 6] =
        [Self::Pending, Self::AwaitingPayment, Self::Confirmed, Self::Shipped, Self::Delivered, Self::Cancelled];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::AwaitingPayment => "AWAITING_PAYMENT",
            Self::Confirmed => "CONFIRMED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether no trigger moves the order any more.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to an order's payment, as the order knows it (the payments subgraph's
/// `Payment.status` has the provider's detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "OrderPaymentStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Not authorized (yet).
    Pending,
    /// The amount is held on the customer's card.
    Authorized,
    /// The amount was taken.
    Captured,
    /// The authorization was refused.
    Failed,
    /// The hold was released; nothing was taken.
    Voided,
    /// Everything taken was given back.
    Refunded,
    /// Part of what was taken was given back.
    PartiallyRefunded,
}

impl PaymentStatus {
    /// Every payment status.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Authorized,
        Self::Captured,
        Self::Failed,
        Self::Voided,
        Self::Refunded,
        Self::PartiallyRefunded,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Authorized => "AUTHORIZED",
            Self::Captured => "CAPTURED",
            Self::Failed => "FAILED",
            Self::Voided => "VOIDED",
            Self::Refunded => "REFUNDED",
            Self::PartiallyRefunded => "PARTIALLY_REFUNDED",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a payment fact may move the payment from `self` to `next`. Payment facts can
    /// arrive late or twice; a fact that would move the payment backwards is ignored.
    pub fn may_become(self, next: Self) -> bool {
        use PaymentStatus::{Authorized, Captured, Failed, PartiallyRefunded, Pending, Refunded, Voided};
        matches!(
            (self, next),
            (Pending, Authorized | Failed | Voided)
                | (Authorized, Captured | Voided)
                | (Captured | PartiallyRefunded, Refunded | PartiallyRefunded)
        )
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can move an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Inventory held every line.
    InventoryReserved,
    /// Inventory lacked stock for some line.
    InventoryRejected,
    /// Inventory's sweeper released the reservation before the order was paid.
    InventoryExpired,
    /// The payment was authorized (for the order's total).
    PaymentAuthorized,
    /// The payment was authorized for another amount than the order's total.
    PaymentAmountMismatch,
    /// Inventory turned the paid order's reservation into a sale.
    InventoryCommitted,
    /// The paid order's hold had lapsed and its units were gone when the commit arrived.
    InventoryCommitFailed,
    /// The payment was refused.
    PaymentFailed,
    /// The provider refused to capture a confirmed order's payment.
    PaymentCaptureFailed,
    /// The payment did not answer before the payment deadline.
    PaymentTimeout,
    /// Inventory did not answer before the pending deadline.
    PendingTimeout,
    /// The owner (before shipping) or an admin cancelled.
    Cancel,
    /// An admin handed the order to the carrier.
    Ship,
    /// An admin recorded the delivery.
    Deliver,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: [Self; 14] = [
        Self::InventoryReserved,
        Self::InventoryRejected,
        Self::InventoryExpired,
        Self::PaymentAuthorized,
        Self::PaymentAmountMismatch,
        Self::InventoryCommitted,
        Self::InventoryCommitFailed,
        Self::PaymentFailed,
        Self::PaymentCaptureFailed,
        Self::PaymentTimeout,
        Self::PendingTimeout,
        Self::Cancel,
        Self::Ship,
        Self::Deliver,
    ];
}

/// What a cancellation must undo in the other services. Each flag is a message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compensation {
    /// Send `InventoryRelease`: a reservation may be held.
    pub release_stock: bool,
    /// Send `PaymentVoid` (payments voids an authorization, refunds a capture, and does
    /// nothing if there is no payment).
    pub void_payment: bool,
}

impl Compensation {
    /// Nothing to undo.
    pub const NONE: Self = Self { release_stock: false, void_payment: false };
    /// Give the stock back.
    pub const RELEASE: Self = Self { release_stock: true, void_payment: false };
    /// Give the money back.
    pub const VOID: Self = Self { release_stock: false, void_payment: true };
    /// Give both back.
    pub const RELEASE_AND_VOID: Self = Self { release_stock: true, void_payment: true };
}

/// One allowed move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Status before.
    pub from: OrderStatus,
    /// What moves it.
    pub trigger: Trigger,
    /// Status after.
    pub to: OrderStatus,
    /// What must be undone elsewhere (cancellations only).
    pub compensation: Compensation,
}

const fn t(from: OrderStatus, trigger: Trigger, to: OrderStatus, compensation: Compensation) -> Transition {
    Transition { from, trigger, to, compensation }
}

use Compensation as C;
use OrderStatus::{AwaitingPayment, Cancelled, Confirmed, Delivered, Pending, Shipped};

/// The transition table: every allowed (status, trigger) pair, and nothing else.
///
/// Compensation, cancellation by cancellation:
/// - rejected stock: nothing was reserved, nothing was charged;
/// - inventory never answered (pending timeout): a reservation may still land, so release it;
///   payment was never requested;
/// - expired reservation: inventory released the stock itself; void in case an authorization
///   is in flight (a void without a payment is a no-op at payments);
/// - payment failed: release the stock; there is nothing to void;
/// - payment timed out: release the stock and void, because the authorization may still land;
/// - cancelled before payment: release and void (either may be in flight);
/// - authorized for another amount than the total: release and void (an operator looks at the
///   log; the customer is not charged a wrong amount);
/// - authorized but the lapsed hold's units were gone at commit: void; nothing is held;
/// - confirmed but the capture refused: the goods must not ship unpaid, so restock and void
///   whatever the authorization still holds;
/// - cancelled once CONFIRMED (not yet shipped): the units were committed but never left the
///   warehouse, so `InventoryRelease` puts them back on hand (exactly once: inventory moves the
///   reservation COMMITTED → RESTOCKED conditionally), and `PaymentVoid` voids the
///   authorization, or refunds if it was captured.
pub const TRANSITIONS: &[Transition] = &[
    t(Pending, Trigger::InventoryReserved, AwaitingPayment, C::NONE),
    t(Pending, Trigger::InventoryRejected, Cancelled, C::NONE),
    t(Pending, Trigger::InventoryExpired, Cancelled, C::VOID),
    t(Pending, Trigger::PendingTimeout, Cancelled, C::RELEASE),
    t(Pending, Trigger::Cancel, Cancelled, C::RELEASE_AND_VOID),
    // Authorized: the stock is committed next; the order is CONFIRMED (and captured) only once
    // inventory says the units are its own, so a lapsed hold never confirms a paid order.
    t(AwaitingPayment, Trigger::PaymentAuthorized, AwaitingPayment, C::NONE),
    t(AwaitingPayment, Trigger::PaymentAmountMismatch, Cancelled, C::RELEASE_AND_VOID),
    t(AwaitingPayment, Trigger::InventoryCommitted, Confirmed, C::NONE),
    t(AwaitingPayment, Trigger::InventoryCommitFailed, Cancelled, C::VOID),
    t(AwaitingPayment, Trigger::PaymentFailed, Cancelled, C::RELEASE),
    t(AwaitingPayment, Trigger::PaymentTimeout, Cancelled, C::RELEASE_AND_VOID),
    t(AwaitingPayment, Trigger::InventoryExpired, Cancelled, C::VOID),
    t(AwaitingPayment, Trigger::Cancel, Cancelled, C::RELEASE_AND_VOID),
    t(Confirmed, Trigger::Cancel, Cancelled, C::RELEASE_AND_VOID),
    t(Confirmed, Trigger::PaymentCaptureFailed, Cancelled, C::RELEASE_AND_VOID),
    t(Confirmed, Trigger::Ship, Shipped, C::NONE),
    t(Shipped, Trigger::Deliver, Delivered, C::NONE),
];

/// A trigger that does not apply to the order's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot be moved by {trigger:?}")]
pub struct InvalidTransition {
    /// The order's status.
    pub from: OrderStatus,
    /// The refused trigger.
    pub trigger: Trigger,
}

/// The move `trigger` makes from `from`, if the table allows it.
pub fn transition(from: OrderStatus, trigger: Trigger) -> Result<Transition, InvalidTransition> {
    TRANSITIONS
        .iter()
        .find(|t| t.from == from && t.trigger == trigger)
        .copied()
        .ok_or(InvalidTransition { from, trigger })
}

/// What a saga reply owes when it arrives after its order moved on without it: a late
/// authorization of a cancelled order is voided, a late reservation is released, and so is a
/// late commit (a lapsed hold taken again while the order was being cancelled: inventory puts
/// committed units back on hand). Any other late or duplicate reply has no effect.
pub fn late_compensation(status: OrderStatus, trigger: Trigger) -> Compensation {
    match (status, trigger) {
        (Cancelled, Trigger::PaymentAuthorized | Trigger::PaymentAmountMismatch) => C::VOID,
        (Cancelled, Trigger::InventoryReserved | Trigger::InventoryCommitted) => C::RELEASE,
        _ => C::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_allowed() {
        let mut status = Pending;
        for trigger in [
            Trigger::InventoryReserved,
            Trigger::PaymentAuthorized,
            Trigger::InventoryCommitted,
            Trigger::Ship,
            Trigger::Deliver,
        ] {
            status = transition(status, trigger).unwrap().to;
        }
        assert_eq!(status, Delivered);
    }

    #[test]
    fn cancellation_only_before_shipping() {
        for from in [Pending, AwaitingPayment, Confirmed] {
            assert_eq!(transition(from, Trigger::Cancel).unwrap().to, Cancelled);
        }
        for from in [Shipped, Delivered, Cancelled] {
            assert_eq!(transition(from, Trigger::Cancel), Err(InvalidTransition { from, trigger: Trigger::Cancel }));
        }
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for t in TRANSITIONS {
            assert!(!t.from.is_final(), "{t:?}");
        }
    }

    #[test]
    fn the_table_has_one_entry_per_pair() {
        for (i, a) in TRANSITIONS.iter().enumerate() {
            for b in TRANSITIONS.iter().skip(i + 1) {
                assert!(!(a.from == b.from && a.trigger == b.trigger), "{a:?} twice");
            }
        }
    }

    #[test]
    fn compensation_matches_what_was_done() {
        assert_eq!(transition(Pending, Trigger::InventoryRejected).unwrap().compensation, C::NONE);
        assert_eq!(transition(AwaitingPayment, Trigger::PaymentFailed).unwrap().compensation, C::RELEASE);
        assert_eq!(transition(AwaitingPayment, Trigger::PaymentTimeout).unwrap().compensation, C::RELEASE_AND_VOID);
        assert_eq!(transition(Pending, Trigger::PendingTimeout).unwrap().compensation, C::RELEASE);
        assert_eq!(transition(Confirmed, Trigger::Cancel).unwrap().compensation, C::RELEASE_AND_VOID);
        // Only cancellations compensate.
        for t in TRANSITIONS.iter().filter(|t| t.to != Cancelled) {
            assert_eq!(t.compensation, C::NONE, "{t:?}");
        }
    }

    #[test]
    fn late_replies_are_compensated_or_ignored() {
        assert_eq!(late_compensation(Cancelled, Trigger::PaymentAuthorized), C::VOID);
        assert_eq!(late_compensation(Cancelled, Trigger::InventoryReserved), C::RELEASE);
        assert_eq!(late_compensation(Confirmed, Trigger::PaymentAuthorized), C::NONE);
        assert_eq!(late_compensation(AwaitingPayment, Trigger::InventoryReserved), C::NONE);
    }

    #[test]
    fn statuses_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn payment_facts_never_move_backwards() {
        assert!(PaymentStatus::Pending.may_become(PaymentStatus::Authorized));
        assert!(PaymentStatus::Authorized.may_become(PaymentStatus::Captured));
        assert!(PaymentStatus::Captured.may_become(PaymentStatus::PartiallyRefunded));
        assert!(PaymentStatus::PartiallyRefunded.may_become(PaymentStatus::Refunded));
        assert!(!PaymentStatus::Captured.may_become(PaymentStatus::Authorized));
        assert!(!PaymentStatus::Captured.may_become(PaymentStatus::Captured));
        assert!(!PaymentStatus::Refunded.may_become(PaymentStatus::PartiallyRefunded));
        assert!(!PaymentStatus::Failed.may_become(PaymentStatus::Authorized));
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Decision {
        Move(OrderStatus, Compensation),
        Late(Compensation),
        Ignore,
    }

    /// What each (status, trigger) pair must do, decided trigger by trigger (no wildcard over
    /// triggers: a new one does not compile until it is decided here).
    fn decided(status: OrderStatus, trigger: Trigger) -> Decision {
        use Decision::{Ignore, Late, Move};
        match trigger {
            Trigger::InventoryReserved => match status {
                Pending => Move(AwaitingPayment, C::NONE),
                // Reserved after the order was cancelled: give the units back.
                Cancelled => Late(C::RELEASE),
                _ => Ignore,
            },
            Trigger::InventoryRejected => match status {
                Pending => Move(Cancelled, C::NONE),
                _ => Ignore,
            },
            // A hold lapses only while it is held; once committed it cannot, so an expiry that
            // reaches a CONFIRMED order is stale (its commit took the units again).
            Trigger::InventoryExpired => match status {
                Pending | AwaitingPayment => Move(Cancelled, C::VOID),
                _ => Ignore,
            },
            Trigger::PaymentAuthorized => match status {
                AwaitingPayment => Move(AwaitingPayment, C::NONE),
                Cancelled => Late(C::VOID),
                _ => Ignore,
            },
            Trigger::PaymentAmountMismatch => match status {
                AwaitingPayment => Move(Cancelled, C::RELEASE_AND_VOID),
                Cancelled => Late(C::VOID),
                _ => Ignore,
            },
            Trigger::InventoryCommitted => match status {
                AwaitingPayment => Move(Confirmed, C::NONE),
                // Committed while the order was being cancelled: put the units back.
                Cancelled => Late(C::RELEASE),
                _ => Ignore,
            },
            Trigger::InventoryCommitFailed => match status {
                AwaitingPayment => Move(Cancelled, C::VOID),
                _ => Ignore,
            },
            Trigger::PaymentFailed => match status {
                AwaitingPayment => Move(Cancelled, C::RELEASE),
                _ => Ignore,
            },
            Trigger::PaymentCaptureFailed => match status {
                Confirmed => Move(Cancelled, C::RELEASE_AND_VOID),
                _ => Ignore,
            },
            Trigger::PaymentTimeout => match status {
                AwaitingPayment => Move(Cancelled, C::RELEASE_AND_VOID),
                _ => Ignore,
            },
            Trigger::PendingTimeout => match status {
                Pending => Move(Cancelled, C::RELEASE),
                _ => Ignore,
            },
            Trigger::Cancel => match status {
                Pending | AwaitingPayment | Confirmed => Move(Cancelled, C::RELEASE_AND_VOID),
                _ => Ignore,
            },
            Trigger::Ship => match status {
                Confirmed => Move(Shipped, C::NONE),
                _ => Ignore,
            },
            Trigger::Deliver => match status {
                Shipped => Move(Delivered, C::NONE),
                _ => Ignore,
            },
        }
    }

    #[test]
    fn every_status_and_trigger_pair_is_decided() {
        for status in OrderStatus::ALL {
            for trigger in Trigger::ALL {
                let actual = match transition(status, trigger) {
                    Ok(t) => Decision::Move(t.to, t.compensation),
                    Err(_) if late_compensation(status, trigger) != C::NONE => {
                        Decision::Late(late_compensation(status, trigger))
                    }
                    Err(_) => Decision::Ignore,
                };
                assert_eq!(actual, decided(status, trigger), "{status:?} + {trigger:?}");
            }
        }
    }
}
