//! Passwords (argon2id), access tokens (EdDSA JWTs) and refresh tokens (opaque, stored hashed).

use std::{sync::LazyLock, time::Duration};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version, password_hash::SaltString,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::Header;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shop_kernel::auth::{ALGORITHM, Claims};
use uuid::Uuid;

use crate::{domain::User, keys::SigningKeys};

/// argon2id with OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane. About 25 ms per
/// hash on this project's 2-core machine, so logins stay fast while guessing stays expensive.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// argon2 passes.
pub const ARGON2_ITERATIONS: u32 = 2;
/// argon2 lanes.
pub const ARGON2_LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why hashing failed (only on a broken environment: no randomness, bad parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password into a PHC string. CPU-bound: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0_u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of a random password, verified against when the email is unknown so that a login
/// for a missing account costs as much as one for an existing account.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0_u8; 24];
    rand::rng().fill_bytes(&mut random);
    hash_password(&URL_SAFE_NO_PAD.encode(random)).unwrap_or_default()
});

/// Whether `password` matches `hash` (the decoy when `hash` is `None`). CPU-bound.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let hash = hash.unwrap_or(DECOY_HASH.as_str());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2().verify_password(password.as_bytes(), &parsed).is_ok() && hash != DECOY_HASH.as_str()
}

/// Issues access tokens.
pub struct TokenIssuer {
    keys: SigningKeys,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(#[from] jsonwebtoken::errors::Error);

impl TokenIssuer {
    /// An issuer signing with `keys`.
    pub fn new(keys: SigningKeys, issuer: &str, audience: &str, access_ttl: Duration) -> Self {
        Self { keys, issuer: issuer.to_owned(), audience: audience.to_owned(), access_ttl }
    }

    /// The published keys.
    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// An access token for `user`, valid from `now`.
    pub fn access_token(&self, user: &User, now: DateTime<Utc>) -> Result<AccessToken, SignError> {
        let expires_at = now + chrono::Duration::from_std(self.access_ttl).unwrap_or(chrono::Duration::minutes(15));
        let claims = Claims {
            sub: user.id.to_string(),
            roles: user.roles.clone(),
            scope: user.roles.iter().map(|r| r.scope()).collect::<Vec<_>>().join(" "),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: Uuid::now_v7().to_string(),
        };
        let header = Header { kid: Some(self.keys.kid().to_owned()), ..Header::new(ALGORITHM) };
        let token = jsonwebtoken::encode(&header, &claims, self.keys.encoding_key())?;
        Ok(AccessToken { token, expires_at })
    }
}

/// A new opaque refresh token (256 random bits) and the hash it is stored under.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_token_hash(&token);
    (token, hash)
}

/// The stored form of a refresh token. A fast hash is right here: the token has 256 bits of
/// entropy, so unlike a password it cannot be guessed from its hash.
pub fn refresh_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("wrong horse battery", Some(&hash)));
        assert!(!verify_password("anything", None), "the decoy never matches");
        assert!(!verify_password("anything", Some("not a phc string")));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(refresh_token_hash(&a), hash_a);
        assert_ne!(hash_a, a);
    }
}
