//! Who is calling: access-token claims, their verification against the users service's JWKS,
//! and the per-request [`Viewer`] that resolvers authorize against.
//!
//! The router verifies every token at the edge; each subgraph verifies it again here, because
//! a subgraph must not trust whoever can reach its port. Verification accepts only `EdDSA`
//! (so `alg: none` and HMAC-with-the-public-key confusion are impossible), and checks the
//! signature, `iss`, `aud`, `exp` and `nbf`. Keys come from the JWKS by `kid`; an unknown `kid`
//! refetches the set (at most once per [`MIN_REFRESH_INTERVAL`]), so rotation needs no restart.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::Context;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, JwkSet},
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::error::{ErrorCode, client_error};

/// The one signature algorithm access tokens use.
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;

/// An unknown `kid` refetches the key set at most this often, so forged `kid`s cannot turn
/// every request into a JWKS download.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Keys are refetched at least this often even when every `kid` is known, so a revoked key
/// stops being accepted.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(600);

/// A role granted to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// May shop: own profile, addresses, carts and orders.
    Customer,
    /// May run the shop: admin queries and mutations in every subgraph.
    Admin,
}

impl Role {
    /// The OAuth-style scope a token carries for this role (the router's `@requiresScopes`
    /// checks scopes).
    pub const fn scope(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's roles when the token was issued.
    pub roles: Vec<Role>,
    /// The roles as space-separated scopes, for the router's `@requiresScopes`.
    pub scope: String,
    /// Who issued the token.
    pub iss: String,
    /// Who the token is for.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Not valid before, seconds since the epoch.
    pub nbf: i64,
    /// Unique token id.
    pub jti: String,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's roles.
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether the caller may run admin operations.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether the caller is `user_id` or an admin: the rule for reading a user's own data.
    pub fn may_access(&self, user_id: Uuid) -> bool {
        self.user_id == user_id || self.is_admin()
    }
}

/// Who is making a request: nobody in particular, or a verified user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Viewer {
    /// No token was presented.
    #[default]
    Anonymous,
    /// A valid token was presented.
    User(Principal),
}

impl Viewer {
    /// The verified caller, if any.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Anonymous => None,
            Self::User(principal) => Some(principal),
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    /// The token has expired.
    #[error("the access token has expired")]
    Expired,
    /// The token is malformed, signed by an unknown key, or has wrong claims.
    #[error("the access token is invalid")]
    Invalid,
    /// The signing keys could not be fetched.
    #[error("the signing keys are unavailable")]
    KeysUnavailable,
}

impl crate::ServiceError for AuthError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::KeysUnavailable => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::Unauthenticated,
        }
    }
}

/// Where the verification keys come from.
enum KeySource {
    /// A fixed set (the users service verifies with its own keys).
    Static,
    /// A JWKS URL, fetched on demand and cached.
    Remote { url: String, client: reqwest::Client },
}

struct KeyCache {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens against a key set.
pub struct TokenVerifier {
    source: KeySource,
    validation: Validation,
    cache: RwLock<KeyCache>,
    /// Serialises refetches so a burst of unknown `kid`s costs one download.
    refresh: Mutex<()>,
}

/// Settings of token verification, shared by every subgraph's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The users service's key set. Default `http://localhost:4001/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The expected `iss`. Default `shop-users`.
    pub issuer: String,
    /// The expected `aud`. Default `shop`.
    pub audience: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwks_url: "http://localhost:4001/.well-known/jwks.json".into(),
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
        }
    }
}

/// The default `iss` of access tokens.
pub const DEFAULT_ISSUER: &str = "shop-users";
/// The default `aud` of access tokens.
pub const DEFAULT_AUDIENCE: &str = "shop";

fn validation(issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(ALGORITHM);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    validation
}

/// The decoding keys of a key set by `kid`; keys of other types or without a `kid` are skipped.
pub fn decoding_keys(set: &JwkSet) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_)))
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

