//! The client authentication of a DMS's OAuth requests (RFC 7523): its `client_id` and the
//! assertion it signed with its registered key, for the device flow, the refresh grant and the
//! revocation alike.

use super::CloudState;
use super::clients::{ClientError, PublicKey};
use super::oauth::{ErrorCode, OAuthError, Params};

/// Checks the request's client assertion for `dms_id` with `key`.
pub(crate) fn authenticate(
    state: &CloudState,
    params: &Params,
    dms_id: &str,
    key: &PublicKey,
    now: u64,
) -> Result<(), OAuthError> {
    if params.get("client_id").is_some_and(|c| c != dms_id) {
        let wrong = ClientError::WrongClaim("client_id");
        return Err(client_refused(state, dms_id, &wrong));
    }
    state
        .clients
        .authenticate(
            dms_id,
            params.get("client_assertion_type"),
            params.get("client_assertion"),
            key,
            now,
        )
        .map_err(|e| client_refused(state, dms_id, &e))
}

pub(crate) fn client_refused(state: &CloudState, dms_id: &str, why: &ClientError) -> OAuthError {
    state.log.info(format!(
        "client authentication for DMS {dms_id} refused: {why}"
    ));
    OAuthError::new(ErrorCode::InvalidClient, why.to_string())
}
