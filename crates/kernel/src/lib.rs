//! The small shared platform every subgraph stands on.
//!
//! [`Subgraph`] is the contract every subgraph implements and [`run`] serves one as a service
//! of its own. Each other module is one concern: [`auth`] (who is calling), [`config`]
//! (defaults, file and environment, checked), [`graphql`] (the shared schema limits and SDL),
//! [`input`] (field rules and postal addresses), [`telemetry`] (JSON logs), [`error`] (stable
//! codes that become `extensions.code`), [`money`] (integer minor units), [`relay`] (cursor
//! pagination), [`resilience`] (timeouts, retries and a breaker around calls out), [`store`] (the failures every store shares), [`cache`] (Redis or in process),
//! [`db`] (sea-orm connections), [`health`] and [`metrics`] (operational endpoints),
//! [`server`] (the axum bootstrap) and [`worker`] (the loops of background workers).

pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod federation;
pub mod graphql;
pub mod health;
pub mod input;
pub mod literal;
pub mod metrics;
pub mod money;
pub mod relay;
pub mod resilience;
pub mod server;
pub mod store;
pub mod subgraph;
pub mod telemetry;
pub mod worker;

pub use error::{ErrorCode, ServiceError};
pub use money::{CurrencyCode, Money};
pub use subgraph::{Shared, Subgraph, SubgraphKind, Workers, run};
