use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::world::{Clock, Fault, FaultSet, random_token};

/// Every token is valid for one week.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// How far past `exp` a token is still accepted, for clocks that disagree a little.
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);

const ISSUER: &str = "https://connection.dataminer.services/";
const AUDIENCE: &str = "dataminer.services";

/// The claims of a DMS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The DMS the token was issued to.
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    /// The token family: every token and refresh key descending from one connect flow.
    pub fam: String,
    pub org: String,
}

/// Why a token was refused. Each refusal is a 401 with an RFC 6750 error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// No bearer token in the request.
    #[error("no bearer token")]
    Missing,
    /// Not a well-formed HS256 JWT signed with our key, or a claim is wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Past `exp` plus the allowed skew.
    #[error("token expired")]
    Expired,
    /// Its family was revoked (disconnect, or a replayed refresh key).
    #[error("token revoked")]
    Revoked,
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let description = self.to_string();
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
            )],
            Json(serde_json::json!({ "error": "invalid_token", "error_description": description })),
        )
            .into_response()
    }
}

/// A freshly issued token with its refresh key. The refresh key is shown once and stored only
/// as a digest.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_key: String,
}

#[derive(Debug)]
struct Family {
    // Kept so the refresh grant can check a presented key without the key itself being stored.
    #[cfg_attr(not(test), allow(dead_code))]
    refresh_sha256: [u8; 32],
    revoked: bool,
}

/// Issues, validates and revokes DMS tokens.
#[derive(Debug)]
pub(crate) struct TokenService {
    secret: Vec<u8>,
    clock: Clock,
    faults: FaultSet,
    families: Mutex<HashMap<String, Family>>,
}

impl TokenService {
    pub fn new(clock: Clock, faults: FaultSet) -> Self {
        let mut secret = vec![0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut secret);
        Self {
            secret,
            clock,
            faults,
            families: Mutex::new(HashMap::new()),
        }
    }

    pub fn issue(&self, dms_id: &str, organization: &str) -> Result<Issued, TokenError> {
        let iat = self.clock.unix_seconds();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: dms_id.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat,
            exp: iat + TOKEN_LIFETIME.as_secs(),
            jti: random_token(16),
            fam: random_token(16),
            org: organization.to_owned(),
        };
        let access_token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
        // 256 bits from the CSPRNG: well past the 128 a refresh key needs.
        let refresh_key = random_token(32);
        self.lock().insert(
            claims.fam.clone(),
            Family {
                refresh_sha256: Sha256::digest(refresh_key.as_bytes()).into(),
                revoked: false,
            },
        );
        Ok(Issued {
            access_token,
            refresh_key,
        })
    }

    pub fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is judged on the environment's clock, below, not on the wall clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "aud", "iss"]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        let claims = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.secret),
            &validation,
        )
        .map_err(|e| TokenError::Invalid(e.to_string()))?
        .claims;
        if self.clock.unix_seconds() > claims.exp + CLOCK_SKEW.as_secs() {
            return Err(TokenError::Expired);
        }
        match self.lock().get(&claims.fam) {
            Some(family) if !family.revoked => Ok(claims),
            Some(_) => Err(TokenError::Revoked),
            None => Err(TokenError::Invalid("unknown token family".to_owned())),
        }
    }

    /// Revokes every token and refresh key of `family`. Returns whether it was live.
    pub fn revoke_family(&self, family: &str) -> bool {
        if self.faults.is_on(Fault::CloudNoRevokeOnDisconnect) {
            return false;
        }
        self.lock()
            .get_mut(family)
            .map(|f| !std::mem::replace(&mut f.revoked, true))
            .unwrap_or(false)
    }

    #[cfg(test)]
    fn refresh_digest(&self, family: &str) -> Option<[u8; 32]> {
        self.lock().get(family).map(|f| f.refresh_sha256)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Family>> {
        self.families.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn service() -> (TokenService, Clock) {
        let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        (TokenService::new(clock.clone(), FaultSet::none()), clock)
    }

    #[test]
    fn a_token_lives_one_week_plus_the_stated_skew() {
        let (tokens, clock) = service();
        let issued = tokens.issue("dms-1", "org").unwrap();
        let claims = tokens.validate(&issued.access_token).unwrap();
        assert_eq!(claims.exp - claims.iat, 604_800);
        clock.advance(TOKEN_LIFETIME + CLOCK_SKEW);
        assert!(tokens.validate(&issued.access_token).is_ok());
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            tokens.validate(&issued.access_token),
            Err(TokenError::Expired)
        ));
    }

    #[test]
    fn revocation_kills_the_family_and_the_refresh_key_is_kept_only_as_a_digest() {
        let (tokens, _) = service();
        let issued = tokens.issue("dms-1", "org").unwrap();
        let claims = tokens.validate(&issued.access_token).unwrap();
        let digest: [u8; 32] = Sha256::digest(issued.refresh_key.as_bytes()).into();
        assert_eq!(tokens.refresh_digest(&claims.fam), Some(digest));
        assert!(tokens.revoke_family(&claims.fam));
        assert!(matches!(
            tokens.validate(&issued.access_token),
            Err(TokenError::Revoked)
        ));
    }
}
