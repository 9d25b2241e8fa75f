//! Money as integer minor units of a currency, never a float.

use async_graphql::{Enum, InputObject, SimpleObject};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// ISO 4217 currencies the shop trades in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum CurrencyCode {
    /// Australian dollar.
    Aud,
    /// Canadian dollar.
    Cad,
    /// Swiss franc.
    Chf,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Japanese yen (no minor unit).
    Jpy,
    /// Swedish krona.
    Sek,
    /// United States dollar.
    Usd,
}

impl CurrencyCode {
    /// Digits after the decimal point in this currency's minor unit.
    pub const fn exponent(self) -> u32 {
        match self {
            Self::Jpy => 0,
            _ => 2,
        }
    }

    /// The ISO 4217 code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Aud => "AUD",
            Self::Cad => "CAD",
            Self::Chf => "CHF",
            Self::Eur => "EUR",
            Self::Gbp => "GBP",
            Self::Jpy => "JPY",
            Self::Sek => "SEK",
            Self::Usd => "USD",
        }
    }

    /// Parses an ISO 4217 code (as stored in databases).
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Aud, Self::Cad, Self::Chf, Self::Eur, Self::Gbp, Self::Jpy, Self::Sek, Self::Usd]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(code))
    }
}

/// Why an amount cannot be money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// More decimal places than the currency has.
    #[error("{currency} amounts have at most {exponent} decimal places")]
    TooPrecise { currency: &'static str, exponent: u32 },
    /// Negative where only zero or more is allowed.
    #[error("amount must not be negative")]
    Negative,
    /// Beyond what minor units can hold.
    #[error("amount is too large")]
    Overflow,
}

/// An amount of money: integer minor units (cents) and a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Amount in the currency's minor unit, e.g. cents.
    pub minor_units: i64,
    /// Currency of the amount.
    pub currency: CurrencyCode,
}

impl Money {
    /// Money from minor units.
    pub const fn from_minor(minor_units: i64, currency: CurrencyCode) -> Self {
        Self { minor_units, currency }
    }

    /// Exact conversion from a decimal amount; refuses to round or go negative.
    pub fn from_decimal(amount: Decimal, currency: CurrencyCode) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        let exponent = currency.exponent();
        let normalized = amount.normalize();
        if normalized.scale() > exponent {
            return Err(MoneyError::TooPrecise { currency: currency.as_str(), exponent });
        }
        let scaled = normalized.checked_mul(Decimal::from(10_i64.pow(exponent))).ok_or(MoneyError::Overflow)?;
        let minor_units = i64::try_from(scaled).map_err(|_| MoneyError::Overflow)?;
        Ok(Self { minor_units, currency })
    }

    /// The amount in major units, exact.
    pub fn amount(&self) -> Decimal {
        Decimal::new(self.minor_units, self.currency.exponent())
    }
}

/// An amount of money with its currency.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Money", shareable)]
pub struct MoneyObject {
    /// Amount in major units (e.g. `24.99`), exact decimal sent as a string.
    pub amount: Decimal,
    /// ISO 4217 currency of the amount.
    pub currency_code: CurrencyCode,
}

impl From<Money> for MoneyObject {
    fn from(money: Money) -> Self {
        Self { amount: money.amount(), currency_code: money.currency }
    }
}

/// An amount of money given as input.
#[derive(InputObject, Debug, Clone)]
pub struct MoneyInput {
    /// Amount in major units, with no more decimal places than the currency has.
    pub amount: Decimal,
    /// ISO 4217 currency of the amount.
    pub currency_code: CurrencyCode,
}

impl MoneyInput {
    /// Validates the input as a non-negative amount of money.
    pub fn parse(&self) -> Result<Money, MoneyError> {
        Money::from_decimal(self.amount, self.currency_code)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_round_trips_through_minor_units() {
        let money = Money::from_decimal(dec("24.99"), CurrencyCode::Usd).unwrap();
        assert_eq!(money.minor_units, 2499);
        assert_eq!(money.amount().to_string(), "24.99");
        assert_eq!(Money::from_minor(500, CurrencyCode::Eur).amount().to_string(), "5.00");
    }

    #[test]
    fn trailing_zeros_are_not_extra_precision() {
        assert_eq!(Money::from_decimal(dec("3.500"), CurrencyCode::Usd).unwrap().minor_units, 350);
        assert_eq!(Money::from_decimal(dec("1200"), CurrencyCode::Jpy).unwrap().minor_units, 1200);
    }

    #[test]
    fn refuses_to_round_or_go_negative() {
        assert!(matches!(Money::from_decimal(dec("1.005"), CurrencyCode::Usd), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::from_decimal(dec("1.5"), CurrencyCode::Jpy), Err(MoneyError::TooPrecise { .. })));
        assert_eq!(Money::from_decimal(dec("-0.01"), CurrencyCode::Usd), Err(MoneyError::Negative));
        assert_eq!(Money::from_decimal(dec("99999999999999999999"), CurrencyCode::Usd), Err(MoneyError::Overflow));
    }

    #[test]
    fn currency_codes_parse_case_insensitively() {
        assert_eq!(CurrencyCode::parse("usd"), Some(CurrencyCode::Usd));
        assert_eq!(CurrencyCode::parse("XXX"), None);
    }
}
