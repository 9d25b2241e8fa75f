//! A review and the rules for writing one.

use chrono::{DateTime, Utc};
use shop_kernel::auth::Principal;
use uuid::Uuid;

/// Longest title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 5000;
/// Longest product id accepted; catalog ids are UUIDs, so this only bounds abuse.
pub const MAX_PRODUCT_ID_CHARS: usize = 100;
/// Longest moderation reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A star rating, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stars(u8);

impl Stars {
    /// The rating `value`, if it is 1 to 5.
    pub fn new(value: i32) -> Result<Self, InvalidField> {
        u8::try_from(value).ok().filter(|v| (1..=5).contains(v)).map(Self).ok_or(InvalidField::Rating)
    }

    /// The number of stars.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The number of stars as stored.
    pub fn as_i32(self) -> i32 {
        i32::from(self.0)
    }
}

/// A review of one product by one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Stable id (UUIDv7).
    pub id: Uuid,
    /// The catalog product reviewed.
    pub product_id: String,
    /// The author.
    pub user_id: Uuid,
    /// The rating.
    pub rating: Stars,
    /// The title, trimmed.
    pub title: String,
    /// The body, exactly as written (never processed as HTML).
    pub body: String,
    /// When it was written (millisecond precision, as stored).
    pub created_at: DateTime<Utc>,
    /// When its text or rating last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether the author bought the product (from the orders service's events).
    pub verified_purchase: bool,
    /// Hidden by a moderator: only the author and admins see it, and it counts in no rating.
    pub hidden: bool,
    /// Why a moderator hid it.
    pub hidden_reason: Option<String>,
    /// Incremented by every change.
    pub version: i64,
}

impl Review {
    /// The rating this review adds to its product's aggregate: none while hidden.
    pub fn counted_rating(&self) -> Option<Stars> {
        (!self.hidden).then_some(self.rating)
    }

    /// Whether `viewer` may see it: everyone sees visible reviews; hidden ones are for the
    /// author and admins.
    pub fn visible_to(&self, viewer: Option<&Principal>) -> bool {
        !self.hidden || viewer.is_some_and(|p| p.may_access(self.user_id))
    }
}

/// An input field that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidField {
    /// The rating is not 1 to 5.
    #[error("rating must be a whole number from 1 to 5")]
    Rating,
    /// The title is blank or too long.
    #[error("title must have 1 to 120 characters")]
    Title,
    /// The body is too long.
    #[error("body must have at most 5000 characters")]
    Body,
    /// The product id is blank or too long.
    #[error("productId must have 1 to 100 characters")]
    ProductId,
    /// The moderation reason is too long.
    #[error("reason must have at most 500 characters")]
    Reason,
}

impl InvalidField {
    /// The input field at fault, as the API names it.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Rating => "rating",
            Self::Title => "title",
            Self::Body => "body",
            Self::ProductId => "productId",
            Self::Reason => "reason",
        }
    }
}

fn title(value: &str) -> Result<String, InvalidField> {
    let value = value.trim();
    let chars = value.chars().count();
    if (1..=MAX_TITLE_CHARS).contains(&chars) { Ok(value.to_owned()) } else { Err(InvalidField::Title) }
}

fn body(value: &str) -> Result<String, InvalidField> {
    if value.chars().count() <= MAX_BODY_CHARS { Ok(value.to_owned()) } else { Err(InvalidField::Body) }
}

fn product_id(value: &str) -> Result<String, InvalidField> {
    let value = value.trim();
    let chars = value.chars().count();
    if (1..=MAX_PRODUCT_ID_CHARS).contains(&chars) { Ok(value.to_owned()) } else { Err(InvalidField::ProductId) }
}

/// The value of `result`, recording its error instead: every broken rule is reported at once,
/// so a client fixes them all in one round.
fn take<T>(result: Result<T, InvalidField>, errors: &mut Vec<InvalidField>) -> Option<T> {
    result.map_err(|error| errors.push(error)).ok()
}

/// A valid new review, before it has an author and a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDraft {
    /// The product, trimmed.
    pub product_id: String,
    /// The rating.
    pub rating: Stars,
    /// The title, trimmed.
    pub title: String,
    /// The body as given.
    pub body: String,
}

impl ReviewDraft {
    /// Validates a new review; every broken rule is reported.
    pub fn parse(product: &str, rating: i32, title_text: &str, body_text: &str) -> Result<Self, Vec<InvalidField>> {
        let mut errors = Vec::new();
        let product_id = take(product_id(product), &mut errors);
        let rating = take(Stars::new(rating), &mut errors);
        let title = take(title(title_text), &mut errors);
        let body = take(body(body_text), &mut errors);
        match (product_id, rating, title, body) {
            (Some(product_id), Some(rating), Some(title), Some(body)) => Ok(Self { product_id, rating, title, body }),
            _ => Err(errors),
        }
    }

