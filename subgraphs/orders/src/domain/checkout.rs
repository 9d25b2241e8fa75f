//! What a checkout asks for, parsed: either it is a valid request or it is refused with the
//! path of every field at fault. Parsing normalizes (trims, upper-cases the country) and the
//! fingerprint ignores line order, so two requests that mean the same thing have the same
//! fingerprint.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lines one order may have.
pub const MAX_LINES: usize = 100;
/// Units of one SKU one order may have.
pub const MAX_QUANTITY: i64 = 99;
/// Characters of an idempotency key.
pub const IDEMPOTENCY_KEY_LEN: std::ops::RangeInclusive<usize> = 8..=100;

/// ISO 3166-1 alpha-2 codes currently assigned.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 country code (upper case).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

/// A line as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    /// The variant's SKU.
    pub sku: String,
    /// Units wanted.
    pub quantity: i64,
}

/// An address as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressDraft {
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor or building.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or county.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

/// A checkout as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckoutDraft {
    /// A cart to check out.
    pub cart_id: Option<String>,
    /// Lines to check out instead of a cart.
    pub lines: Option<Vec<LineDraft>>,
    /// Where to ship.
    pub shipping_address: Option<AddressDraft>,
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

/// Where a shipment goes: a validated snapshot, stored with the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor or building.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or county.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
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
    Given(ShippingAddress),
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

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path from the mutation's arguments, e.g. `["input", "lines", "2", "quantity"]`.
    pub field: Vec<String>,
    /// What is wrong.
    pub message: String,
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: Vec<String>, message: impl Into<String>) {
        self.0.push(FieldError { field, message: message.into() });
    }

    /// A required text of 1..=max characters, trimmed.
    fn required(&mut self, field: Vec<String>, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.push(field, "is required");
        } else if value.chars().count() > max {
            self.push(field, format!("must have at most {max} characters"));
        }
        value.to_owned()
    }

    /// An optional text of at most max characters, trimmed; blank is absent.
    fn optional(&mut self, field: Vec<String>, value: Option<&str>, max: usize) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        if value.chars().count() > max {
            self.push(field, format!("must have at most {max} characters"));
        }
        Some(value.to_owned())
    }
}

impl ShippingAddress {
    /// Validates an address; `at` is the path of the address in the input.
    pub fn parse(draft: &AddressDraft, at: &[&str]) -> Result<Self, Vec<FieldError>> {
        let mut errors = Errors(Vec::new());
        let field =
            |name: &str| -> Vec<String> { at.iter().map(|p| (*p).to_owned()).chain([name.to_owned()]).collect() };
        let country = draft.country.trim().to_ascii_uppercase();
        if !is_country_code(&country) {
            errors.push(field("country"), "must be an ISO 3166-1 alpha-2 country code, e.g. US");
        }
        let address = Self {
            name: errors.required(field("name"), &draft.name, 100),
            line1: errors.required(field("line1"), &draft.line1, 200),
            line2: errors.optional(field("line2"), draft.line2.as_deref(), 200),
            city: errors.required(field("city"), &draft.city, 100),
            region: errors.optional(field("region"), draft.region.as_deref(), 100),
            postal_code: errors.required(field("postalCode"), &draft.postal_code, 20),
            country,
            phone: errors.optional(field("phone"), draft.phone.as_deref(), 32),
        };
        if errors.0.is_empty() { Ok(address) } else { Err(errors.0) }
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
                let cart_id = errors.required(path(&["input", "cartId"]), cart_id, 64);
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
            (Some(address), None) => match ShippingAddress::parse(address, &["input", "shippingAddress"]) {
                Ok(address) => Some(AddressSource::Given(address)),
                Err(found) => {
                    errors.0.extend(found);
                    None
                }
            },
            (None, Some(id)) => Some(AddressSource::Saved(errors.required(path(&["input", "addressId"]), id, 64))),
            _ => {
                errors
                    .push(path(&["input", "shippingAddress"]), "give exactly one of `shippingAddress` and `addressId`");
                None
            }
        };
        let payment_token = errors.required(path(&["input", "paymentToken"]), &draft.payment_token, 200);
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

    fn address() -> AddressDraft {
        AddressDraft {
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
        let bad = AddressDraft { name: String::new(), postal_code: "x".repeat(21), country: "XX".into(), ..address() };
        let errors = CheckoutRequest::parse(&CheckoutDraft { shipping_address: Some(bad), ..draft() }).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["input.shippingAddress.country", "input.shippingAddress.name", "input.shippingAddress.postalCode"]
        );
        assert!(is_country_code("US") && is_country_code("DE") && !is_country_code("UK") && !is_country_code("USA"));
        assert_eq!(COUNTRIES.split(' ').count(), 249);
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
