//! Order totals in integer minor units.
//!
//! - subtotal = Σ unit price × quantity (exact);
//! - shipping = a flat rate per order, free when the subtotal reaches a threshold;
//! - tax = a basis-point rate chosen by the shipping country (1 bp = 0.01 %), computed **per
//!   line** on the line subtotal and rounded once per line, **half up** (to the nearest minor
//!   unit, halves away from zero; amounts are never negative). The order's tax is the sum of
//!   the rounded line taxes, so the breakdown shown on each line adds up to the order's tax.
//!   Shipping is not taxed;
//! - total = subtotal + shipping + tax.

use std::collections::HashMap;

/// Basis points in one whole (100 %).
pub const BP_PER_UNIT: i64 = 10_000;

/// How shipping and tax are charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingRules {
    /// Flat shipping per order, in minor units.
    pub shipping_flat_minor: i64,
    /// Orders whose subtotal is at least this ship free, in minor units.
    pub free_shipping_threshold_minor: i64,
    /// Tax rate by ISO 3166-1 alpha-2 country (upper case), in basis points.
    pub tax_rates_bp: HashMap<String, u32>,
    /// Tax rate of countries not in `tax_rates_bp`, in basis points.
    pub default_tax_bp: u32,
}

impl PricingRules {
    /// The tax rate of a shipping country, in basis points.
    pub fn tax_rate_bp(&self, country: &str) -> u32 {
        self.tax_rates_bp.get(&country.to_ascii_uppercase()).copied().unwrap_or(self.default_tax_bp)
    }
}

/// A line to price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmount {
    /// Price of one unit, minor units.
    pub unit_price_minor: i64,
    /// Units, at least 1.
    pub quantity: i64,
}

/// The priced amounts of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTotals {
    /// Unit price × quantity.
    pub subtotal_minor: i64,
    /// Tax of the line, rounded half up.
    pub tax_minor: i64,
}

/// The breakdown of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Each line's amounts, in input order.
    pub lines: Vec<LineTotals>,
    /// Σ line subtotals.
    pub subtotal_minor: i64,
    /// Shipping charged.
    pub shipping_minor: i64,
    /// Σ line taxes.
    pub tax_minor: i64,
    /// subtotal + shipping + tax.
    pub total_minor: i64,
    /// The rate applied, in basis points.
    pub tax_rate_bp: u32,
}

/// Amounts beyond what minor units in an `i64` can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the order total is too large")]
pub struct TotalsOverflow;

/// `amount × rate_bp / 10 000`, rounded half up (the one rounding point of a line).
pub fn tax_of(amount_minor: i64, rate_bp: u32) -> Result<i64, TotalsOverflow> {
    let product = i128::from(amount_minor) * i128::from(rate_bp);
    let divisor = i128::from(BP_PER_UNIT);
    // Half up for non-negative amounts: add half the divisor, then truncate.
    let rounded = (product + divisor / 2).div_euclid(divisor);
    i64::try_from(rounded).map_err(|_| TotalsOverflow)
}

