//! A DMS the scenario plays itself, over its own connections: a key pair of its own (or a copy
//! of another DMS's), and the connect flow's requests as RFC 8628, RFC 7523 and RFC 7009 spell
//! them, form-encoded. For DMSs beyond the environment's one, and for what an attacker sends
//! that a well-behaved agent never would. Written here, apart from the agent, so the cloud is
//! judged by a second client.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mocks::cloud::Endpoint;
use serde_json::json;

use super::cloud::{CloudClient, Reply};
use crate::{Failure, oracle};

/// RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// RFC 8628 §3.4.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long the assertions this DMS signs live.
const ASSERTION_LIFETIME: u64 = 60;

/// A P-256 key pair: its PKCS#8 private half and its public JWK.
#[derive(Clone)]
pub struct KeyPair {
    pkcs8: Vec<u8>,
    pub jwk: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    pub fn generate() -> Result<Self, Failure> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| Failure::Harness(format!("cannot make a P-256 key: {e}")))?;
        let point = pair.public_key_raw();
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err(Failure::Harness("rcgen gave no uncompressed point".into()));
        };
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self {
            pkcs8: pair.serialize_der(),
            jwk: jwk.to_string(),
        })
    }

    /// A key pair copied from where another DMS keeps it.
    pub fn copied(pkcs8: &[u8], jwk: &str) -> Self {
        Self {
            pkcs8: pkcs8.to_vec(),
            jwk: jwk.to_owned(),
        }
    }
}

/// What a device authorization answered, when it gave codes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Started {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Option<u64>,
    pub interval: Option<u64>,
}

impl Started {
    pub fn of(reply: &Reply) -> Option<Self> {
        Some(Self {
            device_code: reply.field("device_code")?,
            user_code: reply.field("user_code")?,
            verification_uri: reply.field("verification_uri")?,
            verification_uri_complete: reply.field("verification_uri_complete"),
            expires_in: reply.body.get("expires_in").and_then(|v| v.as_u64()),
            interval: reply.body.get("interval").and_then(|v| v.as_u64()),
        })
    }
}

/// A DMS played by the scenario.
#[derive(Debug, Clone)]
pub struct ScriptedDms {
    client: CloudClient,
    pub id: String,
    pub name: String,
    pub organization: String,
    key: KeyPair,
    issuer: String,
}

impl ScriptedDms {
    /// DMS `id` with a fresh key pair, joining the environment's organisation.
    pub fn new(client: &CloudClient, id: &str) -> Result<Self, Failure> {
        Self::with_key(client, id, KeyPair::generate()?)
    }

    /// DMS `id` signing with `key`.
    pub fn with_key(client: &CloudClient, id: &str, key: KeyPair) -> Result<Self, Failure> {
        let issuer = format!("https://{}/", oracle::spec()?.hosts.connection);
        Ok(Self {
            client: client.clone(),
            id: id.to_owned(),
            name: id.to_owned(),
            organization: client.home_organization().to_owned(),
            key,
            issuer,
        })
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    pub fn joining(mut self, organization: &str) -> Self {
        self.organization = organization.to_owned();
        self
    }

    pub fn jwk(&self) -> &str {
        &self.key.jwk
    }

    /// A fresh client assertion for this DMS (RFC 7523 §3).
    pub fn assertion(&self) -> Result<String, Failure> {
        let now = self.client.now();
        let claims = json!({
            "iss": self.id, "sub": self.id, "aud": self.issuer,
            "jti": mocks::world::random_token(16),
            "iat": now, "exp": now + ASSERTION_LIFETIME,
        });
        jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_der(&self.key.pkcs8),
        )
        .map_err(|e| Failure::Harness(format!("cannot sign an assertion: {e}")))
    }

    /// POSTs `params` to `path` of the connection endpoint with this DMS's client
    /// authentication in front.
    pub async fn post_signed(&self, path: &str, params: &[(&str, &str)]) -> Result<Reply, Failure> {
        let assertion = self.assertion()?;
        let mut form = vec![
            ("client_id", self.id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        form.extend_from_slice(params);
        self.client
            .post_form(Endpoint::Connection, path, &form, None)
            .await
    }

    /// A device authorization presenting this DMS's public key.
    pub async fn start(&self) -> Result<Reply, Failure> {
        self.post_signed(
            "oauth/device_authorization",
            &[
                ("dms_name", &self.name),
                ("organization", &self.organization),
                ("jwk", &self.key.jwk),
            ],
        )
        .await
    }

    /// `start`, requiring codes: a setup step.
    pub async fn started(&self) -> Result<Started, Failure> {
        let reply = self.start().await?;
        Started::of(&reply).ok_or_else(|| {
            Failure::precondition(
                format!("device authorization of {}", self.id),
                "a device code and a user code",
                reply,
            )
        })
    }

    /// One poll of the token endpoint for `device_code`.
    pub async fn redeem(&self, device_code: &str) -> Result<Reply, Failure> {
        self.post_signed(
            "oauth/token",
            &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        )
        .await
    }

    pub async fn refresh(&self, refresh_key: &str) -> Result<Reply, Failure> {
        self.post_signed(
            "oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_key),
            ],
        )
        .await
    }

    pub async fn revoke(&self, token: &str) -> Result<Reply, Failure> {
        self.post_signed("oauth/revoke", &[("token", token)]).await
    }
}
