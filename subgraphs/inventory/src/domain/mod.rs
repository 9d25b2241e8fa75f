//! Inventory rules with no I/O: stock levels, reservation requests and their life cycle,
//! and what an adjustment may be.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The most lines one reservation may hold.
pub const MAX_LINES: usize = 100;
/// The most units of one SKU one reservation may hold.
pub const MAX_QUANTITY: i64 = 10_000;
/// The largest single adjustment.
pub const MAX_ADJUSTMENT: i64 = 1_000_000;

/// Stock of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub sku: String,
    /// Units in the warehouse.
    pub on_hand: i64,
    /// Units held for orders not yet committed.
    pub reserved: i64,
}

impl StockLevel {
    /// Stock of a SKU nobody has recorded: none.
    pub fn empty(sku: &str) -> Self {
        Self { sku: sku.to_owned(), on_hand: 0, reserved: 0 }
    }

    /// Units that can still be sold.
    pub const fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// Units of one SKU wanted by an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sku: String,
    pub quantity: i64,
}

/// A line that could not be reserved in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub sku: String,
    pub requested: i64,
    pub available: i64,
}

/// Why a reservation request is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("a reservation needs at least one line")]
    Empty,
    #[error("a reservation holds at most {MAX_LINES} lines")]
    TooManyLines,
    #[error("quantity of `{0}` must be between 1 and {MAX_QUANTITY}")]
    BadQuantity(String),
    #[error("order id must be 1 to 64 characters")]
    BadOrderId,
}

/// A validated request to hold stock for an order: SKUs merged and sorted, so every
/// transaction locks rows in the same order and concurrent reservations cannot deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    order_id: String,
    lines: Vec<Line>,
}

impl ReservationRequest {
    /// Validates and normalizes a request.
    pub fn new(order_id: &str, lines: Vec<Line>) -> Result<Self, RequestError> {
        if order_id.is_empty() || order_id.len() > 64 {
            return Err(RequestError::BadOrderId);
        }
        if lines.is_empty() {
            return Err(RequestError::Empty);
        }
        if lines.len() > MAX_LINES {
            return Err(RequestError::TooManyLines);
        }
        let mut merged: Vec<Line> = Vec::with_capacity(lines.len());
        let mut sorted = lines;
        sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
        for line in sorted {
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(RequestError::BadQuantity(line.sku));
            }
            match merged.last_mut() {
                Some(last) if last.sku == line.sku => last.quantity += line.quantity,
                _ => merged.push(line),
            }
        }
        if let Some(line) = merged.iter().find(|l| l.quantity > MAX_QUANTITY) {
            return Err(RequestError::BadQuantity(line.sku.clone()));
        }
        Ok(Self { order_id: order_id.to_owned(), lines: merged })
    }

    /// The order the stock is held for.
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// Lines sorted by SKU, one per SKU.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }
}

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    /// Stock is held.
    Active,
    /// The order was paid: the units left the stock.
    Committed,
    /// The order gave the units back.
    Released,
    /// Nobody committed in time; the sweeper gave the units back.
    Expired,
    /// The order was cancelled after its units were committed but before it shipped: they
    /// went back on hand.
    Restocked,
}

impl ReservationStatus {
    /// Whether the reservation holds stock now or already turned it into a sale.
    pub const fn is_holding_or_done(self) -> bool {
        matches!(self, Self::Active | Self::Committed)
    }

    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Committed => "COMMITTED",
            Self::Released => "RELEASED",
            Self::Expired => "EXPIRED",
            Self::Restocked => "RESTOCKED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Committed, Self::Released, Self::Expired, Self::Restocked]
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    /// An active reservation ends committed, released or expired; a committed one may still
    /// be restocked (cancelled before shipping). Nothing else moves.
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Active, Self::Committed | Self::Released | Self::Expired) | (Self::Committed, Self::Restocked)
        )
    }
}

