//! `/health/live` (the process answers) and `/health/ready` (its own dependencies answer).

use std::{fmt::Display, future::Future, sync::Arc};

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use futures::future::BoxFuture;
use serde_json::json;

type Probe = Box<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The checks of a service's own dependencies (its store, its cache), never of a neighbouring
/// service: a neighbour being down must not take this one out of the load balancer.
#[derive(Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Probe)>,
}

impl Readiness {
    /// No checks yet: ready whenever the process serves HTTP.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the dependency `name`: ready only while `probe(target)` succeeds.
    ///
    /// `Readiness::new().check("store", store.clone(), |store| async move { store.ping().await })`
    pub fn check<T, F, Fut, E>(mut self, name: &'static str, target: Arc<T>, probe: F) -> Self
    where
        T: ?Sized + Send + Sync + 'static,
        F: Fn(Arc<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        let run: Probe = Box::new(move || {
            let answer = probe(target.clone());
            Box::pin(async move { answer.await.map_err(|error| error.to_string()) })
        });
        self.checks.push((name, run));
        self
    }

    /// `Ok` when every dependency answers; otherwise which one does not, and why.
    pub async fn run(&self) -> Result<(), String> {
        for (name, probe) in &self.checks {
            probe().await.map_err(|error| format!("{name}: {error}"))?;
        }
        Ok(())
    }
}

/// `GET /health/live`: always 200 while the process serves HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// `GET /health/ready`: 200 when every [`Readiness`] check passes, else 503 with the reason.
pub async fn ready(State(readiness): State<Arc<Readiness>>) -> impl IntoResponse {
    match readiness.run().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": reason })))
        }
    }
}
