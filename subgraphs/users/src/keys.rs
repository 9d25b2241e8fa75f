//! The Ed25519 keys access tokens are signed with, and the JWKS that publishes them.
//!
//! One key signs; every configured key (the signing one and those being retired) is published,
//! so tokens signed before a rotation stay valid until they expire. Rotation: generate a new
//! key, move the old file to `previous_key_files`, restart; drop it from the list once the
//! longest access-token lifetime has passed. `kid` is the RFC 7638 thumbprint of the key.

use std::path::Path;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::{
    EncodingKey,
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
        OctetKeyPairType, PublicKeyUse,
    },
};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A key file is not a PKCS#8 Ed25519 private key in PEM.
    #[error("key file {0} is not a PKCS#8 PEM Ed25519 private key")]
    Malformed(String),
    /// The signing key file is missing and generating one is switched off.
    #[error("signing key file {0} does not exist (set generate_signing_key to create one)")]
    Missing(String),
}

/// The signing key and the published key set.
pub struct SigningKeys {
    kid: String,
    encoding: EncodingKey,
    jwks: JwkSet,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A new Ed25519 private key as PKCS#8 PEM.
pub fn generate_pem() -> Result<String, KeyError> {
    let mut seed = [0_u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    key.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).map_err(|_| KeyError::Malformed("generated key".into()))
}

fn parse(pem: &str, name: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::Malformed(name.to_owned()))
}

fn jwk(key: &SigningKey) -> Jwk {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    // RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
    let thumbprint = Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            key_id: Some(URL_SAFE_NO_PAD.encode(thumbprint)),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x,
        }),
    }
}

impl SigningKeys {
    /// Keys from PEM texts: `active` signs, `previous` are only published.
    pub fn from_pems(active: &str, previous: &[String]) -> Result<Self, KeyError> {
        let signing = parse(active, "signing key")?;
        let der = signing.to_pkcs8_der().map_err(|_| KeyError::Malformed("signing key".into()))?;
        let active_jwk = jwk(&signing);
        let kid = active_jwk.common.key_id.clone().unwrap_or_default();
        let mut keys = vec![active_jwk];
        for (index, pem) in previous.iter().enumerate() {
            keys.push(jwk(&parse(pem, &format!("previous key {index}"))?));
        }
        Ok(Self { kid, encoding: EncodingKey::from_ed_der(der.as_bytes()), jwks: JwkSet { keys } })
    }

    /// Keys from files. When `active_path` does not exist and `generate` is set, a new key is
    /// generated and written there (owner-only permissions) first: the embedded mode's dev key.
    pub fn load(active_path: &str, previous_paths: &[String], generate: bool) -> Result<Self, KeyError> {
        fn io(path: &str) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
            move |source| KeyError::Io { path: path.to_owned(), source }
        }
        let path = Path::new(active_path);
        if !path.exists() {
            if !generate {
                return Err(KeyError::Missing(active_path.to_owned()));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io(active_path))?;
            }
            write_private(path, &generate_pem()?).map_err(io(active_path))?;
            tracing::warn!(path = active_path, "generated a new signing key (development only)");
        }
        let active = std::fs::read_to_string(path).map_err(io(active_path))?;
        let previous =
            previous_paths.iter().map(|p| std::fs::read_to_string(p).map_err(io(p))).collect::<Result<Vec<_>, _>>()?;
        Self::from_pems(&active, &previous)
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key that signs new tokens.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// Every published public key.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

#[cfg(unix)]
fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(pem.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    std::fs::write(path, pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_published_and_the_first_signs() {
        let (a, b) = (generate_pem().unwrap(), generate_pem().unwrap());
        let keys = SigningKeys::from_pems(&a, std::slice::from_ref(&b)).unwrap();
        assert_eq!(keys.jwks().keys.len(), 2);
        assert_eq!(keys.jwks().keys[0].common.key_id.as_deref(), Some(keys.kid()));
        let rotated = SigningKeys::from_pems(&b, &[]).unwrap();
        assert_eq!(keys.jwks().keys[1].common.key_id.as_deref(), Some(rotated.kid()), "kids are stable per key");
        assert!(SigningKeys::from_pems("not a key", &[]).is_err());
    }
}