/// Stock held for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: Uuid,
    pub order_id: String,
    pub status: ReservationStatus,
    pub lines: Vec<Line>,
    pub expires_at: DateTime<Utc>,
}

/// Why an adjustment is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdjustmentError {
    #[error("delta must be non-zero and at most {MAX_ADJUSTMENT} either way")]
    BadDelta,
    #[error("reason must be 1 to 200 characters")]
    BadReason,
    #[error("`{0}` is not a SKU (1-32 of A-Z, 0-9, -)")]
    BadSku(String),
}

/// A validated stock correction with its reason (kept in the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub sku: String,
    pub delta: i64,
    pub reason: String,
}

impl Adjustment {
    /// Validates an adjustment.
    pub fn new(sku: &str, delta: i64, reason: &str) -> Result<Self, AdjustmentError> {
        let sku = sku.trim();
        if !is_sku(sku) {
            return Err(AdjustmentError::BadSku(sku.to_owned()));
        }
        if delta == 0 || delta.abs() > MAX_ADJUSTMENT {
            return Err(AdjustmentError::BadDelta);
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(AdjustmentError::BadReason);
        }
        Ok(Self { sku: sku.to_owned(), delta, reason: reason.to_owned() })
    }
}

/// SKUs are 1-32 of A-Z, 0-9 and hyphens (the catalog's rule).
pub fn is_sku(sku: &str) -> bool {
    (1..=32).contains(&sku.len()) && sku.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: i64) -> Line {
        Line { sku: sku.into(), quantity }
    }

    #[test]
    fn requests_merge_and_sort_lines() {
        let request = ReservationRequest::new("order-1", vec![line("B", 1), line("A", 2), line("B", 3)]).unwrap();
        assert_eq!(request.lines(), &[line("A", 2), line("B", 4)]);
    }

    #[test]
    fn requests_refuse_bad_lines() {
        assert_eq!(ReservationRequest::new("o", vec![]), Err(RequestError::Empty));
        assert_eq!(ReservationRequest::new("o", vec![line("A", 0)]), Err(RequestError::BadQuantity("A".into())));
        assert_eq!(ReservationRequest::new("o", vec![line("A", -5)]), Err(RequestError::BadQuantity("A".into())));
        assert_eq!(
            ReservationRequest::new("o", vec![line("A", MAX_QUANTITY), line("A", 1)]),
            Err(RequestError::BadQuantity("A".into()))
        );
        assert_eq!(ReservationRequest::new("", vec![line("A", 1)]), Err(RequestError::BadOrderId));
        let many = (0..=MAX_LINES).map(|i| line(&format!("S{i}"), 1)).collect();
        assert_eq!(ReservationRequest::new("o", many), Err(RequestError::TooManyLines));
    }

    #[test]
    fn only_active_reservations_move() {
        use ReservationStatus::*;
        assert!(Active.can_become(Committed));
        assert!(Active.can_become(Expired));
        assert!(!Committed.can_become(Released));
        assert!(!Released.can_become(Committed));
        assert!(!Active.can_become(Active));
    }

    #[test]
    fn adjustments_are_validated() {
        assert!(Adjustment::new("SKU-1", 5, "restock").is_ok());
        assert_eq!(Adjustment::new("SKU-1", 0, "x"), Err(AdjustmentError::BadDelta));
        assert_eq!(Adjustment::new("sku 1", 1, "x"), Err(AdjustmentError::BadSku("sku 1".into())));
        assert_eq!(Adjustment::new("SKU-1", 1, "  "), Err(AdjustmentError::BadReason));
        assert_eq!(Adjustment::new("SKU-1", MAX_ADJUSTMENT + 1, "x"), Err(AdjustmentError::BadDelta));
    }

    #[test]
    fn available_is_on_hand_less_reserved() {
        assert_eq!(StockLevel { sku: "A".into(), on_hand: 10, reserved: 4 }.available(), 6);
    }
}
