//! Helpers for tests against real servers. Every test gets its own database, key prefix or
//! name, so tests run in parallel without seeing each other's data.
//!
//! Servers come from the environment (set by `scripts/test.sh`): `TEST_POSTGRES_URL`
//! (an admin connection; default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and `TEST_MONGODB_URL` (required: the
//! MongoDB-protocol server the script starts).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sea_orm::{ConnectionTrait, Database};

/// A name no other test uses, e.g. `shoptest_3f2a…`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin =
        std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = unique_name("shoptest");
    let db = Database::connect(admin.as_str()).await.expect("connect to the PostgreSQL admin database");
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create a test database");
    db.close().await.ok();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base).to_owned();
    format!("{base}/{name}")
}

/// A fresh SQLite database file in a new temporary folder (removed when the guard drops).
pub fn fresh_sqlite_database() -> (String, TempDir) {
    let dir = std::env::temp_dir().join(unique_name("shoptest"));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
    (url, TempDir(dir))
}

/// Removes a temporary folder when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Takes ownership of `path`: it is removed when the guard drops.
    pub fn new(path: std::path::PathBuf) -> Self {
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The MongoDB-protocol server for tests.
pub fn mongo_url() -> String {
    std::env::var("TEST_MONGODB_URL").expect(
        "TEST_MONGODB_URL is not set: run the tests with scripts/test.sh, which starts a MongoDB-protocol server",
    )
}

/// The Redis server for tests.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The SMTP server for tests and the Maildir folder it delivers into: `TEST_SMTP_URL` (e.g.
/// `smtp://127.0.0.1:2525`) and `TEST_SMTP_MAILDIR`, both required (`scripts/test.sh` starts
/// aiosmtpd with its Maildir handler). Messages arrive as files under `<maildir>/new`.
pub fn smtp_server() -> (String, std::path::PathBuf) {
    let url = std::env::var("TEST_SMTP_URL")
        .expect("TEST_SMTP_URL is not set: run the tests with scripts/test.sh, which starts an SMTP server");
    let maildir = std::env::var("TEST_SMTP_MAILDIR")
        .expect("TEST_SMTP_MAILDIR is not set: run the tests with scripts/test.sh, which starts an SMTP server");
    (url, std::path::PathBuf::from(maildir))
}
