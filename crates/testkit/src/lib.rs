//! Helpers for tests against real servers. Every test gets its own database, key prefix or
//! name, so tests run in parallel without seeing each other's data.
//!
//! Servers come from the environment (set by `scripts/test.sh`): `TEST_POSTGRES_URL`
//! (an admin connection; default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and `TEST_MONGODB_URL` (required: the
//! MongoDB-protocol server the script starts).
//!
//! A contract test is an `async fn scenario(backend: Backend)`; [`on_backends!`] (or
//! [`on_sql_backends!`] for PostgreSQL and SQLite) makes it one `#[tokio::test]` per backend,
//! named `<backend>::<scenario>`. [`run_graphql`] drives a schema as a [`Viewer`] would,
//! without a socket.

#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod errors;
pub mod proxy;

use async_graphql::{Executor, Request, Variables};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use shop_kernel::auth::{Principal, Role, Viewer};
use uuid::Uuid;

/// Where a store under test keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The PostgreSQL server (`TEST_POSTGRES_URL`), a fresh database per test.
    Postgres,
    /// A SQLite file of the test's own, the embedded twin of PostgreSQL and MongoDB.
    Sqlite,
    /// The MongoDB-protocol server (`TEST_MONGODB_URL`), a fresh database per test.
    Mongo,
    /// The Redis server (`TEST_REDIS_URL`), a key prefix per test.
    Redis,
    /// Process memory, the embedded twin of Redis.
    Memory,
}

/// Runs each scenario `async fn name(backend: Backend)` once per listed backend, as
/// `#[tokio::test]`s named `<module>::<name>`:
///
/// ```ignore
/// shop_testkit::on_backends!([sqlite => Sqlite, mongo => Mongo], [round_trip, conflicts]);
/// ```
#[macro_export]
macro_rules! on_backends {
    ([$($module:ident => $backend:ident),+ $(,)?], $scenarios:tt) => {
        $( $crate::on_backend!($module => $backend, $scenarios); )+
    };
}

/// One module of [`on_backends!`].
#[doc(hidden)]
#[macro_export]
macro_rules! on_backend {
    ($module:ident => $backend:ident, [$($scenario:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::$backend).await
                }
            )*
        }
    };
}

/// [`on_backends!`] on PostgreSQL and SQLite, the two databases of every sea-orm store.
#[macro_export]
macro_rules! on_sql_backends {
    ($($scenario:ident),* $(,)?) => {
        $crate::on_backends!([postgres => Postgres, sqlite => Sqlite], [$($scenario),*]);
    };
}

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

/// A fresh database URL for a sea-orm store on `backend` (PostgreSQL or SQLite), and the
/// guard of its SQLite file if any.
pub async fn fresh_sql_database(backend: Backend) -> (String, Option<TempDir>) {
    match backend {
        Backend::Postgres => (fresh_postgres_database().await, None),
        Backend::Sqlite => {
            let (url, guard) = fresh_sqlite_database();
            (url, Some(guard))
        }
        other => panic!("{other:?} is not a relational database"),
    }
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

/// A signed-in customer.
pub fn customer(user_id: Uuid) -> Viewer {
    Viewer::User(Principal { user_id, roles: vec![Role::Customer] })
}

/// A signed-in admin (also a customer, as every account is).
pub fn admin() -> Viewer {
    Viewer::User(Principal { user_id: Uuid::new_v4(), roles: vec![Role::Customer, Role::Admin] })
}

/// Runs `query` with `variables` on `schema` as `viewer` (what the HTTP handler puts in the
/// request after verifying the token); the whole response as JSON: `data`, and `errors` when
/// there are any.
pub async fn run_graphql(schema: &impl Executor, viewer: &Viewer, query: &str, variables: Value) -> Value {
    let request = Request::new(query).variables(Variables::from_json(variables)).data(viewer.clone());
    serde_json::to_value(schema.execute(request).await).expect("a response serializes")
}

/// The request [`run_graphql`] sends: `query` with `variables`, as `viewer`. Add what else the
/// handler would put in it (e.g. the request headers), then run it with [`run_graphql_request`].
pub fn graphql_request(viewer: &Viewer, query: &str, variables: Value) -> Request {
    Request::new(query).variables(Variables::from_json(variables)).data(viewer.clone())
}

/// Runs a prepared `request` on `schema`; the whole response as JSON, as [`run_graphql`] gives it.
pub async fn run_graphql_request(schema: &impl Executor, request: Request) -> Value {
    serde_json::to_value(schema.execute(request).await).expect("a response serializes")
}
