//! Who a DMS is to the cloud: the public key it registered at its first grant. Every later
//! request of that DMS to the OAuth endpoints (a device authorization, a token poll, a refresh,
//! a revocation) authenticates with a client assertion signed by that key (RFC 7523 §2.2, the
//! `private_key_jwt` of OpenID Connect): `iss` and `sub` the DMS ID, `aud` the cloud's issuer
//! exactly (one string, as draft-ietf-oauth-rfc7523bis asks), a `jti` used once, an `exp` at
//! most five minutes after its `iat`. Naming a DMS ID proves nothing; holding its key does.
//! What the checks remember is the `ClientPolicy`, settled once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jose;
use super::tokens::{CLOCK_SKEW, ISSUER};
use crate::world::{Fault, FaultSet};

/// RFC 7523 §2.2.
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest `exp - iat` an assertion may state: long enough for a slow network, short
/// enough that a captured one is soon worthless.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// The header members an assertion may carry (`kid` is read by no one: the DMS has one key).
const HEADER_MEMBERS: &[&str] = &["alg", "typ", "kid"];

/// How client assertions are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientPolicy {
    /// Every `jti` is remembered until its assertion expires, and a second use refused.
    pub remember_jti: bool,
}

impl ClientPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            remember_jti: !faults.is_on(Fault::CloudAssertionReplayable),
        }
    }
}

/// A DMS's public key, read strictly from its JWK: P-256 for ES256, or Ed25519 for EdDSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    kind: KeyKind,
    /// The RFC 7638 SHA-256 thumbprint: how the key is named in the logs and the record.
    pub thumbprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyKind {
    P256 { x: String, y: String },
    Ed25519 { x: String },
}

impl PublicKey {
    /// The key of a JWK given as JSON text: only the members that define the key are read,
    /// and each must be the canonical base64url of a coordinate of the right length.
    pub fn from_jwk(text: &str) -> Result<Self, ClientError> {
        let bad = |why: &str| ClientError::BadKey(why.to_owned());
        let jwk: Map<String, Value> =
            serde_json::from_str(text).map_err(|_| bad("not a JSON object"))?;
        let member = |name: &str| match jwk.get(name) {
            Some(Value::String(s)) => Ok(s.as_str()),
            _ => Err(bad(&format!("member {name} missing"))),
        };
        let coordinate = |name: &str| -> Result<String, ClientError> {
            let value = member(name)?;
            let bytes = URL_SAFE_NO_PAD
                .decode(value)
                .map_err(|_| bad(&format!("{name} is not base64url")))?;
            if bytes.len() != 32 || URL_SAFE_NO_PAD.encode(&bytes) != value {
                return Err(bad(&format!("{name} is not a 32-byte coordinate")));
            }
            Ok(value.to_owned())
        };
        if jwk.contains_key("d") {
            return Err(bad("a private key was sent"));
        }
        let (kind, canonical) = match (member("kty")?, member("crv")?) {
            ("EC", "P-256") => {
                let (x, y) = (coordinate("x")?, coordinate("y")?);
                let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
                (KeyKind::P256 { x, y }, canonical)
            }
            ("OKP", "Ed25519") => {
                let x = coordinate("x")?;
                let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
                (KeyKind::Ed25519 { x }, canonical)
            }
            _ => return Err(bad("only EC P-256 and OKP Ed25519 keys are taken")),
        };
        Ok(Self {
            kind,
            thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())),
        })
    }

    /// The key as its canonical JWK (RFC 7638's member order): what the store keeps, and
    /// `from_jwk` reads back.
    pub fn jwk(&self) -> String {
        match &self.kind {
            KeyKind::P256 { x, y } => {
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            KeyKind::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        }
    }

    fn algorithm(&self) -> (Algorithm, &'static str) {
        match self.kind {
            KeyKind::P256 { .. } => (Algorithm::ES256, "ES256"),
            KeyKind::Ed25519 { .. } => (Algorithm::EdDSA, "EdDSA"),
        }
    }

    fn decoding_key(&self) -> Result<DecodingKey, ClientError> {
        match &self.kind {
            KeyKind::P256 { x, y } => DecodingKey::from_ec_components(x, y),
            KeyKind::Ed25519 { x } => DecodingKey::from_ed_components(x),
        }
        .map_err(|e| ClientError::BadKey(e.to_string()))
    }
}

/// A DMS the cloud knows: registered with its key at its first grant.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub name: String,
    pub organization: String,
    pub key: PublicKey,
}

/// Why a client was not authenticated. Each is `invalid_client` on the wire, with a reason that
/// tells the DMS what to fix and an attacker nothing it did not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("no client assertion")]
    Missing,
    #[error("client_assertion_type must be {ASSERTION_TYPE}")]
    WrongType,
    #[error("malformed client assertion: {0}")]
    Malformed(String),
    #[error("client assertion signature does not verify with the DMS's key")]
    BadSignature,
    #[error("client assertion claim {0} is wrong")]
    WrongClaim(&'static str),
    #[error("client assertion expired")]
    Expired,
    #[error("client assertion lives longer than allowed")]
    TooLong,
    #[error("client assertion already used")]
    Replayed,
    #[error("unusable key: {0}")]
    BadKey(String),
}

