//! What a checkout asks for, parsed: either it is a valid request or it is refused with the
//! path of every field at fault. Parsing normalizes (trims, upper-cases the country) and the
//! fingerprint ignores line order, so two requests that mean the same thing have the same
//! fingerprint.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shop_kernel::input::text;
pub use shop_kernel::input::{FieldError, PostalAddress, PostalAddressDraft};

/// Lines one order may have.
pub const MAX_LINES: usize = 100;
/// Units of one SKU one order may have.
pub const MAX_QUANTITY: i64 = 99;
/// Characters of an idempotency key.
pub const IDEMPOTENCY_KEY_LEN: std::ops::RangeInclusive<usize> = 8..=100;

/// A line as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    /// The variant's SKU.
    pub sku: String,
    /// Units wanted.
    pub quantity: i64,
}

/// A checkout as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckoutDraft {
    /// A cart to check out.
    pub cart_id: Option<String>,
    /// Lines to check out instead of a cart.
    pub lines: Option<Vec<LineDraft>>,
    /// Where to ship.
    pub shipping_address: Option<PostalAddressDraft>,
    /// A saved address to ship to instead.
    pub address_id: Option<String>,
    /// The payment method's token.
    pub payment_token: String,
    /// The client's key for this checkout.
    pub idempotency_key: String,
}

/// A validated line: a SKU and 1 to 99 units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLine {
    /// The variant's SKU.
    pub sku: String,
    /// Units wanted, 1 to 99.
    pub quantity: i64,
}

/// Where the lines come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LineSource {
    /// The lines of a cart (read from the cart subgraph).
    Cart(String),
    /// Lines given in the request, in request order.
    Lines(Vec<RequestedLine>),
}

/// Where the order ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AddressSource {
    /// An address given in the request.
    Given(PostalAddress),
    /// One of the user's saved addresses (read from the users subgraph).
    Saved(String),
}

/// A valid checkout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Where the lines come from.
    pub lines: LineSource,
    /// Where the order ships.
    pub address: AddressSource,
    /// The payment method, passed to payments once stock is held.
    pub payment_token: String,
    /// The client's key for this checkout: a retry with the same key returns the same order.
    pub idempotency_key: String,
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: Vec<String>, message: impl Into<String>) {
        self.0.push(FieldError { field, message: message.into() });
    }

    /// A required text of 1..=max characters, trimmed (the shared rule of [`text`]).
    fn required(&mut self, field: &[&str], value: &str, max: usize) -> String {
        text(field, value, 1, max).unwrap_or_else(|error| {
            self.0.push(error);
            value.trim().to_owned()
        })
    }
}

/// Validates explicit or cart lines: 1 to 100 lines, each a SKU and 1 to 99 units, no SKU
/// twice. Keeps their order (errors about a line name its index). `at` is the path of the list in the input.
pub fn parse_lines(lines: &[LineDraft], at: &[&str]) -> Result<Vec<RequestedLine>, Vec<FieldError>> {
    let mut errors = Errors(Vec::new());
    let entry = |i: usize, name: &str| -> Vec<String> {
        at.iter().map(|p| (*p).to_owned()).chain([i.to_string(), name.to_owned()]).collect()
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push(path(at), format!("must have 1 to {MAX_LINES} lines"));
    }
    let mut parsed: Vec<RequestedLine> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let sku = line.sku.trim();
        if sku.is_empty() || sku.chars().count() > 64 {
            errors.push(entry(i, "sku"), "must be a SKU of 1 to 64 characters");
        } else if parsed.iter().any(|p| p.sku == sku) {
            errors.push(entry(i, "sku"), format!("{sku} appears more than once"));
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.push(entry(i, "quantity"), format!("must be between 1 and {MAX_QUANTITY}"));
        }
        parsed.push(RequestedLine { sku: sku.to_owned(), quantity: line.quantity });
    }
    if !errors.0.is_empty() {
        return Err(errors.0);
    }
    Ok(parsed)
}

