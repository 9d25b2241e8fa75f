//! Client input, parsed: the field rules several contexts share, and postal addresses.
//!
//! One parser for addresses ([`PostalAddress::parse`]) serves every context that keeps one (a
//! user's saved addresses, an order's shipping snapshot), so an address a customer could save
//! is always one checkout accepts.

use serde::{Deserialize, Serialize};

/// One input field at fault, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field from the operation's arguments, e.g. `["input", "lines", "2", "sku"]`.
    pub field: Vec<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl FieldError {
    /// A problem with the field at `path`.
    pub fn new(path: &[&str], message: impl Into<String>) -> Self {
        Self { field: path.iter().map(|s| (*s).to_owned()).collect(), message: message.into() }
    }
}

/// `value`, trimmed, if it has between `min` and `max` characters and no control character.
pub fn text(path: &[&str], value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if length < min {
        return Err(FieldError::new(
            path,
            if min == 1 { "must not be blank".to_owned() } else { format!("must have at least {min} characters") },
        ));
    }
    if length > max {
        return Err(FieldError::new(path, format!("must have at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(path, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// An optional [`text`] of at most `max` characters: blank means absent.
pub fn optional_text(path: &[&str], value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => text(path, v, 1, max).map(Some),
    }
}

/// An optional phone number: a `+` or not, then 6 to 20 digits, spaces or dashes.
pub fn phone(path: &[&str], value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let body = value.strip_prefix('+').unwrap_or(value);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let well_formed = body.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') && (6..=20).contains(&digits);
    if well_formed {
        Ok(Some(value.to_owned()))
    } else {
        Err(FieldError::new(path, "must be a phone number such as +1 555 0100"))
    }
}

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

/// The errors of several fields, collected so that all are reported at once.
#[derive(Default)]
struct Collected(Vec<FieldError>);

impl Collected {
    /// The value, or its default after keeping the error.
    fn take<T: Default>(&mut self, result: Result<T, FieldError>) -> T {
        result.unwrap_or_else(|error| {
            self.0.push(error);
            T::default()
        })
    }
}

/// A postal address as a client entered it: the fields every GraphQL address input has
/// (flattened into it with `#[graphql(flatten)]`), and what a neighbour's saved address reads
/// back as. Missing fields read as empty, so [`PostalAddress::parse`] names them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, async_graphql::InputObject)]
#[serde(default, rename_all = "camelCase")]
#[graphql(name = "PostalAddressInput")]
pub struct PostalAddressDraft {
    /// Recipient, 1–100 characters.
    pub name: String,
    /// Street and number, 1–200 characters.
    pub line1: String,
    /// Flat, floor or building, up to 200 characters.
    pub line2: Option<String>,
    /// City or town, 1–100 characters.
    pub city: String,
    /// State, province or county, up to 100 characters.
    pub region: Option<String>,
    /// Postal code, 1–20 characters.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `US`; it chooses the tax rate at checkout.
    pub country: String,
    /// Phone number for the carrier: a `+` or not, then 6 to 20 digits, spaces or dashes.
    pub phone: Option<String>,
}

/// A valid postal address: trimmed, blank optional parts absent, the country an assigned
/// ISO 3166-1 alpha-2 code in upper case. Also the fields of every GraphQL address type
/// (flattened into it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
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
    // Users' documents stored before addresses shared this type spell it `postal_code`.
    #[serde(alias = "postal_code")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

impl PostalAddress {
    /// Validates `draft`; `at` is the path of the address in the input, and every field at
    /// fault is reported, the country first, then in the order of the fields.
    pub fn parse(draft: &PostalAddressDraft, at: &[&str]) -> Result<Self, Vec<FieldError>> {
        let path = |name: &'static str| -> Vec<&str> { at.iter().copied().chain([name]).collect() };
        let mut errors = Collected::default();
        // The country first: it decides how the rest is read (postal code formats, tax).
        let country = draft.country.trim().to_ascii_uppercase();
        if !is_country_code(&country) {
            errors.0.push(FieldError::new(&path("country"), "must be an ISO 3166-1 alpha-2 country code, e.g. US"));
        }
        let name = errors.take(text(&path("name"), &draft.name, 1, 100));
        let line1 = errors.take(text(&path("line1"), &draft.line1, 1, 200));
        let line2 = errors.take(optional_text(&path("line2"), draft.line2.as_deref(), 200));
        let city = errors.take(text(&path("city"), &draft.city, 1, 100));
        let region = errors.take(optional_text(&path("region"), draft.region.as_deref(), 100));
        let postal_code = errors.take(text(&path("postalCode"), &draft.postal_code, 1, 20));
        let phone = errors.take(phone(&path("phone"), draft.phone.as_deref()));
        if !errors.0.is_empty() {
            return Err(errors.0);
        }
        Ok(Self { name, line1, line2, city, region, postal_code, country, phone })
    }

    /// The address as a draft, to parse again (what a stored address must survive).
    pub fn to_draft(&self) -> PostalAddressDraft {
        let Self { name, line1, line2, city, region, postal_code, country, phone } = self.clone();
        PostalAddressDraft { name, line1, line2, city, region, postal_code, country, phone }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn draft() -> PostalAddressDraft {
        PostalAddressDraft {
            name: " Ada Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: Some("  ".into()),
            city: "London".into(),
            region: None,
            postal_code: "SW1Y 4JH".into(),
            country: "gb".into(),
            phone: Some("+44 20 7946 0000".into()),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.field.join(".")).collect()
    }

    #[test]
    fn a_valid_address_is_normalized() {
        let address = PostalAddress::parse(&draft(), &["input"]).unwrap();
        assert_eq!((address.name.as_str(), address.country.as_str(), address.line2), ("Ada Lovelace", "GB", None));
    }

    #[test]
    fn every_bad_field_is_reported_country_first() {
        let bad = PostalAddressDraft {
            name: String::new(),
            postal_code: "x".repeat(21),
            country: "XX".into(),
            phone: Some("12".into()),
            ..draft()
        };
        let errors = PostalAddress::parse(&bad, &["input", "shippingAddress"]).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "input.shippingAddress.country",
                "input.shippingAddress.name",
                "input.shippingAddress.postalCode",
                "input.shippingAddress.phone"
            ]
        );
    }

    #[test]
    fn only_assigned_country_codes_pass() {
        assert!(is_country_code("US") && is_country_code("DE") && !is_country_code("UK") && !is_country_code("USA"));
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        let uk = PostalAddressDraft { country: "UK".into(), ..draft() };
        assert_eq!(fields(&PostalAddress::parse(&uk, &["input"]).unwrap_err()), ["input.country"]);
    }

    #[test]
    fn a_parsed_address_parses_again_unchanged() {
        let address = PostalAddress::parse(&draft(), &["input"]).unwrap();
        assert_eq!(PostalAddress::parse(&address.to_draft(), &["input"]).unwrap(), address);
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus() {
        for good in ["+1 555 0100", "030-1234567", "+44 20 7946 0000"] {
            assert!(phone(&["p"], Some(good)).unwrap().is_some(), "{good}");
        }
        for bad in ["+44 20", "call me", "+1 (555) 0100"] {
            assert!(phone(&["p"], Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(phone(&["p"], Some("  ")).unwrap(), None);
    }
}
