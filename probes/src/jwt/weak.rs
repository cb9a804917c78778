//! The offline weak-secret check: a token's HMAC tried against a list of common and default
//! secrets, as jwt_tool's cracking mode does. Nothing is sent anywhere: one token someone
//! holds is enough to learn a guessable key, and with it to sign any claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;

use super::forge::{Signing, decode_unverified};

/// What trying the list against one token found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeakSecretCheck {
    /// The token's `alg` (HS256, HS384 or HS512).
    pub alg: String,
    /// How many secrets were tried.
    pub tried: usize,
    /// The secret that verifies the token's signature, when one of the list does (shown lossily
    /// as text: it is the finding).
    pub secret: Option<String>,
}

/// Why a token cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakSecretError {
    #[error("the token is not a JWS compact token")]
    NotAToken,
    /// Only HMAC tokens have a secret to guess.
    #[error("the token is signed with {0}, not HMAC: no secret to guess")]
    NotHmac(String),
}

/// Tries every secret of `candidates` against `token`'s HMAC signature.
pub fn check_weak_secret(
    token: &str,
    candidates: &[Vec<u8>],
) -> Result<WeakSecretCheck, WeakSecretError> {
    let (header, _) = decode_unverified(token).ok_or(WeakSecretError::NotAToken)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let signing: fn(Vec<u8>) -> Signing = match alg.as_str() {
        "HS256" => Signing::Hs256,
        "HS384" => Signing::Hs384,
        "HS512" => Signing::Hs512,
        _ => return Err(WeakSecretError::NotHmac(alg)),
    };
    let (input, signature) = token.rsplit_once('.').ok_or(WeakSecretError::NotAToken)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| WeakSecretError::NotAToken)?;
    let secret = candidates
        .iter()
        .find(|secret| signing((*secret).clone()).sign(input.as_bytes()) == signature)
        .map(|secret| String::from_utf8_lossy(secret).into_owned());
    Ok(WeakSecretCheck {
        alg,
        tried: candidates.len(),
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::forge;
    use serde_json::json;

    #[test]
    fn a_listed_secret_is_found_and_a_random_one_is_not() {
        let claims = json!({ "sub": "dms-1", "exp": 2 });
        let list = vec![b"".to_vec(), b"changeme".to_vec(), b"secret".to_vec()];
        for (alg, signing) in [
            ("HS256", Signing::Hs256(b"secret".to_vec())),
            ("HS512", Signing::Hs512(b"secret".to_vec())),
        ] {
            let weak = forge(&json!({ "alg": alg }), &claims, signing);
            assert_eq!(
                check_weak_secret(&weak, &list),
                Ok(WeakSecretCheck {
                    alg: alg.to_owned(),
                    tried: 3,
                    secret: Some("secret".to_owned())
                })
            );
        }
        let strong = forge(
            &json!({ "alg": "HS256" }),
            &claims,
            Signing::Hs256(b"x7Qv!9zLr#2mWp$8".to_vec()),
        );
        assert_eq!(
            check_weak_secret(&strong, &list).map(|c| c.secret),
            Ok(None)
        );
        let none = forge(&json!({ "alg": "none" }), &claims, Signing::None);
        assert_eq!(
            check_weak_secret(&none, &list),
            Err(WeakSecretError::NotHmac("none".to_owned()))
        );
    }
}
