//! How review lists are ordered and resumed.
//!
//! Pages are keyset pages: a cursor holds the sort key of the last review a client saw, and
//! the next page starts strictly after it. Unlike offsets, a review written or removed between
//! two pages neither repeats nor skips one, and a deep page costs an index seek, not a scan.
//! Every ordering ends with the review id, so positions are unique.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::Review;

/// The order of a product's reviews.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReviewSort {
    /// Most recently written first.
    #[default]
    Newest,
    /// Earliest written first.
    Oldest,
    /// Most stars first; newest first among equal ratings.
    HighestRating,
    /// Fewest stars first; newest first among equal ratings.
    LowestRating,
}

/// A column of the sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// The stars.
    Rating,
    /// The creation time.
    CreatedAt,
    /// The review id (the unique tie-breaker).
    Id,
}

/// Which way a column runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Ascending,
    /// Largest first.
    Descending,
}

impl ReviewSort {
    /// The columns of the ordering, most significant first.
    pub const fn keys(self) -> &'static [(SortField, Direction)] {
        use Direction::{Ascending, Descending};
        use SortField::{CreatedAt, Id, Rating};
        match self {
            Self::Newest => &[(CreatedAt, Descending), (Id, Descending)],
            Self::Oldest => &[(CreatedAt, Ascending), (Id, Ascending)],
            Self::HighestRating => &[(Rating, Descending), (CreatedAt, Descending), (Id, Descending)],
            Self::LowestRating => &[(Rating, Ascending), (CreatedAt, Descending), (Id, Descending)],
        }
    }
}

/// Where a review sits in every ordering: its sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Stars.
    #[serde(rename = "r")]
    pub rating: i32,
    /// Creation time, milliseconds since the epoch.
    #[serde(rename = "t")]
    pub created_at_ms: i64,
    /// The review id.
    #[serde(rename = "i")]
    pub id: String,
}

impl Position {
    /// The position of `review`.
    pub fn of(review: &Review) -> Self {
        Self {
            rating: review.rating.as_i32(),
            created_at_ms: review.created_at.timestamp_millis(),
            id: review.id.to_string(),
        }
    }
}

/// A cursor is not one this API issued for this ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`after` is not a cursor of this list and sort")]
pub struct InvalidCursor;

#[derive(Serialize, Deserialize)]
struct CursorBody {
    #[serde(rename = "s")]
    sort: ReviewSort,
    #[serde(flatten)]
    position: Position,
}

/// The opaque cursor of `position` in a list ordered by `sort`.
pub fn encode_cursor(sort: ReviewSort, position: Position) -> String {
    // Serializing plain strings and integers cannot fail; an empty cursor would be refused
    // on the way back in rather than misread.
    let json = serde_json::to_vec(&CursorBody { sort, position }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The position in a cursor, if it was issued for a list ordered by `sort`: a cursor of
/// another ordering would resume at a meaningless place.
pub fn decode_cursor(sort: ReviewSort, cursor: &str) -> Result<Position, InvalidCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
    if body.sort != sort || uuid::Uuid::parse_str(&body.position.id).is_err() {
        return Err(InvalidCursor);
    }
    Ok(body.position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_within_their_sort() {
        let position = Position { rating: 4, created_at_ms: 1_700_000_000_123, id: uuid::Uuid::now_v7().to_string() };
        let cursor = encode_cursor(ReviewSort::HighestRating, position.clone());
        assert_eq!(decode_cursor(ReviewSort::HighestRating, &cursor), Ok(position));
        assert_eq!(decode_cursor(ReviewSort::Newest, &cursor), Err(InvalidCursor));
        assert_eq!(decode_cursor(ReviewSort::Newest, "bm90LWEtY3Vyc29y"), Err(InvalidCursor));
        assert_eq!(decode_cursor(ReviewSort::Newest, "%%%"), Err(InvalidCursor));
    }

    #[test]
    fn every_ordering_ends_with_the_id() {
        for sort in [ReviewSort::Newest, ReviewSort::Oldest, ReviewSort::HighestRating, ReviewSort::LowestRating] {
            assert_eq!(sort.keys().last().map(|k| k.0), Some(SortField::Id));
        }
    }
}