/// The DMSs the cloud registered, and the assertions it has seen.
#[derive(Debug)]
pub(crate) struct Clients {
    policy: ClientPolicy,
    registered: Mutex<HashMap<String, Registration>>,
    /// `(client, jti)` of assertions taken, until the second their assertion expires.
    seen: Mutex<HashMap<(String, String), u64>>,
}

impl Clients {
    pub fn new(policy: ClientPolicy) -> Self {
        Self {
            policy,
            registered: Mutex::default(),
            seen: Mutex::default(),
        }
    }

    pub fn registration(&self, dms_id: &str) -> Option<Registration> {
        lock(&self.registered).get(dms_id).cloned()
    }

    /// Whether a DMS other than `dms_id` is registered under an ID that differs from it in
    /// case alone.
    pub fn lookalike(&self, dms_id: &str) -> bool {
        lock(&self.registered)
            .keys()
            .any(|id| id != dms_id && id.eq_ignore_ascii_case(dms_id))
    }

    pub fn register(&self, dms_id: &str, registration: Registration) {
        lock(&self.registered).insert(dms_id.to_owned(), registration);
    }

    /// The registrations become `registered` (rebuilt from the store), and nothing else.
    pub fn replace_all(&self, registered: HashMap<String, Registration>) {
        *lock(&self.registered) = registered;
    }

    /// Checks that `assertion` (of `assertion_type`) authenticates `client_id` with `key` at
    /// `now`, and spends its `jti`.
    pub fn authenticate(
        &self,
        client_id: &str,
        assertion_type: Option<&str>,
        assertion: Option<&str>,
        key: &PublicKey,
        now: u64,
    ) -> Result<(), ClientError> {
        let assertion = assertion.ok_or(ClientError::Missing)?;
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(ClientError::WrongType);
        }
        let (signing_input, header, claims, signature) = split(assertion)?;
        let (algorithm, name) = key.algorithm();
        if header.get("alg").and_then(Value::as_str) != Some(name) {
            return Err(ClientError::Malformed(format!("alg must be {name}")));
        }
        match header.get("typ") {
            None => {}
            Some(Value::String(t)) if t == "JWT" || t == "client-authentication+jwt" => {}
            Some(_) => return Err(ClientError::Malformed("unexpected typ".into())),
        }
        let verified = jsonwebtoken::crypto::verify(
            signature,
            signing_input.as_bytes(),
            &key.decoding_key()?,
            algorithm,
        )
        .unwrap_or(false);
        if !verified {
            return Err(ClientError::BadSignature);
        }
        let text = |name: &'static str| match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => Ok(s.as_str()),
            _ => Err(ClientError::WrongClaim(name)),
        };
        let time = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_u64)
                .ok_or(ClientError::WrongClaim(name))
        };
        if text("iss")? != client_id {
            return Err(ClientError::WrongClaim("iss"));
        }
        if text("sub")? != client_id {
            return Err(ClientError::WrongClaim("sub"));
        }
        if text("aud")? != ISSUER {
            return Err(ClientError::WrongClaim("aud"));
        }
        let jti = text("jti")?;
        let (iat, exp) = (time("iat")?, time("exp")?);
        let skew = CLOCK_SKEW.as_secs();
        if iat > now + skew || exp < iat {
            return Err(ClientError::WrongClaim("iat"));
        }
        if exp - iat > ASSERTION_LIFETIME.as_secs() {
            return Err(ClientError::TooLong);
        }
        if now > exp + skew {
            return Err(ClientError::Expired);
        }
        if self.policy.remember_jti {
            let mut seen = lock(&self.seen);
            seen.retain(|_, until| *until >= now);
            let entry = (client_id.to_owned(), jti.to_owned());
            if seen.contains_key(&entry) {
                return Err(ClientError::Replayed);
            }
            seen.insert(entry, exp + skew);
        }
        Ok(())
    }
}

type Parts<'a> = (&'a str, Map<String, Value>, Map<String, Value>, &'a str);

/// The signing input, header, claims and signature of a compact JWS, read strictly.
fn split(assertion: &str) -> Result<Parts<'_>, ClientError> {
    let malformed = |e: String| ClientError::Malformed(e);
    let mut segments = assertion.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(malformed("not three dot-separated segments".into()));
    };
    let header_json = jose::object(header, "header").map_err(malformed)?;
    if let Some(member) = header_json
        .keys()
        .find(|k| !HEADER_MEMBERS.contains(&k.as_str()))
    {
        return Err(malformed(format!("header member {member:?} not allowed")));
    }
    let claims = jose::object(payload, "payload").map_err(malformed)?;
    jose::decode(signature).map_err(malformed)?;
    let signing_input = &assertion[..header.len() + 1 + payload.len()];
    Ok((signing_input, header_json, claims, signature))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
pub(crate) mod tests;