impl TokenVerifier {
    /// A verifier that fetches keys from `config.jwks_url` when it first needs them.
    pub fn remote(config: &AuthConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self::new(
            KeySource::Remote { url: config.jwks_url.clone(), client },
            &config.issuer,
            &config.audience,
            HashMap::new(),
        )
    }

    /// A verifier over a fixed key set.
    pub fn with_keys(set: &JwkSet, issuer: &str, audience: &str) -> Self {
        Self::new(KeySource::Static, issuer, audience, decoding_keys(set))
    }

    fn new(source: KeySource, issuer: &str, audience: &str, keys: HashMap<String, Arc<DecodingKey>>) -> Self {
        let fetched_at = matches!(source, KeySource::Static).then(Instant::now);
        Self {
            source,
            validation: validation(issuer, audience),
            cache: RwLock::new(KeyCache { keys, fetched_at }),
            refresh: Mutex::new(()),
        }
    }

    /// Verifies the value of an `Authorization` header.
    pub async fn verify_header(&self, authorization: &str) -> Result<Principal, AuthError> {
        let token = authorization
            .strip_prefix("Bearer ")
            .or_else(|| authorization.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AuthError::MalformedHeader)?;
        self.verify(token).await.map(|claims| principal(&claims)).and_then(|p| p.ok_or(AuthError::Invalid))
    }

    /// Verifies a token and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != ALGORITHM {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let key = self.key(&kid).await?.ok_or(AuthError::Invalid)?;
        match jsonwebtoken::decode::<Claims>(token, &key, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(error) if matches!(error.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                Err(AuthError::Expired)
            }
            Err(_) => Err(AuthError::Invalid),
        }
    }

    async fn key(&self, kid: &str) -> Result<Option<Arc<DecodingKey>>, AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < MAX_KEY_AGE);
            if let Some(key) = cache.keys.get(kid).filter(|_| fresh || matches!(self.source, KeySource::Static)) {
                return Ok(Some(key.clone()));
            }
        }
        let KeySource::Remote { url, client } = &self.source else {
            return Ok(None);
        };
        let _single_flight = self.refresh.lock().await;
        {
            let cache = self.cache.read().await;
            let recently = cache.fetched_at.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL);
            if recently {
                return Ok(cache.keys.get(kid).cloned());
            }
        }
        let fetched = fetch_jwks(client, url).await;
        let mut cache = self.cache.write().await;
        match fetched {
            Ok(set) => {
                cache.keys = decoding_keys(&set);
                cache.fetched_at = Some(Instant::now());
                Ok(cache.keys.get(kid).cloned())
            }
            Err(error) => {
                tracing::warn!(%error, %url, "cannot fetch the JWKS");
                // Keep serving with the keys we have; without any, nothing can be verified.
                match cache.keys.get(kid) {
                    Some(key) => Ok(Some(key.clone())),
                    None => Err(AuthError::KeysUnavailable),
                }
            }
        }
    }
}

async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<JwkSet, reqwest::Error> {
    client.get(url).send().await?.error_for_status()?.json::<JwkSet>().await
}

/// The caller described by verified claims; `None` when `sub` is not a user id.
pub fn principal(claims: &Claims) -> Option<Principal> {
    let user_id = Uuid::parse_str(&claims.sub).ok()?;
    Some(Principal { user_id, roles: claims.roles.clone() })
}

/// The viewer of the current GraphQL request (anonymous when none was attached).
pub fn viewer<'a>(ctx: &'a Context<'_>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// The signed-in caller, or an `UNAUTHENTICATED` error.
pub fn require_user<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    viewer(ctx).principal().ok_or_else(|| client_error(ErrorCode::Unauthenticated, "sign in to do this"))
}

/// The signed-in admin, or an `UNAUTHENTICATED` / `FORBIDDEN` error.
pub fn require_admin<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    let principal = require_user(ctx)?;
    if principal.is_admin() { Ok(principal) } else { Err(forbidden()) }
}

/// The error for a signed-in caller who may not do or see something.
pub fn forbidden() -> async_graphql::Error {
    client_error(ErrorCode::Forbidden, "you are not allowed to do this")
}