/// Prices an order shipped to `country`.
pub fn compute(lines: &[LineAmount], country: &str, rules: &PricingRules) -> Result<Totals, TotalsOverflow> {
    let rate = rules.tax_rate_bp(country);
    let mut priced = Vec::with_capacity(lines.len());
    let (mut subtotal, mut tax) = (0_i64, 0_i64);
    for line in lines {
        let line_subtotal = line.unit_price_minor.checked_mul(line.quantity).ok_or(TotalsOverflow)?;
        let line_tax = tax_of(line_subtotal, rate)?;
        subtotal = subtotal.checked_add(line_subtotal).ok_or(TotalsOverflow)?;
        tax = tax.checked_add(line_tax).ok_or(TotalsOverflow)?;
        priced.push(LineTotals { subtotal_minor: line_subtotal, tax_minor: line_tax });
    }
    let shipping = if subtotal >= rules.free_shipping_threshold_minor { 0 } else { rules.shipping_flat_minor };
    let total = subtotal.checked_add(shipping).and_then(|t| t.checked_add(tax)).ok_or(TotalsOverflow)?;
    Ok(Totals {
        lines: priced,
        subtotal_minor: subtotal,
        shipping_minor: shipping,
        tax_minor: tax,
        total_minor: total,
        tax_rate_bp: rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PricingRules {
        PricingRules {
            shipping_flat_minor: 499,
            free_shipping_threshold_minor: 5_000,
            tax_rates_bp: HashMap::from([("DE".to_owned(), 1_900), ("US".to_owned(), 0), ("SE".to_owned(), 2_500)]),
            default_tax_bp: 1_000,
        }
    }

    fn line(unit_price_minor: i64, quantity: i64) -> LineAmount {
        LineAmount { unit_price_minor, quantity }
    }

    #[test]
    fn rounding_is_half_up_once_per_line() {
        // 0.5 of a cent rounds up; just below half rounds down.
        assert_eq!(tax_of(50, 1_000), Ok(5));
        assert_eq!(tax_of(5, 1_000), Ok(1)); // 0.5 → 1
        assert_eq!(tax_of(4, 1_000), Ok(0)); // 0.4 → 0
        assert_eq!(tax_of(15, 1_000), Ok(2)); // 1.5 → 2 (half up, not half even)
        assert_eq!(tax_of(25, 1_000), Ok(3)); // 2.5 → 3
        assert_eq!(tax_of(1_999, 1_900), Ok(380)); // 379.81 → 380
        assert_eq!(tax_of(0, 1_900), Ok(0));
    }

    #[test]
    fn order_tax_is_the_sum_of_rounded_line_taxes() {
        // Two lines of 0.05 at 10 %: each line's 0.5 cent rounds up to 1, so the order's tax
        // is 2, not round(1.0) = 1.
        let totals = compute(&[line(5, 1), line(5, 1)], "FR", &rules()).unwrap();
        assert_eq!(totals.lines.iter().map(|l| l.tax_minor).collect::<Vec<_>>(), vec![1, 1]);
        assert_eq!(totals.tax_minor, 2);
        // Quantity multiplies before rounding: 3 × 0.05 = 0.15, 10 % = 1.5 cents → 2.
        assert_eq!(compute(&[line(5, 3)], "FR", &rules()).unwrap().tax_minor, 2);
    }

    #[test]
    fn shipping_is_flat_below_the_threshold_and_free_from_it() {
        let below = compute(&[line(2_499, 2)], "US", &rules()).unwrap();
        assert_eq!(
            (below.subtotal_minor, below.shipping_minor, below.tax_minor, below.total_minor),
            (4_998, 499, 0, 5_497)
        );
        let at = compute(&[line(2_500, 2)], "US", &rules()).unwrap();
        assert_eq!((at.subtotal_minor, at.shipping_minor, at.total_minor), (5_000, 0, 5_000));
    }

    #[test]
    fn tax_rate_follows_the_country_with_a_default() {
        let de = compute(&[line(1_000, 1)], "de", &rules()).unwrap();
        assert_eq!((de.tax_rate_bp, de.tax_minor, de.total_minor), (1_900, 190, 1_000 + 499 + 190));
        let other = compute(&[line(1_000, 1)], "JP", &rules()).unwrap();
        assert_eq!((other.tax_rate_bp, other.tax_minor), (1_000, 100));
    }

    #[test]
    fn totals_add_up() {
        let t = compute(&[line(1_999, 3), line(349, 7), line(1, 1)], "SE", &rules()).unwrap();
        assert_eq!(t.subtotal_minor, t.lines.iter().map(|l| l.subtotal_minor).sum::<i64>());
        assert_eq!(t.tax_minor, t.lines.iter().map(|l| l.tax_minor).sum::<i64>());
        assert_eq!(t.total_minor, t.subtotal_minor + t.shipping_minor + t.tax_minor);
        assert_eq!(t.lines[0], LineTotals { subtotal_minor: 5_997, tax_minor: 1_499 }); // 1499.25
        assert_eq!(t.lines[1], LineTotals { subtotal_minor: 2_443, tax_minor: 611 }); // 610.75
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(compute(&[line(i64::MAX, 2)], "US", &rules()), Err(TotalsOverflow));
    }
}
