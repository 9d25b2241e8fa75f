//! The cart's rules, with no I/O: what a line may hold, how lines are added, changed, removed
//! and merged, and who may see or change a cart. Every operation returns a new cart (with the
//! next version) or a typed [`RuleError`]; the input cart is never modified.

mod cart;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::cart::{Cart, CartLine};

/// The most units of one SKU a cart may hold.
pub const MAX_QUANTITY: u8 = 99;

/// The most lines (distinct SKUs) a cart may hold.
pub const MAX_LINES: usize = 100;

/// Why a cart operation was refused. Variants that point at a line carry the position of the
/// offending entry in the caller's input list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A quantity is outside `1..=99`, or would be once added to what the cart holds.
    #[error("quantity must be between 1 and {MAX_QUANTITY}")]
    InvalidQuantity {
        /// Position in the input.
        line: usize,
    },
    /// A SKU is not 1-32 of A-Z, 0-9 and hyphens.
    #[error("`{sku}` is not a SKU (1-32 of A-Z, 0-9, -)")]
    InvalidSku {
        /// Position in the input.
        line: usize,
        /// What was given.
        sku: String,
    },
    /// A product id is not a catalog id.
    #[error("`{id}` is not a product id")]
    InvalidProductId {
        /// Position in the input.
        line: usize,
        /// What was given.
        id: String,
    },
    /// A line reference names neither or both of a line id and a SKU.
    #[error("give exactly one of `lineId` and `sku`")]
    AmbiguousLine {
        /// Position in the input.
        line: usize,
    },
    /// The SKU is already in the cart (or earlier in the input) under another product.
    #[error("SKU `{sku}` belongs to another product in this cart")]
    ProductMismatch {
        /// Position in the input.
        line: usize,
        /// The SKU.
        sku: String,
    },
    /// A change names no line at all.
    #[error("give at least one line")]
    NoLines,
    /// The cart would hold more than [`MAX_LINES`] lines.
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    /// No line of the cart matches a reference.
    #[error("the cart has no such line")]
    LineNotFound {
        /// Position in the input.
        line: usize,
    },
    /// The cart is not at the version the caller based the change on (or kept changing
    /// under contention).
    #[error("the cart is now at version {actual}; reload it and retry")]
    VersionConflict {
        /// The stored version (0: there is no cart).
        actual: i64,
    },
}

/// A stock keeping unit as the catalog writes it: 1-32 of A-Z, 0-9 and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// Parses a SKU, ignoring surrounding whitespace.
    pub fn parse(raw: &str) -> Option<Self> {
        let sku = raw.trim();
        let valid = (1..=32).contains(&sku.len())
            && sku.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| Self(sku.to_owned()))
    }

    /// The SKU as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).ok_or_else(|| format!("`{raw}` is not a SKU"))
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> Self {
        sku.0
    }
}

/// Units of one SKU in a cart: `1..=99`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u8);

impl Quantity {
    /// Parses a quantity, refusing what is outside `1..=99`.
    pub fn parse(raw: i64) -> Option<Self> {
        u8::try_from(raw).ok().filter(|q| (1..=MAX_QUANTITY).contains(q)).map(Self)
    }

    /// The number of units.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The sum of two quantities, if it is still a quantity.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        Self::parse(i64::from(self.0) + i64::from(other.0))
    }

    /// The sum of two quantities, capped at [`MAX_QUANTITY`].
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0).min(MAX_QUANTITY))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = String;

    fn try_from(raw: i64) -> Result<Self, Self::Error> {
        Self::parse(raw).ok_or_else(|| format!("{raw} is not a quantity"))
    }
}

impl From<Quantity> for i64 {
    fn from(quantity: Quantity) -> Self {
        i64::from(quantity.0)
    }
}

/// A validated line to add: a variant of a product, in some quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The catalog product.
    pub product_id: Uuid,
    /// The variant's SKU.
    pub sku: Sku,
    /// Units to add.
    pub quantity: Quantity,
}

impl NewLine {
    /// Parses the entry at position `line` of a caller's input; reports every bad field.
    pub fn parse(line: usize, product_id: &str, sku: &str, quantity: i64) -> Result<Self, Vec<RuleError>> {
        let product = Uuid::parse_str(product_id.trim())
            .map_err(|_| RuleError::InvalidProductId { line, id: product_id.to_owned() });
        let parsed_sku = Sku::parse(sku).ok_or_else(|| RuleError::InvalidSku { line, sku: sku.to_owned() });
        let parsed_quantity = Quantity::parse(quantity).ok_or(RuleError::InvalidQuantity { line });
        match (product, parsed_sku, parsed_quantity) {
            (Ok(product_id), Ok(sku), Ok(quantity)) => Ok(Self { product_id, sku, quantity }),
            (product, sku, quantity) => Err([product.err(), sku.err(), quantity.err()].into_iter().flatten().collect()),
        }
    }
}

/// A reference to a line of a cart: by its id or by its SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRef {
    /// The line with this id.
    Id(Uuid),
    /// The line holding this SKU.
    Sku(Sku),
}