impl CheckoutRequest {
    /// Validates a checkout; every field at fault is reported, under `input`.
    pub fn parse(draft: &CheckoutDraft) -> Result<Self, Vec<FieldError>> {
        let mut errors = Errors(Vec::new());
        let lines = match (&draft.cart_id, &draft.lines) {
            (Some(cart_id), None) => {
                let cart_id = errors.required(&["input", "cartId"], cart_id, 64);
                Some(LineSource::Cart(cart_id))
            }
            (None, Some(lines)) => match parse_lines(lines, &["input", "lines"]) {
                Ok(lines) => Some(LineSource::Lines(lines)),
                Err(found) => {
                    errors.0.extend(found);
                    None
                }
            },
            _ => {
                errors.push(path(&["input", "cartId"]), "give exactly one of `cartId` and `lines`");
                None
            }
        };
        let address = match (&draft.shipping_address, &draft.address_id) {
            (Some(address), None) => match PostalAddress::parse(address, &["input", "shippingAddress"]) {
                Ok(address) => Some(AddressSource::Given(address)),
                Err(found) => {
                    errors.0.extend(found);
                    None
                }
            },
            (None, Some(id)) => Some(AddressSource::Saved(errors.required(&["input", "addressId"], id, 64))),
            _ => {
                errors
                    .push(path(&["input", "shippingAddress"]), "give exactly one of `shippingAddress` and `addressId`");
                None
            }
        };
        let payment_token = errors.required(&["input", "paymentToken"], &draft.payment_token, 200);
        let idempotency_key = draft.idempotency_key.trim().to_owned();
        let key_len = idempotency_key.chars().count();
        if !IDEMPOTENCY_KEY_LEN.contains(&key_len) || idempotency_key.chars().any(char::is_control) {
            errors.push(
                path(&["input", "idempotencyKey"]),
                format!(
                    "must have {} to {} printable characters",
                    IDEMPOTENCY_KEY_LEN.start(),
                    IDEMPOTENCY_KEY_LEN.end()
                ),
            );
        }
        match (lines, address) {
            (Some(lines), Some(address)) if errors.0.is_empty() => {
                Ok(Self { lines, address, payment_token, idempotency_key })
            }
            _ => Err(errors.0),
        }
    }

    /// A hash of the normalized request (hex SHA-256): equal for a retry of the same
    /// checkout, different when anything but the idempotency key changed.
    pub fn fingerprint(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            lines: &'a LineSource,
            address: &'a AddressSource,
            payment_token: &'a str,
        }
        // Line order does not change what is bought.
        let lines = match &self.lines {
            LineSource::Lines(lines) => {
                let mut sorted = lines.clone();
                sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
                LineSource::Lines(sorted)
            }
            cart => cart.clone(),
        };
        let canonical = Canonical { lines: &lines, address: &self.address, payment_token: &self.payment_token };
        // Serializing plain structs of strings and integers cannot fail.
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> PostalAddressDraft {
        PostalAddressDraft {
            name: " Ada Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: Some("  ".into()),
            city: "London".into(),
            region: None,
            postal_code: "SW1Y 4JH".into(),
            country: "gb".into(),
            phone: None,
        }
    }

    fn draft() -> CheckoutDraft {
        CheckoutDraft {
            cart_id: None,
            lines: Some(vec![
                LineDraft { sku: "TEE-M".into(), quantity: 2 },
                LineDraft { sku: "CAP".into(), quantity: 1 },
            ]),
            shipping_address: Some(address()),
            address_id: None,
            payment_token: "tok_visa".into(),
            idempotency_key: "key-0001".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.field.join(".")).collect()
    }

