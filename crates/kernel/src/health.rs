//! `/health/live` (the process answers) and `/health/ready` (its own dependencies answer).

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

/// A check of one of the service's own dependencies (never a neighbouring service).
#[async_trait::async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `Ok` when the dependencies answer; `Err` names what does not.
    async fn check(&self) -> Result<(), String>;
}

/// `GET /health/live`: always 200 while the process serves HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// `GET /health/ready`: 200 when [`Readiness::check`] passes, else 503 with the reason.
pub async fn ready(State(readiness): State<Arc<dyn Readiness>>) -> impl IntoResponse {
    match readiness.check().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": reason })))
        }
    }
}
