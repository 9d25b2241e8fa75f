//! A provider reached over HTTP, and the HTTP face of the simulated provider.
//!
//! The API has the shape card processors use: a `POST` per operation, the idempotency key in
//! an `Idempotency-Key` header, JSON bodies, and the outcome in the status code: `200` done,
//! `402` refused (the body says why), `503` unavailable, `504` no answer in time. Running the
//! simulated provider as its own process ([`simulated_routes`], the `simulated-provider`
//! program) keeps its books outside payments, so killing payments mid-call behaves as it
//! would against a real provider: the hold stays, and the retry with the same key finds it.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use shop_kernel::CurrencyCode;

use super::{AuthorizeRequest, LedgerEntry, PaymentProvider, ProviderError, Receipt, SimulatedProvider};

/// The header that carries the idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    token: String,
    amount_minor: i64,
    currency: CurrencyCode,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount_minor: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct ReceiptBody {
    reference: String,
}

#[derive(Serialize, Deserialize)]
struct ErrorBody {
    error: String,
}

fn error_code(error: ProviderError) -> &'static str {
    error.label()
}

fn error_from(status: reqwest::StatusCode, code: Option<&str>) -> ProviderError {
    match (status.as_u16(), code) {
        (402, Some("insufficient_funds")) => ProviderError::InsufficientFunds,
        // Any other refusal, including a reference the provider does not know (404) or a
        // request it rejects (4xx): a definite answer, not to be retried.
        (400..=499, _) => ProviderError::Declined,
        (504, _) => ProviderError::Timeout,
        _ => ProviderError::Unavailable,
    }
}

/// A provider behind an HTTP API (see the module docs). Connection failures and `5xx` are
/// `Unavailable`; the caller's guard ([`super::ResilientProvider`]) adds timeouts, retries
/// and the breaker.
pub struct HttpProvider {
    client: reqwest::Client,
    base: String,
}

impl HttpProvider {
    /// A client of the provider at `base_url` (e.g. `http://127.0.0.1:4090`). `timeout`
    /// bounds one request, as a backstop behind the guard's own attempt timeout.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()?;
        Ok(Self { client, base: base_url.trim_end_matches('/').to_owned() })
    }

    async fn send<B: Serialize>(&self, path: &str, key: &str, body: &B) -> Result<Receipt, ProviderError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(IDEMPOTENCY_KEY, key)
            .json(body)
            .send()
            .await
            .map_err(|error| if error.is_timeout() { ProviderError::Timeout } else { ProviderError::Unavailable })?;
        let status = response.status();
        if status.is_success() {
            let receipt: ReceiptBody = response.json().await.map_err(|_| ProviderError::Unavailable)?;
            return Ok(Receipt { reference: receipt.reference });
        }
        let code = response.json::<ErrorBody>().await.ok().map(|body| body.error);
        Err(error_from(status, code.as_deref()))
    }

    /// The provider's books (the simulated provider's `GET /v1/ledger`), for reconciliation.
    pub async fn ledger(&self) -> Result<Vec<LedgerEntry>, reqwest::Error> {
        self.client.get(format!("{}/v1/ledger", self.base)).send().await?.error_for_status()?.json().await
    }
}

/// The path of an operation on an authorization. References are the provider's own opaque
/// ids; one that could address another resource is refused rather than sent.
fn authorization_path(authorization: &str, operation: &str) -> Result<String, ProviderError> {
    let plain =
        !authorization.is_empty() && authorization.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain { Ok(format!("/v1/authorizations/{authorization}/{operation}")) } else { Err(ProviderError::Declined) }
}

#[async_trait::async_trait]
impl PaymentProvider for HttpProvider {
    async fn authorize(&self, request: &AuthorizeRequest, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        let body = AuthorizeBody {
            token: request.token.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency,
        };
        self.send("/v1/authorizations", idempotency_key, &body).await
    }

    async fn capture(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        let body = ChangeBody { amount_minor: Some(amount_minor) };
        self.send(&authorization_path(authorization, "capture")?, idempotency_key, &body).await
    }

    async fn void(&self, authorization: &str, idempotency_key: &str) -> Result<Receipt, ProviderError> {
        self.send(&authorization_path(authorization, "void")?, idempotency_key, &ChangeBody { amount_minor: None })
            .await
    }

    async fn refund(
        &self,
        authorization: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Receipt, ProviderError> {
        let body = ChangeBody { amount_minor: Some(amount_minor) };
        self.send(&authorization_path(authorization, "refund")?, idempotency_key, &body).await
    }
}

fn answer(result: Result<Receipt, ProviderError>) -> Response {
    match result {
        Ok(receipt) => Json(ReceiptBody { reference: receipt.reference }).into_response(),
        Err(error) => {
            let status = match error {
                ProviderError::Declined | ProviderError::InsufficientFunds => StatusCode::PAYMENT_REQUIRED,
                ProviderError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                ProviderError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, Json(ErrorBody { error: error_code(error).to_owned() })).into_response()
        }
    }
}

/// The request's idempotency key, when it has a usable one.
fn key_of(headers: &HeaderMap) -> Option<String> {
    let key = headers.get(IDEMPOTENCY_KEY).and_then(|value| value.to_str().ok())?;
    (!key.is_empty() && key.len() <= 255).then(|| key.to_owned())
}

fn key_required() -> Response {
    (StatusCode::BAD_REQUEST, Json(ErrorBody { error: "idempotency_key_required".into() })).into_response()
}

type Shared = State<Arc<SimulatedProvider>>;

async fn authorize(State(provider): Shared, headers: HeaderMap, Json(body): Json<AuthorizeBody>) -> Response {
    let Some(key) = key_of(&headers) else {
        return key_required();
    };
    let request = AuthorizeRequest { token: body.token, amount_minor: body.amount_minor, currency: body.currency };
    answer(provider.authorize(&request, &key).await)
}

async fn change(
    State(provider): Shared,
    Path((authorization, operation)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<ChangeBody>,
) -> Response {
    let Some(key) = key_of(&headers) else {
        return key_required();
    };
    let result = match (operation.as_str(), body.amount_minor) {
        ("capture", Some(amount)) => provider.capture(&authorization, amount, &key).await,
        ("refund", Some(amount)) => provider.refund(&authorization, amount, &key).await,
        ("void", _) => provider.void(&authorization, &key).await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    answer(result)
}

async fn ledger(State(provider): Shared) -> Json<Vec<LedgerEntry>> {
    Json(provider.ledger())
}

/// The simulated provider's HTTP API: the operations, and `GET /v1/ledger` with its books.
pub fn simulated_routes(provider: Arc<SimulatedProvider>) -> Router {
    Router::new()
        .route("/v1/authorizations", post(authorize))
        .route("/v1/authorizations/{authorization}/{operation}", post(change))
        .route("/v1/ledger", get(ledger))
        .with_state(provider)
}
