//! The rules of reviews, with no I/O: what a valid review is ([`review`]), how a product's
//! rating aggregate changes with each write ([`rating`]), and how lists are ordered and
//! resumed ([`sort`]).

pub mod rating;
pub mod review;
pub mod sort;

pub use self::{
    rating::{ProductRating, RatingDelta},
    review::{InvalidField, Review, ReviewChange, ReviewDraft, Stars, now_millis, parse_reason},
    sort::{Direction, InvalidCursor, Position, ReviewSort, SortField, decode_cursor, encode_cursor},
};
