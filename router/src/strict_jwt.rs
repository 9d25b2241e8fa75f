//! Strict JWT: a request that presents a token the router's JWT layer did not accept is
//! refused with HTTP 401 (`extensions.code = UNAUTHENTICATED`) instead of running as
//! anonymous.
//!
//! hive-router verifies tokens (signature against the users service's JWKS, `iss`, `aud`,
//! `exp`, allowed algorithms) but, unless it requires authentication for every request,
//! treats a bad token like no token. For a shop that is wrong in two ways: a client with an
//! expired token would silently see a logged-out shop, and a forged token would be
//! indistinguishable from a guest in the logs. Requests without an `Authorization` header stay
//! anonymous, so browsing and guest carts keep working.
//!
//! The check runs in the analysis hook, after hive-router has verified the token and before
//! the operation is planned or any subgraph is called.
//!
//! ```yaml
//! plugins:
//!   strict_jwt:
//!     enabled: true
//! ```

use hive_router::{
    GraphQLError, PlanExecutionOutput,
    executor::execution::client_request_details::JwtRequestDetails,
    http::StatusCode,
    plugins::{
        hooks::{
            on_graphql_analysis::{OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, from_graphql_error_to_bytes},
    },
};
use serde::Deserialize;

/// Settings of the strict JWT plugin (none besides `enabled`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrictJwtConfig {}

/// The strict JWT plugin.
pub struct StrictJwtPlugin;

/// The header a token is presented in (hive-router's default lookup location).
const AUTHORIZATION: &str = "authorization";

#[hive_router::async_trait]
impl RouterPlugin for StrictJwtPlugin {
    type Config = StrictJwtConfig;

    fn plugin_name() -> &'static str {
        "strict_jwt"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _config: StrictJwtConfig = payload.config()?;
        Ok(Some(Self))
    }

    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        let details = &payload.client_request_details;
        let presented = details.headers.contains_key(AUTHORIZATION);
        let verified = matches!(details.jwt.as_ref(), JwtRequestDetails::Authenticated { .. });
        if !presented || verified {
            return OnGraphqlAnalysisHookResult::Proceed;
        }
        let error = GraphQLError::from_message_and_code("the access token is invalid or expired", "UNAUTHENTICATED");
        OnGraphqlAnalysisHookResult::EndWithResponse(PlanExecutionOutput {
            body: from_graphql_error_to_bytes(error),
            error_count: 1,
            status_code: StatusCode::UNAUTHORIZED,
        })
    }
}
