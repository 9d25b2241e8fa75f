//! Rate limiting at the edge: a token bucket per caller, answered with HTTP 429, a GraphQL
//! error body (`extensions.code = RATE_LIMITED`) and `Retry-After`.
//!
//! Only requests to the GraphQL endpoint count (not `/health`, `/readiness`, `/metrics`).
//! The caller is the JWT `sub` when a bearer token is present, else the client IP (the
//! first `X-Forwarded-For` hop when `trust_forwarded_for` is set, because behind a load
//! balancer every peer address is the balancer's).
//!
//! Configured in `router.yaml`:
//! ```yaml
//! plugins:
//!   rate_limit:
//!     enabled: true
//!     config: { requests_per_second: 50, burst: 100 }
//! ```

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use hive_router::{
    GraphQLError,
    http::StatusCode,
    ntex,
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload, from_graphql_error_to_bytes},
    },
};
use serde::Deserialize;

/// Settings of the rate limiter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second per caller. Default 50.
    #[serde(default = "default_per_second")]
    pub requests_per_second: u32,
    /// Requests a caller may send at once before the sustained rate applies. Default 100.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Whether to key anonymous callers by the first `X-Forwarded-For` address (only behind
    /// a proxy that sets it). Default false.
    #[serde(default)]
    pub trust_forwarded_for: bool,
}

const fn default_per_second() -> u32 {
    50
}

const fn default_burst() -> u32 {
    100
}

/// Forget idle callers every this many requests, so the key table stays bounded.
const PRUNE_EVERY: u64 = 10_000;

/// The rate-limiting plugin.
pub struct RateLimitPlugin {
    limiter: DefaultKeyedRateLimiter<String>,
    /// Only GraphQL requests count; probes and metrics scrapes must never be refused.
    graphql_path: String,
    trust_forwarded_for: bool,
    requests: AtomicU64,
}

/// The `sub` claim of a bearer token, read without verification: it only picks the bucket.
/// Token verification is the JWT layer's job; a forged token is rejected there.
fn bearer_subject(authorization: &str) -> Option<String> {
    let token = authorization.strip_prefix("Bearer ").or_else(|| authorization.strip_prefix("bearer "))?;
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().filter(|s| !s.is_empty() && s.len() <= 256).map(str::to_owned)
}

impl RateLimitPlugin {
    fn caller(&self, request: &ntex::web::WebRequest<ntex::web::DefaultError>) -> String {
        let headers = request.headers();
        if let Some(subject) = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(bearer_subject) {
            return format!("sub:{subject}");
        }
        if self.trust_forwarded_for {
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty());
            if let Some(address) = forwarded {
                return format!("ip:{address}");
            }
        }
        request.peer_addr().map_or_else(|| "ip:unknown".to_owned(), |a| format!("ip:{}", a.ip()))
    }
}

impl RouterPlugin for RateLimitPlugin {
    type Config = RateLimitConfig;

    fn plugin_name() -> &'static str {
        "rate_limit"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        let per_second =
            NonZeroU32::new(config.requests_per_second).ok_or("rate_limit.requests_per_second must be > 0")?;
        let burst = NonZeroU32::new(config.burst).ok_or("rate_limit.burst must be > 0")?;
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Ok(Some(Self {
            limiter: RateLimiter::dashmap(quota),
            graphql_path: payload.router_config().graphql_path().to_owned(),
            trust_forwarded_for: config.trust_forwarded_for,
            requests: AtomicU64::new(0),
        }))
    }

    fn on_http_request<'req>(&'req self, payload: OnHttpRequestHookPayload<'req>) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            if payload.router_http_request.path() != self.graphql_path {
                return payload.proceed();
            }
            if self.requests.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
                self.limiter.retain_recent();
            }
            let caller = self.caller(&payload.router_http_request);
            match self.limiter.check_key(&caller) {
                Ok(()) => payload.proceed(),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    let body = from_graphql_error_to_bytes(GraphQLError::from_message_and_code(
                        format!("rate limit exceeded; retry in {retry_after}s"),
                        "RATE_LIMITED",
                    ));
                    let response = ntex::http::Response::build(StatusCode::TOO_MANY_REQUESTS)
                        .content_type("application/json")
                        .header("retry-after", retry_after.max(1).to_string())
                        .body(body);
                    payload.end_with_response(response)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_read_from_a_bearer_token() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"user-7","exp":1}"#);
        assert_eq!(bearer_subject(&format!("Bearer h.{payload}.s")).as_deref(), Some("user-7"));
        assert_eq!(bearer_subject("Basic abc"), None);
        assert_eq!(bearer_subject("Bearer not-a-jwt"), None);
    }
}