    #[test]
    fn a_valid_request_is_normalized() {
        let request = CheckoutRequest::parse(&draft()).unwrap();
        let LineSource::Lines(lines) = &request.lines else { panic!("lines expected") };
        assert_eq!(lines.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), ["TEE-M", "CAP"]);
        let AddressSource::Given(address) = &request.address else { panic!("address expected") };
        assert_eq!(
            (address.name.as_str(), address.country.as_str(), address.line2.as_deref()),
            ("Ada Lovelace", "GB", None)
        );
    }

    #[test]
    fn exactly_one_source_of_lines_and_of_address() {
        let both = CheckoutDraft { cart_id: Some("c".into()), address_id: Some("a".into()), ..draft() };
        assert_eq!(fields(&CheckoutRequest::parse(&both).unwrap_err()), ["input.cartId", "input.shippingAddress"]);
        let neither = CheckoutDraft { lines: None, shipping_address: None, ..draft() };
        assert_eq!(fields(&CheckoutRequest::parse(&neither).unwrap_err()), ["input.cartId", "input.shippingAddress"]);
    }

    #[test]
    fn lines_quantities_and_keys_are_bounded() {
        let bad = CheckoutDraft {
            lines: Some(vec![
                LineDraft { sku: "A".into(), quantity: 0 },
                LineDraft { sku: "A".into(), quantity: 100 },
                LineDraft { sku: " ".into(), quantity: 1 },
            ]),
            idempotency_key: "short".into(),
            ..draft()
        };
        assert_eq!(
            fields(&CheckoutRequest::parse(&bad).unwrap_err()),
            [
                "input.lines.0.quantity",
                "input.lines.1.sku",
                "input.lines.1.quantity",
                "input.lines.2.sku",
                "input.idempotencyKey"
            ]
        );
        let many = CheckoutDraft {
            lines: Some((0..101).map(|i| LineDraft { sku: format!("S{i}"), quantity: 1 }).collect()),
            ..draft()
        };
        assert_eq!(fields(&CheckoutRequest::parse(&many).unwrap_err()), ["input.lines"]);
        let empty = CheckoutDraft { lines: Some(vec![]), ..draft() };
        assert_eq!(fields(&CheckoutRequest::parse(&empty).unwrap_err()), ["input.lines"]);
        let long_key = CheckoutDraft { idempotency_key: "k".repeat(101), ..draft() };
        assert_eq!(fields(&CheckoutRequest::parse(&long_key).unwrap_err()), ["input.idempotencyKey"]);
        assert!(CheckoutRequest::parse(&CheckoutDraft { idempotency_key: "k".repeat(100), ..draft() }).is_ok());
    }

    #[test]
    fn addresses_need_their_fields_and_a_real_country() {
        let bad =
            PostalAddressDraft { name: String::new(), postal_code: "x".repeat(21), country: "XX".into(), ..address() };
        let errors = CheckoutRequest::parse(&CheckoutDraft { shipping_address: Some(bad), ..draft() }).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["input.shippingAddress.country", "input.shippingAddress.name", "input.shippingAddress.postalCode"]
        );
        // The country list and the other field rules are the kernel's, tested there.
        let uk = PostalAddressDraft { country: "UK".into(), ..address() };
        let errors = CheckoutRequest::parse(&CheckoutDraft { shipping_address: Some(uk), ..draft() }).unwrap_err();
        assert_eq!(fields(&errors), ["input.shippingAddress.country"]);
    }

    #[test]
    fn the_fingerprint_ignores_order_and_spacing_but_not_content() {
        let a = CheckoutRequest::parse(&draft()).unwrap();
        let mut reordered = draft();
        if let Some(lines) = reordered.lines.as_mut() {
            lines.reverse();
        }
        reordered.idempotency_key = "another-key".into();
        assert_eq!(a.fingerprint(), CheckoutRequest::parse(&reordered).unwrap().fingerprint());
        let mut more = draft();
        if let Some(lines) = more.lines.as_mut() {
            lines[0].quantity = 3;
        }
        assert_ne!(a.fingerprint(), CheckoutRequest::parse(&more).unwrap().fingerprint());
    }
}
