//! The HTTP bootstrap every subgraph shares: GraphQL at `/graphql`, health, metrics,
//! request timeouts, RED metrics and graceful shutdown.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::Executor;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::State,
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE},
    },
    middleware,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    auth::{AuthError, TokenVerifier, Viewer},
    health::{self, Readiness},
};

/// The headers of the HTTP request that carried a GraphQL operation, available to resolvers
/// as request data (e.g. `Authorization`).
#[derive(Debug, Clone)]
pub struct RequestHeaders(pub HeaderMap);

/// How long one HTTP request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct GraphqlState<E> {
    executor: E,
    verifier: Arc<TokenVerifier>,
}

async fn graphql_handler<E: Executor>(
    State(state): State<GraphqlState<E>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let viewer = match headers.get(AUTHORIZATION) {
        None => Viewer::Anonymous,
        Some(value) => {
            let verified = match value.to_str() {
                Ok(value) => state.verifier.verify_header(value).await,
                Err(_) => Err(AuthError::MalformedHeader),
            };
            match verified {
                Ok(principal) => Viewer::User(principal),
                Err(error) => return auth_failure(&error),
            }
        }
    };
    let wants_event_stream = accepts_event_stream(&headers);
    let request = request.into_inner().data(RequestHeaders(headers)).data(viewer);
    if wants_event_stream {
        return event_stream(&state.executor, request).into_response();
    }
    let mut response = state.executor.execute(request).await;
    crate::error::mask_errors(&mut response);
    GraphQLResponse::from(response).into_response()
}

/// Whether the client asked for results as server-sent events (the router does so for
/// subscriptions; see the graphql-sse protocol's "distinct connections" mode).
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|media| media.trim().starts_with("text/event-stream")))
}

/// Streams every result of the operation as a `next` event and ends with `complete`.
/// Subscriptions stay open until the client goes or the stream ends; a query or mutation
/// sent this way yields its one result.
fn event_stream<E: Executor>(executor: &E, request: async_graphql::Request) -> impl IntoResponse + use<E> {
    let results = executor.execute_stream(request, None).map(|mut response| {
        crate::error::mask_errors(&mut response);
        Event::default()
            .event("next")
            .json_data(&response)
            .or_else(|_| Ok::<_, Infallible>(Event::default().event("next").data(INTERNAL_ERROR_EVENT)))
    });
    let complete = futures::stream::once(async { Ok::<_, Infallible>(Event::default().event("complete").data("")) });
    Sse::new(results.chain(complete)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// What a `next` event carries if a result cannot be serialized (never expected).
const INTERNAL_ERROR_EVENT: &str = r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#;

/// A presented token that does not verify is refused outright (401), never downgraded to
/// anonymous: a client with a stale token must learn it, not see a logged-out shop.
fn auth_failure(error: &AuthError) -> Response {
    let status = match error {
        AuthError::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    let error = crate::error::to_graphql(error).into_server_error(async_graphql::Pos::default());
    let body = async_graphql::Response::from_errors(vec![error]);
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The complete router of a subgraph named `service`.
///
/// Every GraphQL request's `Authorization` header is verified by `verifier`; resolvers read
/// the caller with [`crate::auth::viewer`].
pub fn app<E: Executor>(
    service: &'static str,
    executor: E,
    readiness: Readiness,
    verifier: Arc<TokenVerifier>,
) -> Router {
    // Install the recorder before the first request records into it.
    let _ = crate::metrics::handle();
    let graphql = Router::new()
        .route("/graphql", get(graphql_handler::<E>).post(graphql_handler::<E>))
        .with_state(GraphqlState { executor, verifier });
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .with_state(Arc::new(readiness));
    graphql
        .merge(health)
        .route("/metrics", get(crate::metrics::render))
        .layer(middleware::from_fn_with_state(service, crate::metrics::record_http))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
}

/// Binds `address` (use port 0 for any free port).
pub async fn bind(address: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then drains in-flight requests.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    crate::metrics::start_upkeep();
    let address: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?address, "listening");
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}

/// A token that is cancelled when the process receives Ctrl-C or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let on_signal = token.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        on_signal.cancel();
    });
    token
}

/// Resolves when the process receives Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
