//! The rules of identity, with no I/O: what a valid user, address and password look like,
//! and how addresses keep exactly one default per kind.

pub mod address;
pub mod user;

pub use address::{Address, AddressInput, AddressKind};
pub use user::{NewUser, ProfilePatch, User, email_key};

/// One input field that is not acceptable, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// Path of the field in the mutation input, e.g. `["input", "email"]`.
    pub field: Vec<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl InvalidField {
    /// A problem with the input field at `path`.
    pub fn new(path: &[&str], message: impl Into<String>) -> Self {
        Self { field: path.iter().map(|s| (*s).to_owned()).collect(), message: message.into() }
    }
}

/// Checks that `value`, trimmed, has between `min` and `max` characters.
pub(crate) fn text(path: &[&str], value: &str, min: usize, max: usize) -> Result<String, InvalidField> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if length < min {
        return Err(InvalidField::new(
            path,
            if min == 1 { "must not be blank".to_owned() } else { format!("must have at least {min} characters") },
        ));
    }
    if length > max {
        return Err(InvalidField::new(path, format!("must have at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidField::new(path, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// An optional text field: blank means absent.
pub(crate) fn optional_text(path: &[&str], value: Option<&str>, max: usize) -> Result<Option<String>, InvalidField> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => text(path, v, 1, max).map(Some),
    }
}

/// A phone number: an optional `+` then 6 to 20 digits, spaces or dashes.
pub(crate) fn phone(path: &[&str], value: Option<&str>) -> Result<Option<String>, InvalidField> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let body = value.strip_prefix('+').unwrap_or(value);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let well_formed = body.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') && (6..=20).contains(&digits);
    if well_formed {
        Ok(Some(value.to_owned()))
    } else {
        Err(InvalidField::new(path, "must be a phone number such as +1 555 0100"))
    }
}
