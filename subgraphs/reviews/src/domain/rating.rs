//! A product's rating aggregate and how one write changes it.
//!
//! The aggregate is kept, not computed per read: showing a product's rating costs one keyed
//! read, whatever its number of reviews. Every write applies its [`RatingDelta`] in the same
//! transaction as the review change, so the aggregate always equals a recount of the visible
//! reviews.

use super::Stars;

/// The rating of one product over its visible reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRating {
    /// The catalog product.
    pub product_id: String,
    /// How many visible reviews it has.
    pub count: i64,
    /// The sum of their stars.
    pub sum: i64,
    /// How many visible reviews gave 1, 2, 3, 4 and 5 stars (index 0 is one star).
    pub stars: [i64; 5],
}

impl ProductRating {
    /// The rating of a product nobody reviewed.
    pub fn empty(product_id: impl Into<String>) -> Self {
        Self { product_id: product_id.into(), count: 0, sum: 0, stars: [0; 5] }
    }

    /// The aggregate of `ratings`, counted one by one (what the kept aggregate must equal).
    pub fn recount(product_id: impl Into<String>, ratings: impl IntoIterator<Item = Stars>) -> Self {
        let mut rating = Self::empty(product_id);
        for stars in ratings {
            rating.apply(&RatingDelta::between(None, Some(stars)));
        }
        rating
    }

    /// Adds `delta`.
    pub fn apply(&mut self, delta: &RatingDelta) {
        self.count += delta.count;
        self.sum += delta.sum;
        for (kept, change) in self.stars.iter_mut().zip(delta.stars) {
            *kept += change;
        }
    }

    /// The mean rating rounded to two decimals (half up); `None` without reviews. Computed in
    /// integer hundredths so the rounding is exact.
    pub fn average(&self) -> Option<f64> {
        if self.count <= 0 {
            return None;
        }
        let hundredths = (self.sum * 200 + self.count) / (self.count * 2);
        #[allow(clippy::cast_precision_loss)] // at most 500: exact in an f64
        Some(hundredths as f64 / 100.0)
    }

    /// `(stars, reviews)` for 5 stars down to 1, zeros included.
    pub fn histogram(&self) -> Vec<(u8, i64)> {
        (1..=5u8).rev().zip(self.stars.iter().rev().copied()).collect()
    }
}

/// The change one write makes to a product's aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingDelta {
    /// Change of the review count.
    pub count: i64,
    /// Change of the star sum.
    pub sum: i64,
    /// Change of each star bucket (index 0 is one star).
    pub stars: [i64; 5],
}

impl RatingDelta {
    /// The change from a review counted with `before` stars to one counted with `after`
    /// (`None`: not counted, because it is hidden, new or deleted).
    pub fn between(before: Option<Stars>, after: Option<Stars>) -> Self {
        let mut delta = Self::default();
        for (stars, sign) in [(before, -1), (after, 1)] {
            if let Some(stars) = stars {
                delta.count += sign;
                delta.sum += sign * i64::from(stars.get());
                if let Some(bucket) = delta.stars.get_mut(usize::from(stars.get()) - 1) {
                    *bucket += sign;
                }
            }
        }
        delta
    }

    /// Whether it changes nothing (e.g. a title edit, or a hidden review's new rating).
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stars(n: i32) -> Stars {
        Stars::new(n).unwrap()
    }

    #[test]
    fn averages_round_half_up_to_two_places() {
        assert_eq!(ProductRating::empty("p").average(), None);
        let rating = ProductRating::recount("p", [stars(5), stars(4), stars(4)]);
        assert_eq!(rating.average(), Some(4.33));
        assert_eq!(ProductRating::recount("p", [stars(5), stars(4), stars(5)]).average(), Some(4.67));
        assert_eq!(ProductRating::recount("p", [stars(1), stars(2)]).average(), Some(1.5));
        // 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 = 9 / 8 = 1.125 → 1.13
        let many = ProductRating::recount("p", [1, 1, 1, 1, 1, 1, 1, 2].map(stars));
        assert_eq!(many.average(), Some(1.13));
    }

    #[test]
    fn histogram_runs_from_five_stars_to_one() {
        let rating = ProductRating::recount("p", [stars(5), stars(1), stars(1)]);
        assert_eq!(rating.histogram(), vec![(5, 1), (4, 0), (3, 0), (2, 0), (1, 2)]);
    }

    #[test]
    fn deltas_move_a_review_between_buckets() {
        let delta = RatingDelta::between(Some(stars(2)), Some(stars(5)));
        assert_eq!(delta, RatingDelta { count: 0, sum: 3, stars: [0, -1, 0, 0, 1] });
        assert!(RatingDelta::between(Some(stars(3)), Some(stars(3))).is_zero());
        assert!(RatingDelta::between(None, None).is_zero());
        let mut rating = ProductRating::recount("p", [stars(2)]);
        rating.apply(&RatingDelta::between(Some(stars(2)), None));
        assert_eq!(rating, ProductRating::empty("p"));
    }
}
