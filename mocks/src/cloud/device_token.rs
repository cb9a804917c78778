//! The connect flow's token endpoint: the agent's poll with its device code, signed with its
//! key, answered by what became of the grant (still waiting, slow down, denied, expired, or the
//! token pair once an Owner or Admin approved it), the first redeemed grant registering the
//! DMS with its key; and the refresh grant, handed to `refresh`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::CloudState;
use super::client_auth::authenticate;
use super::clients::Registration;
use super::device_flow::{Approval, Grant, GrantState};
use super::device_policy::{CodePolicy, DEVICE_GRANT, SLOW_DOWN_STEP};
use super::oauth::{ErrorCode, OAuthError, Params};
use super::refresh;

/// `POST /oauth/token`: the device-code grant polled by the agent, or its refresh grant.
pub(crate) async fn token(State(state): State<Arc<CloudState>>, params: Params) -> Response {
    let answered = match params.get("grant_type") {
        Some(DEVICE_GRANT) => redeem(&state, &params).await,
        Some("refresh_token") => {
            let renewed = refresh::grant(&state, &params);
            state.renewal_hold.pass().await;
            renewed
        }
        Some(_) => Err(OAuthError::code(ErrorCode::UnsupportedGrantType)),
        None => Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "missing parameter grant_type",
        )),
    };
    answered.unwrap_or_else(IntoResponse::into_response)
}

async fn redeem(state: &Arc<CloudState>, params: &Params) -> Result<Response, OAuthError> {
    let policy = state.devices.policy;
    let device_code = params.require("device_code")?;
    let now = state.clock.unix_seconds();
    let Some(grant) = state.devices.lock().get(device_code).cloned() else {
        return Err(OAuthError::code(ErrorCode::InvalidGrant));
    };
    if policy.binding.redeem_needs_key {
        authenticate(state, params, &grant.dms_id, &grant.key, now)?;
    }
    let (dms_id, approval, prepared) = if policy.codes.read_then_write {
        let mut copy = state
            .devices
            .lock()
            .get(device_code)
            .cloned()
            .ok_or_else(|| OAuthError::code(ErrorCode::InvalidGrant))?;
        // The store round trip: every concurrent redemption a scenario expects checks here.
        state.redemptions.meet().await;
        let decided = decide(&mut copy, now, policy.codes);
        state.devices.lock().insert(device_code.to_owned(), copy);
        decided?
    } else {
        let mut grants = state.devices.lock();
        let grant = grants
            .get_mut(device_code)
            .ok_or_else(|| OAuthError::code(ErrorCode::InvalidGrant))?;
        decide(grant, now, policy.codes)?
    };
    register(state, &grant, &approval)?;
    state.log.info(format!(
        "device code of DMS {dms_id} redeemed; approved by {}",
        approval.email
    ));
    match prepared.map_or_else(|| state.tokens.issue(&dms_id, &approval.organization), Ok) {
        Ok(pair) => Ok(refresh::token_response(&pair)),
        Err(_) => Err(OAuthError::code(ErrorCode::ServerError)),
    }
}

/// One poll of `grant` at `now`: refused, still pending, or redeemed (spent when codes are
/// single-use). Returns the DMS, its approval and a token prepared at approval, if any.
fn decide(
    grant: &mut Grant,
    now: u64,
    policy: CodePolicy,
) -> Result<(String, Approval, Option<super::tokens::TokenPair>), OAuthError> {
    if policy.expire && now >= grant.expires_at {
        return Err(OAuthError::code(ErrorCode::ExpiredToken));
    }
    // A spent or denied code is over, however fast it is polled.
    match grant.state {
        GrantState::Redeemed => return Err(OAuthError::code(ErrorCode::InvalidGrant)),
        GrantState::Denied => return Err(OAuthError::code(ErrorCode::AccessDenied)),
        GrantState::Pending | GrantState::Approved(_) => {}
    }
    let too_soon = grant.last_poll.is_some_and(|at| now < at + grant.interval);
    grant.last_poll = Some(now);
    if too_soon && policy.slow_down {
        grant.interval += SLOW_DOWN_STEP;
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            format!("poll every {} s", grant.interval),
        ));
    }
    let approval = match &grant.state {
        GrantState::Approved(approval) => approval.clone(),
        _ => return Err(OAuthError::code(ErrorCode::AuthorizationPending)),
    };
    if policy.single_use {
        grant.state = GrantState::Redeemed;
    }
    Ok((grant.dms_id.clone(), approval, grant.prepared.take()))
}

/// The first grant registers the DMS with the grant's key; a later one must be of that key
/// (a grant of another key, started before the DMS registered, redeems nothing).
fn register(state: &CloudState, grant: &Grant, approval: &Approval) -> Result<(), OAuthError> {
    let binding = state.devices.policy.binding;
    match state.clients.registration(&grant.dms_id) {
        Some(known) if known.key == grant.key => Ok(()),
        Some(_) if binding.registered_key => {
            state.log.info(format!(
                "grant of DMS {} refused: it is registered with another key",
                grant.dms_id
            ));
            Err(OAuthError::code(ErrorCode::InvalidGrant))
        }
        _ => {
            state.clients.register(
                &grant.dms_id,
                Registration {
                    name: grant.dms_name.clone(),
                    organization: approval.organization.clone(),
                    key: grant.key.clone(),
                },
            );
            state.log.info(format!(
                "DMS {} registered to {} with key {}",
                grant.dms_id, approval.organization, grant.key.thumbprint
            ));
            let kept = state.store.put(&super::store::DmsRegistration {
                dms_id: grant.dms_id.clone(),
                name: grant.dms_name.clone(),
                organization: approval.organization.clone(),
                key_thumbprint: grant.key.thumbprint.clone(),
                registered_at: state.clock.unix_seconds(),
                public_key: grant.key.jwk(),
            });
            if let Err(e) = kept {
                state.log.info(format!(
                    "registration of DMS {} not stored: {e}",
                    grant.dms_id
                ));
            }
            Ok(())
        }
    }
}
