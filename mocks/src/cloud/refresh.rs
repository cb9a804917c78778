//! The refresh grant (RFC 6749 §6) with rotation: a refresh key works once and is answered
//! with a new token of the same family and a new refresh key. A key presented a second time is
//! a replay: refused, and (RFC 9700 §4.14.2) the whole family is revoked — every token, the
//! live refresh key, and the family's tunnels.

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header;

use super::CloudState;
use super::device_flow::OAuthError;
use super::tokens::{RefreshKey, TokenPair, TokenService, digest};

/// Why a refresh key was refused; each is `invalid_grant` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RefreshError {
    /// The cloud never issued this key.
    #[error("unknown refresh key")]
    Unknown,
    /// The key's family is revoked.
    #[error("refresh key of revoked family {0}")]
    Revoked(String),
    /// The key was already used. `revoked` says whether the family died of it.
    #[error("replayed refresh key of family {family}")]
    Replayed { family: String, revoked: bool },
    /// Signing the new token failed.
    #[error("cannot issue a token")]
    Unavailable,
}

impl TokenService {
    /// Redeems `refresh_key` for a new token and refresh key of the same family.
    pub fn refresh(&self, refresh_key: &str) -> Result<TokenPair, RefreshError> {
        let rules = self.policy.refresh;
        let (family, dms_id, organization) = {
            let mut book = self.lock();
            let Some(RefreshKey { family, spent }) = book.refresh.get(&digest(refresh_key)) else {
                drop(book);
                self.log.info("refresh refused: unknown refresh key");
                return Err(RefreshError::Unknown);
            };
            let family = family.clone();
            let spent = *spent;
            let Some(owner) = book.families.get(&family) else {
                return Err(RefreshError::Unknown);
            };
            if owner.revoked {
                drop(book);
                self.log
                    .info(format!("refresh refused: family {family} is revoked"));
                return Err(RefreshError::Revoked(family));
            }
            let (dms_id, organization) = (owner.dms_id.clone(), owner.organization.clone());
            if spent {
                drop(book);
                return Err(self.replayed(family, &dms_id));
            }
            if rules.single_use
                && let Some(key) = book.refresh.get_mut(&digest(refresh_key))
            {
                key.spent = true;
            }
            (family, dms_id, organization)
        };
        self.log
            .info(format!("refresh of family {family} for DMS {dms_id}"));
        self.mint(&dms_id, &organization, &family, "refresh_token")
            .map_err(|_| RefreshError::Unavailable)
    }

    fn replayed(&self, family: String, dms_id: &str) -> RefreshError {
        let revoked = self.policy.refresh.revoke_family_on_replay && self.revoke(&family);
        self.log.info(format!(
            "replay detected: used refresh key of family {family} (DMS {dms_id}) presented again{}",
            if revoked { "; family revoked" } else { "" }
        ));
        RefreshError::Replayed { family, revoked }
    }
}

/// `POST /oauth/token` with `grant_type=refresh_token`, called by the agent.
pub(crate) fn grant(state: &Arc<CloudState>, refresh_token: Option<&str>) -> Response {
    let Some(refresh_token) = refresh_token.filter(|t| !t.is_empty()) else {
        return OAuthError("invalid_request").into_response();
    };
    match state.tokens.refresh(refresh_token) {
        Ok(pair) => token_response(&pair),
        Err(RefreshError::Replayed {
            family,
            revoked: true,
        }) => {
            state.tunnels.close_family(&family);
            OAuthError("invalid_grant").into_response()
        }
        Err(RefreshError::Unavailable) => OAuthError("server_error").into_response(),
        Err(_) => OAuthError("invalid_grant").into_response(),
    }
}

/// A successful token response (RFC 6749 §5.1), never cached.
pub(crate) fn token_response(pair: &TokenPair) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_key,
        })),
    )
        .into_response()
}
