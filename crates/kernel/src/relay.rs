//! Relay cursor pagination (`first`/`after`), capped at [`MAX_PAGE_SIZE`].
//!
//! Cursors are opaque to clients: base64 of a position in a stable ordering. Every list is
//! ordered with a unique tie-breaker (the id), so positions do not shuffle between pages.

use async_graphql::{
    OutputType,
    connection::{
        Connection, ConnectionNameType, DefaultConnectionName, DefaultEdgeName, Edge, EdgeNameType, EmptyFields,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The most items one page may hold.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

const CURSOR_PREFIX: &str = "o:";

/// Why pagination arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `first` outside `0..=100`.
    #[error("`first` must be between 0 and {MAX_PAGE_SIZE}")]
    FirstOutOfRange,
    /// `after` is not a cursor this API issued.
    #[error("`after` is not a valid cursor")]
    InvalidCursor,
}

/// A validated request for one page: skip `offset` items, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items before the page.
    pub offset: u64,
    /// Items in the page.
    pub limit: u64,
}

impl PageRequest {
    /// Validates `first`/`after` as given by a client.
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self, PageError> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(PageError::FirstOutOfRange);
        }
        let offset = match after {
            Some(cursor) => decode_cursor(cursor)?.checked_add(1).ok_or(PageError::InvalidCursor)?,
            None => 0,
        };
        Ok(Self { offset, limit: u64::try_from(first).map_err(|_| PageError::FirstOutOfRange)? })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub const fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }
}

/// The cursor of the item at `position` in the ordering.
pub fn encode_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{position}"))
}

/// The position a cursor points at.
pub fn decode_cursor(cursor: &str) -> Result<u64, PageError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| PageError::InvalidCursor)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| PageError::InvalidCursor)?;
    text.strip_prefix(CURSOR_PREFIX).and_then(|n| n.parse::<u64>().ok()).ok_or(PageError::InvalidCursor)
}

/// Builds a connection from rows fetched with [`PageRequest::fetch_limit`].
pub fn connection_from_rows<Node, Fields, Name, EdgeName>(
    page: PageRequest,
    mut rows: Vec<Node>,
    fields: Fields,
) -> Connection<String, Node, Fields, EmptyFields, Name, EdgeName>
where
    Node: OutputType,
    Fields: async_graphql::ObjectType,
    Name: ConnectionNameType,
    EdgeName: EdgeNameType,
{
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let has_next_page = rows.len() > limit;
    rows.truncate(limit);
    let mut connection = Connection::with_additional_fields(page.offset > 0, has_next_page, fields);
    connection
        .edges
        .extend(rows.into_iter().zip(page.offset..).map(|(node, position)| Edge::new(encode_cursor(position), node)));
    connection
}

/// A plain connection with no extra fields.
pub type PlainConnection<Node> =
    Connection<String, Node, EmptyFields, EmptyFields, DefaultConnectionName, DefaultEdgeName>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        assert_eq!(decode_cursor(&encode_cursor(41)), Ok(41));
        let page = PageRequest::parse(Some(10), Some(&encode_cursor(9))).unwrap();
        assert_eq!(page, PageRequest { offset: 10, limit: 10 });
    }

    #[test]
    fn refuses_bad_arguments() {
        assert_eq!(PageRequest::parse(Some(101), None), Err(PageError::FirstOutOfRange));
        assert_eq!(PageRequest::parse(Some(-1), None), Err(PageError::FirstOutOfRange));
        assert_eq!(PageRequest::parse(None, Some("not-a-cursor")), Err(PageError::InvalidCursor));
        assert_eq!(PageRequest::parse(None, Some(&URL_SAFE_NO_PAD.encode("o:x"))), Err(PageError::InvalidCursor));
        assert_eq!(PageRequest::parse(None, None), Ok(PageRequest { offset: 0, limit: 20 }));
    }

    #[test]
    fn connection_reports_following_pages() {
        let page = PageRequest::parse(Some(2), None).unwrap();
        let connection: PlainConnection<i32> = connection_from_rows(page, vec![1, 2, 3], EmptyFields);
        assert!(connection.has_next_page);
        assert!(!connection.has_previous_page);
        assert_eq!(connection.edges.len(), 2);
    }
}
