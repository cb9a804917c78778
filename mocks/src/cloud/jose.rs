//! The JWS compact form of DMS tokens, read by hand and strictly, before and apart from any
//! library: three canonical base64url segments; a header of `alg` (exactly `HS256`) and
//! optionally `typ` (`JWT`) and nothing else — no `kid`, `jku`, `x5u`, `x5c`, `jwk` or `crit`;
//! a signature checked in constant time (aws-lc's HMAC verify); claims whose times are JSON
//! integers, never strings, floats or null (the GHSA-h395-gr6q-cpjc class). A member named
//! twice, in the header or the claims, refuses the token (RFC 7515 §5.2, RFC 7519 §7.2): two
//! parsers must never read one token two ways.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Map, Value};

use super::tokens::claims::{AUDIENCE, Claims, ISSUER};

/// The header members a DMS token may carry.
const HEADER_MEMBERS: &[&str] = &["alg", "typ"];

/// A token split at its two dots, its header decoded and checked for shape.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    /// `header.payload`: what the signature covers.
    pub signing_input: &'a str,
    pub alg: String,
    payload: &'a str,
    signature: &'a str,
}

/// Splits and reads the header. The `alg` value is returned as found: which ones are accepted
/// is the caller's decision.
pub(crate) fn parse(token: &str) -> Result<Jws<'_>, String> {
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err("not three dot-separated segments".into());
    };
    let header_json = object(header, "header")?;
    if let Some(member) = header_json
        .keys()
        .find(|k| !HEADER_MEMBERS.contains(&k.as_str()))
    {
        return Err(format!("header member {member:?} not allowed"));
    }
    let alg = match header_json.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err("header alg missing or not a string".into()),
    };
    match header_json.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ == "JWT" => {}
        Some(_) => return Err("header typ is not \"JWT\"".into()),
    }
    Ok(Jws {
        signing_input: &token[..header.len() + 1 + payload.len()],
        alg,
        payload,
        signature,
    })
}

impl Jws<'_> {
    /// Whether the signature is a canonical encoding of the HMAC of the signing input.
    pub fn signature_matches(&self, key: &[u8], alg: Algorithm) -> bool {
        if decode(self.signature).is_err() {
            return false;
        }
        jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &DecodingKey::from_secret(key),
            alg,
        )
        .unwrap_or(false)
    }

    /// The claims, strictly typed. Times are not judged here.
    pub fn claims(&self) -> Result<Claims, String> {
        let claims = object(self.payload, "payload")?;
        let text = |name: &str| match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("claim {name} missing or not a non-empty string")),
        };
        let time = |name: &str| match claims.get(name) {
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| format!("claim {name} is not a non-negative integer")),
            Some(_) => Err(format!("claim {name} is not an integer")),
            None => Err(format!("claim {name} missing")),
        };
        let nbf = match claims.get("nbf") {
            None => None,
            Some(_) => Some(time("nbf")?),
        };
        let parsed = Claims {
            iss: text("iss")?,
            sub: text("sub")?,
            aud: text("aud")?,
            iat: time("iat")?,
            exp: time("exp")?,
            nbf,
            jti: text("jti")?,
            fam: text("fam")?,
            org: text("org")?,
        };
        if parsed.iss != ISSUER {
            return Err("wrong issuer".into());
        }
        if parsed.aud != AUDIENCE {
            return Err("wrong audience".into());
        }
        Ok(parsed)
    }
}

/// A signed compact JWS of `claims` with the header `{"typ":"JWT","alg":"HS256"}`.
pub(crate) fn sign(claims: &Claims, key: &[u8]) -> Result<String, String> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .map_err(|e| e.to_string())?;
    Ok(format!("{signing_input}.{signature}"))
}

/// Base64url without padding, and only the canonical spelling: the decoded bytes must encode
/// back to exactly the segment, so no two strings pass for one signature.
pub(super) fn decode(segment: &str) -> Result<Vec<u8>, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| "segment is not base64url".to_owned())?;
    if URL_SAFE_NO_PAD.encode(&bytes) != segment {
        return Err("segment is not canonical base64url".into());
    }
    Ok(bytes)
}

pub(super) fn object(segment: &str, what: &str) -> Result<Map<String, Value>, String> {
    serde_json::from_slice::<UniqueObject>(&decode(segment)?)
        .map(|o| o.0)
        .map_err(|e| format!("{what} is not a JSON object with unique members: {e}"))
}

/// A JSON object whose members at the top level are named once each.
struct UniqueObject(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = UniqueObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((name, value)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!(
                            "member {name:?} named twice"
                        )));
                    }
                    map.insert(name, value);
                }
                Ok(UniqueObject(map))
            }
        }
        deserializer.deserialize_map(Members)
    }
}
