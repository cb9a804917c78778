//! The refresh grant (RFC 6749 §6) with rotation, for the DMS that proves its key: a refresh
//! key works once, presented with an assertion of the key its DMS registered, and is answered
//! with a new token of the same family and a new refresh key. A key presented a second time is
//! a replay: refused, and (RFC 9700 §4.14.2) the whole family is revoked — every token, the
//! live refresh key, and the family's tunnels — whoever presented it. A live key presented
//! without the DMS's proof is refused and stays live: a copy of it alone is worth nothing.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;

use super::CloudState;
use super::oauth::{ErrorCode, OAuthError, Params, no_store};
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
    /// The DMS whose live refresh key `refresh_key` is. A spent key is a replay, handled here.
    pub fn refresh_owner(&self, refresh_key: &str) -> Result<String, RefreshError> {
        self.live_refresh_key(refresh_key)
            .map(|(_, dms_id, _)| dms_id)
    }

    /// Redeems `refresh_key` for a new token and refresh key of the same family: for the
    /// caller that proved it is the key's DMS.
    pub fn refresh(&self, refresh_key: &str) -> Result<TokenPair, RefreshError> {
        let (family, dms_id, organization) = self.live_refresh_key(refresh_key)?;
        {
            let mut book = self.lock();
            let key = book.refresh.get_mut(&digest(refresh_key));
            match key {
                // Spent between the check and now: the same key presented twice at once.
                Some(key) if key.spent => {
                    drop(book);
                    return Err(self.replayed(family, &dms_id));
                }
                Some(key) if self.policy.refresh.single_use => {
                    key.spent = true;
                    drop(book);
                    self.keep_refresh_key(&digest(refresh_key), &family, true);
                }
                _ => {}
            }
        }
        self.log
            .info(format!("refresh of family {family} for DMS {dms_id}"));
        self.mint(&dms_id, &organization, &family, "refresh_token")
            .map_err(|_| RefreshError::Unavailable)
    }

    /// The family, DMS and organisation of a live refresh key.
    fn live_refresh_key(
        &self,
        refresh_key: &str,
    ) -> Result<(String, String, String), RefreshError> {
        let book = self.lock();
        let Some(RefreshKey { family, spent }) = book.refresh.get(&digest(refresh_key)) else {
            drop(book);
            self.log.info("refresh refused: unknown refresh key");
            return Err(RefreshError::Unknown);
        };
        let (family, spent) = (family.clone(), *spent);
        let Some(owner) = book.families.get(&family) else {
            return Err(RefreshError::Unknown);
        };
        let (revoked, dms_id, organization) = (
            owner.revoked,
            owner.dms_id.clone(),
            owner.organization.clone(),
        );
        drop(book);
        if revoked {
            self.log
                .info(format!("refresh refused: family {family} is revoked"));
            return Err(RefreshError::Revoked(family));
        }
        if spent {
            return Err(self.replayed(family, &dms_id));
        }
        Ok((family, dms_id, organization))
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
pub(crate) fn grant(state: &Arc<CloudState>, params: &Params) -> Result<Response, OAuthError> {
    let refresh_token = params.require("refresh_token")?;
    let refused = |e: RefreshError| {
        if let RefreshError::Replayed {
            family,
            revoked: true,
        } = &e
        {
            state.tunnels.close_family(family);
        }
        match e {
            RefreshError::Unavailable => OAuthError::code(ErrorCode::ServerError),
            _ => OAuthError::code(ErrorCode::InvalidGrant),
        }
    };
    let dms_id = state.tokens.refresh_owner(refresh_token).map_err(refused)?;
    let Some(registration) = state.clients.registration(&dms_id) else {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "the DMS of this refresh key is not registered",
        ));
    };
    let now = state.clock.unix_seconds();
    super::client_auth::authenticate(state, params, &dms_id, &registration.key, now)?;
    let pair = state.tokens.refresh(refresh_token).map_err(refused)?;
    Ok(token_response(&pair))
}

/// A successful token response (RFC 6749 §5.1), never cached.
pub(crate) fn token_response(pair: &TokenPair) -> Response {
    no_store(
        StatusCode::OK,
        serde_json::json!({
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_key,
        }),
    )
}
