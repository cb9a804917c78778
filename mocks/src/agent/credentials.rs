//! What the DMS keeps to authenticate towards dataminer.services: its key pair, made when an
//! Administrator first enables the connection and kept for the DMS's life (a disconnect
//! forgets the token, not the key: the key is who the DMS is to the cloud), and the token with
//! its refresh key while connected. The environment owns the store, so a scenario reads what
//! is stored rather than what the agent says is stored.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::world::{Observed, random_token};

/// How long a client assertion the agent signs is valid: one exchange, with room for a slow
/// network.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// The DMS's token and refresh key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_token: String,
    pub refresh_key: String,
    pub obtained_at_unix: u64,
}

/// The DMS's ECDSA P-256 key pair. Its private half is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DmsKey {
    pkcs8: Vec<u8>,
    jwk: String,
}

impl fmt::Debug for DmsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DmsKey")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

/// The key pair could not be made, or an assertion signed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("DMS key: {0}")]
pub struct KeyError(String);

impl DmsKey {
    /// A fresh P-256 key pair from the OS CSPRNG (aws-lc).
    pub(crate) fn generate() -> Result<Self, KeyError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| KeyError(e.to_string()))?;
        let point = pair.public_key_raw();
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err(KeyError("not an uncompressed P-256 point".into()));
        };
        let jwk = serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self {
            pkcs8: pair.serialize_der(),
            jwk: jwk.to_string(),
        })
    }

    /// The public key as a JWK (RFC 7517), the way the cloud registers it.
    pub fn jwk(&self) -> &str {
        &self.jwk
    }

    /// The private key (PKCS#8 DER), as the DMS's disk holds it: for a leak search, or a
    /// thief's copy.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A client assertion (RFC 7523 §3) for `client_id` towards the cloud `issuer`, at `now`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        issuer: &str,
        now: u64,
    ) -> Result<String, KeyError> {
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": issuer,
            "jti": random_token(16),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_der(&self.pkcs8),
        )
        .map_err(|e| KeyError(e.to_string()))
    }
}

#[derive(Debug, Clone, Default)]
struct Stored {
    credentials: Option<Credentials>,
    key: Option<DmsKey>,
}

/// The DMS's credential store: its key pair and its current credentials.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore(Observed<Stored>);

impl CredentialStore {
    pub fn stored(&self) -> Option<Credentials> {
        self.0.read(|s| s.credentials.clone())
    }

    /// The DMS's key pair, once it made one.
    pub fn key(&self) -> Option<DmsKey> {
        self.0.read(|s| s.key.clone())
    }

    pub(crate) fn save(&self, credentials: Credentials) {
        self.0.update(|s| s.credentials = Some(credentials));
    }

    pub(crate) fn save_key(&self, key: DmsKey) {
        self.0.update(|s| s.key = Some(key));
    }

    /// Forgets the token and refresh key; the key pair stays.
    pub(crate) fn erase(&self) {
        self.0.update(|s| s.credentials = None);
    }
}