    /// The review `author` writes at `now`, not yet marked as a verified purchase.
    pub fn into_review(self, author: Uuid, now: DateTime<Utc>) -> Review {
        Review {
            id: Uuid::now_v7(),
            product_id: self.product_id,
            user_id: author,
            rating: self.rating,
            title: self.title,
            body: self.body,
            created_at: now,
            updated_at: now,
            verified_purchase: false,
            hidden: false,
            hidden_reason: None,
            version: 1,
        }
    }
}

/// A valid edit of a review: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewChange {
    /// The new rating.
    pub rating: Option<Stars>,
    /// The new title, trimmed.
    pub title: Option<String>,
    /// The new body, as given.
    pub body: Option<String>,
}

impl ReviewChange {
    /// Validates an edit; every broken rule is reported.
    pub fn parse(
        rating: Option<i32>,
        title_text: Option<&str>,
        body_text: Option<&str>,
    ) -> Result<Self, Vec<InvalidField>> {
        let mut errors = Vec::new();
        let rating = take(rating.map(Stars::new).transpose(), &mut errors);
        let title = take(title_text.map(title).transpose(), &mut errors);
        let body = take(body_text.map(body).transpose(), &mut errors);
        match (rating, title, body) {
            (Some(rating), Some(title), Some(body)) => Ok(Self { rating, title, body }),
            _ => Err(errors),
        }
    }

    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.rating.is_none() && self.title.is_none() && self.body.is_none()
    }

    /// `review` after the edit at `now` (its version moved on).
    pub fn apply(&self, review: &Review, now: DateTime<Utc>) -> Review {
        Review {
            rating: self.rating.unwrap_or(review.rating),
            title: self.title.clone().unwrap_or_else(|| review.title.clone()),
            body: self.body.clone().unwrap_or_else(|| review.body.clone()),
            updated_at: now,
            version: review.version + 1,
            ..review.clone()
        }
    }
}

/// Validates a moderation reason: trimmed, blank means none.
pub fn parse_reason(reason: Option<&str>) -> Result<Option<String>, InvalidField> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(InvalidField::Reason),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Now, at the millisecond precision the stores keep, so what a write returns equals what a
/// later read returns.
pub fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_one_to_five() {
        assert!(Stars::new(0).is_err());
        assert!(Stars::new(6).is_err());
        assert!(Stars::new(-1).is_err());
        assert_eq!(Stars::new(5).map(Stars::get), Ok(5));
    }

    #[test]
    fn drafts_report_every_broken_rule() {
        let errors = ReviewDraft::parse(" ", 9, "   ", &"x".repeat(MAX_BODY_CHARS + 1)).unwrap_err();
        assert_eq!(
            errors,
            vec![InvalidField::ProductId, InvalidField::Rating, InvalidField::Title, InvalidField::Body]
        );
    }

    #[test]
    fn titles_are_trimmed_and_bodies_kept_as_given() {
        let draft = ReviewDraft::parse(" p1 ", 4, "  Great <b>kettle</b>  ", "  <script>x</script>\n").unwrap();
        assert_eq!(draft.product_id, "p1");
        assert_eq!(draft.title, "Great <b>kettle</b>");
        assert_eq!(draft.body, "  <script>x</script>\n");
        // Limits count characters, not bytes.
        assert!(ReviewDraft::parse("p", 1, &"é".repeat(MAX_TITLE_CHARS), &"ü".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(ReviewDraft::parse("p", 1, &"é".repeat(MAX_TITLE_CHARS + 1), "").is_err());
    }

    #[test]
    fn changes_touch_only_given_fields() {
        let review = ReviewDraft::parse("p", 3, "t", "b").unwrap().into_review(Uuid::new_v4(), now_millis());
        let change = ReviewChange::parse(Some(5), None, Some("new")).unwrap();
        let after = change.apply(&review, review.created_at);
        assert_eq!((after.rating.get(), after.title.as_str(), after.body.as_str(), after.version), (5, "t", "new", 2));
        assert!(ReviewChange::parse(None, None, None).unwrap().is_empty());
        assert_eq!(
            ReviewChange::parse(Some(0), Some(""), None).unwrap_err(),
            vec![InvalidField::Rating, InvalidField::Title]
        );
    }

    #[test]
    fn reasons_are_optional_and_bounded() {
        assert_eq!(parse_reason(Some("  ")), Ok(None));
        assert_eq!(parse_reason(Some(" spam ")), Ok(Some("spam".into())));
        assert_eq!(parse_reason(Some(&"x".repeat(501))), Err(InvalidField::Reason));
    }
}
