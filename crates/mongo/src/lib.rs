//! What the MongoDB-backed stores (users, catalog, reviews) share: what a driver error means
//! ([`failure`], [`duplicate_key_index`]), documents to and from serde types through relaxed
//! extended JSON, typed reads of document fields, and the connection and index helpers.
//!
//! Everything here is written for MongoDB; the MongoDB-protocol server the tests run on speaks
//! the same wire protocol and error codes for all of it.

use chrono::{DateTime, Utc};
use mongodb::{
    Client, Database, IndexModel,
    bson::{self, Bson, Document},
    error::{ErrorKind, WriteFailure},
    options::{ClientOptions, IndexOptions},
};
use serde::{Serialize, de::DeserializeOwned};
use shop_kernel::store::StoreFailure;
use uuid::Uuid;

/// The server's code of a unique index violation.
const DUPLICATE_KEY: i32 = 11000;
/// The server's code of creating a collection that exists.
const NAMESPACE_EXISTS: i32 = 48;

/// What a driver error means for a store: the server cannot be reached (unavailable, worth
/// retrying) or it answered with something this code did not expect (corrupt).
pub fn failure(error: &mongodb::error::Error) -> StoreFailure {
    match error.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => StoreFailure::unavailable(error),
        _ if error.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
            || error.contains_label(mongodb::error::TRANSIENT_TRANSACTION_ERROR) =>
        {
            StoreFailure::unavailable(error)
        }
        _ => StoreFailure::corrupt(error),
    }
}

/// [`failure`] of an owned error, for `map_err`.
pub fn failed(error: mongodb::error::Error) -> StoreFailure {
    failure(&error)
}

/// The name of the unique index a write collided with, if `error` is a duplicate key (E11000).
///
/// The server names the index in the error message (`… index: <name> dup key: …`), its
/// documented format; the stores name their indexes so the name says which key was taken.
pub fn duplicate_key_index(error: &mongodb::error::Error) -> Option<&str> {
    let message = match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => &write.message,
        ErrorKind::Command(command) if command.code == DUPLICATE_KEY => &command.message,
        _ => return None,
    };
    Some(message.split_once(" index: ").and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or_default())
}

/// Whether `error` is a duplicate key (E11000) on any unique index.
pub fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    duplicate_key_index(error).is_some()
}

/// Whether `error` says a collection being created exists already (another replica won).
pub fn is_namespace_exists(error: &mongodb::error::Error) -> bool {
    matches!(error.kind.as_ref(), ErrorKind::Command(command) if command.code == NAMESPACE_EXISTS)
}

/// Connects to `url` with a pool of up to `max_connections` and uses database `database`.
pub async fn connect(url: &str, database: &str, max_connections: u32) -> Result<(Client, Database), StoreFailure> {
    let mut options = ClientOptions::parse(url).await.map_err(failed)?;
    options.max_pool_size = Some(max_connections.max(1));
    let client = Client::with_options(options).map_err(failed)?;
    let database = client.database(database);
    Ok((client, database))
}

/// An index on `keys` named `name`, unique or not.
pub fn index(keys: Document, name: &str, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().name(name.to_owned()).unique(unique).build())
        .build()
}

/// `value` as a document, through JSON (so `Decimal`s, `Uuid`s and times are stored as the
/// strings and numbers their serde forms are, as the SQL twins store them).
pub fn to_document<T: Serialize>(value: &T) -> Result<Document, StoreFailure> {
    let json = serde_json::to_value(value).map_err(StoreFailure::corrupt)?;
    bson::to_document(&json).map_err(StoreFailure::corrupt)
}

/// A document written by [`to_document`] (extra fields ignored as the type allows).
pub fn from_document<T: DeserializeOwned>(document: Document) -> Result<T, StoreFailure> {
    let json: serde_json::Value = Bson::Document(document).into_relaxed_extjson();
    serde_json::from_value(json).map_err(StoreFailure::corrupt)
}

/// The integer field `key` (stored as 32 or 64 bits).
pub fn int(document: &Document, key: &str) -> Result<i64, StoreFailure> {
    match document.get(key) {
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Int64(n)) => Ok(*n),
        other => Err(StoreFailure::Corrupt(format!("field `{key}` is not an integer: {other:?}"))),
    }
}

/// The time field `key`, stored as integer milliseconds since the epoch (so times compare as
/// numbers in filters and indexes).
pub fn time(document: &Document, key: &str) -> Result<DateTime<Utc>, StoreFailure> {
    let millis = int(document, key)?;
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreFailure::Corrupt(format!("field `{key}` is out of range: {millis}")))
}

/// The string field `key`.
pub fn string<'a>(document: &'a Document, key: &str) -> Result<&'a str, StoreFailure> {
    document.get_str(key).map_err(|error| StoreFailure::Corrupt(format!("field `{key}`: {error}")))
}

/// The UUID field `key`, stored as its string.
pub fn uuid(document: &Document, key: &str) -> Result<Uuid, StoreFailure> {
    Uuid::parse_str(string(document, key)?).map_err(|error| StoreFailure::Corrupt(format!("field `{key}`: {error}")))
}

/// The boolean field `key`.
pub fn boolean(document: &Document, key: &str) -> Result<bool, StoreFailure> {
    document.get_bool(key).map_err(|error| StoreFailure::Corrupt(format!("field `{key}`: {error}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use mongodb::bson::doc;

    use super::*;

    fn write_error(code: i32, message: &str) -> mongodb::error::Error {
        let write: mongodb::error::WriteError = bson::from_document(doc! { "code": code, "errmsg": message }).unwrap();
        mongodb::error::Error::from(ErrorKind::Write(WriteFailure::WriteError(write)))
    }

    #[test]
    fn a_duplicate_key_names_its_index() {
        let error = write_error(
            11000,
            r#"E11000 duplicate key error collection: shop.products index: skus_unique dup key: { skus: "X" }"#,
        );
        assert_eq!(duplicate_key_index(&error), Some("skus_unique"));
        assert!(is_duplicate_key(&error));
        assert_eq!(duplicate_key_index(&write_error(121, "Document failed validation")), None);
    }

    #[test]
    fn a_refused_write_is_not_an_outage() {
        assert!(matches!(failure(&write_error(121, "Document failed validation")), StoreFailure::Corrupt(_)));
    }

    #[test]
    fn fields_are_read_with_their_types() {
        let document = doc! { "n": 5_i32, "at": 1_767_225_600_000_i64, "id": Uuid::nil().to_string(), "flag": true };
        assert_eq!(int(&document, "n").unwrap(), 5);
        assert_eq!(time(&document, "at").unwrap().timestamp(), 1_767_225_600);
        assert_eq!(uuid(&document, "id").unwrap(), Uuid::nil());
        assert!(boolean(&document, "flag").unwrap());
        assert!(matches!(int(&document, "id"), Err(StoreFailure::Corrupt(_))));
        assert!(matches!(string(&document, "missing"), Err(StoreFailure::Corrupt(_))));
    }
}