impl LineRef {
    /// Parses the entry at position `line` of a caller's input, which must give exactly one
    /// of a line id and a SKU. A malformed id or SKU cannot name a line: `LineNotFound`.
    pub fn parse(line: usize, line_id: Option<&str>, sku: Option<&str>) -> Result<Self, RuleError> {
        match (line_id, sku) {
            (Some(id), None) => Uuid::parse_str(id.trim()).map(Self::Id).map_err(|_| RuleError::LineNotFound { line }),
            (None, Some(sku)) => Sku::parse(sku).map(Self::Sku).ok_or(RuleError::LineNotFound { line }),
            _ => Err(RuleError::AmbiguousLine { line }),
        }
    }
}

/// A validated change of one line's quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineUpdate {
    /// The line to change.
    pub line: LineRef,
    /// Its new quantity.
    pub quantity: Quantity,
}

impl LineUpdate {
    /// Parses the entry at position `line` of a caller's input; reports every bad field.
    pub fn parse(line: usize, line_id: Option<&str>, sku: Option<&str>, quantity: i64) -> Result<Self, Vec<RuleError>> {
        let reference = LineRef::parse(line, line_id, sku);
        let parsed_quantity = Quantity::parse(quantity).ok_or(RuleError::InvalidQuantity { line });
        match (reference, parsed_quantity) {
            (Ok(line), Ok(quantity)) => Ok(Self { line, quantity }),
            (reference, quantity) => Err([reference.err(), quantity.err()].into_iter().flatten().collect()),
        }
    }
}

/// Parses every entry of an input list with `parse`, collecting every problem: either all
/// entries are valid or nothing is.
pub fn parse_all<Raw, T>(
    raw: &[Raw],
    parse: impl Fn(usize, &Raw) -> Result<T, Vec<RuleError>>,
) -> Result<Vec<T>, Vec<RuleError>> {
    let mut parsed = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for (index, entry) in raw.iter().enumerate() {
        match parse(index, entry) {
            Ok(value) => parsed.push(value),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if raw.len() > MAX_LINES {
        errors.push(RuleError::TooManyLines);
    }
    if errors.is_empty() { Ok(parsed) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_follow_the_catalog_rule() {
        assert_eq!(Sku::parse("  TEE-RED-M ").map(|s| s.as_str().to_owned()), Some("TEE-RED-M".into()));
        for bad in ["", "tee", "TEE RED", &"A".repeat(33), "TEE_1"] {
            assert_eq!(Sku::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quantities_are_between_1_and_99() {
        assert_eq!(Quantity::parse(0), None);
        assert_eq!(Quantity::parse(-1), None);
        assert_eq!(Quantity::parse(100), None);
        assert_eq!(Quantity::parse(i64::MAX), None);
        assert_eq!(Quantity::parse(99).map(Quantity::get), Some(99));
        let fifty = Quantity::parse(50).unwrap();
        assert_eq!(fifty.checked_add(fifty), None);
        assert_eq!(fifty.saturating_add(fifty).get(), 99);
    }

    #[test]
    fn a_new_line_reports_every_bad_field() {
        let errors = NewLine::parse(2, "not-a-uuid", "bad sku", 0).unwrap_err();
        assert_eq!(
            errors,
            vec![
                RuleError::InvalidProductId { line: 2, id: "not-a-uuid".into() },
                RuleError::InvalidSku { line: 2, sku: "bad sku".into() },
                RuleError::InvalidQuantity { line: 2 },
            ]
        );
        let id = Uuid::new_v4();
        let line = NewLine::parse(0, &id.to_string(), "A-1", 3).unwrap();
        assert_eq!((line.product_id, line.sku.as_str(), line.quantity.get()), (id, "A-1", 3));
    }

    #[test]
    fn a_line_reference_names_exactly_one_thing() {
        assert_eq!(LineRef::parse(0, None, None), Err(RuleError::AmbiguousLine { line: 0 }));
        assert_eq!(LineRef::parse(1, Some("x"), Some("A")), Err(RuleError::AmbiguousLine { line: 1 }));
        assert_eq!(LineRef::parse(2, Some("x"), None), Err(RuleError::LineNotFound { line: 2 }));
        assert_eq!(LineRef::parse(0, None, Some("A-1")), Ok(LineRef::Sku(Sku::parse("A-1").unwrap())));
    }

    #[test]
    fn parse_all_is_all_or_nothing_and_bounded() {
        let raw = vec![("A", 1), ("b", 1), ("C", 0)];
        let parse = |i: usize, (sku, q): &(&str, i64)| NewLine::parse(i, &Uuid::nil().to_string(), sku, *q);
        let errors = parse_all(&raw, parse).unwrap_err();
        assert_eq!(errors.len(), 2);
        let many: Vec<(&str, i64)> = (0..=MAX_LINES).map(|_| ("A", 1)).collect();
        assert_eq!(parse_all(&many, parse).unwrap_err(), vec![RuleError::TooManyLines]);
    }
}
