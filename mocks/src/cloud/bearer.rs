//! How the cloud's front ends (API, tunnel, sharing) take a DMS's bearer token: the scheme, the
//! token service's validation with the checks a route asks for, and the DMS a request acts
//! for. What they check is their `FrontEnd` setting, settled once when the cloud is built.

use http::HeaderMap;

use super::tokens::{Checks, Claims, TokenError};
use super::vault::{SIGNING_KEY, Workloads};
use super::{CloudState, Credential};

/// The request header in which a tunnel upgrade names the DMS it is for; without it, the
/// tunnel is for the DMS the token was issued to.
pub(crate) const DMS_HEADER: &str = "x-dataminer-dms";

/// How the API, tunnel and sharing front ends check a bearer token.
#[derive(Debug, Clone)]
pub(crate) struct FrontEnd {
    /// The front end reads the signing key from the vault itself, with this workload
    /// credential, to check a token's signature before the token service does.
    pub own_key_check: Option<Credential>,
    /// What the share-announce route checks of a token.
    pub announce: Checks,
    /// What the share-withdraw route checks of a token.
    pub withdraw: Checks,
    /// A tunnel ends when the token it was admitted with does (else it is checked only at
    /// admission).
    pub tunnel_ends_with_token: bool,
    /// The `Authorization` scheme is matched without regard to case (RFC 7235 §2.1).
    pub bearer_any_case: bool,
}

impl FrontEnd {
    pub fn from_faults(faults: &crate::world::FaultSet, workloads: &Workloads) -> Self {
        let on = faults.is_on(crate::world::Fault::CloudFrontEndReadsSigningKey);
        let is_on = |fault| faults.is_on(fault);
        Self {
            own_key_check: on.then(|| workloads.front_end.clone()),
            // A stateless validator (signature and dates, no revocation list).
            announce: Checks {
                revocation: !is_on(crate::world::Fault::CloudShareAnnounceIgnoresRevocation),
                ..Checks::ALL
            },
            // A validator copied from an older library that never looked at `exp`.
            withdraw: Checks {
                exp: !is_on(crate::world::Fault::CloudShareWithdrawIgnoresExp),
                ..Checks::ALL
            },
            tunnel_ends_with_token: !is_on(crate::world::Fault::CloudTunnelOutlivesToken),
            bearer_any_case: !is_on(crate::world::Fault::CloudBearerSchemeCaseSensitive),
        }
    }
}

/// The claims of the request's bearer token, validated by the token service.
pub(crate) fn authenticate(state: &CloudState, headers: &HeaderMap) -> Result<Claims, TokenError> {
    authenticate_with(state, headers, Checks::ALL)
}

/// `authenticate`, with the token checks a route's setting asks for.
pub(crate) fn authenticate_with(
    state: &CloudState,
    headers: &HeaderMap,
    checks: Checks,
) -> Result<Claims, TokenError> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| match state.front_end.bearer_any_case {
            true => scheme.eq_ignore_ascii_case("Bearer"),
            false => *scheme == "Bearer",
        })
        .map(|(_, token)| token)
        .ok_or(TokenError::Missing)?;
    if let Some(credential) = &state.front_end.own_key_check {
        let key = state
            .vault
            .read(credential, SIGNING_KEY)
            .map_err(|e| TokenError::Invalid(format!("signing key unavailable: {e}")))?;
        if !super::jose::parse(token)
            .is_ok_and(|jws| jws.signature_matches(&key, jsonwebtoken::Algorithm::HS256))
        {
            return Err(TokenError::Invalid("bad signature".into()));
        }
    }
    state.tokens.validate_with(token, checks)
}

/// The claims an authenticated request acts with for the DMS its `DMS_HEADER` names, or for
/// the token's own DMS when it names none.
pub(crate) fn acting_for(
    state: &CloudState,
    claims: Claims,
    headers: &HeaderMap,
) -> Result<Claims, TokenError> {
    match headers.get(DMS_HEADER).map(|v| v.to_str()) {
        None => Ok(claims),
        Some(Ok(asked)) => state.tokens.act_for(claims, asked),
        Some(Err(_)) => Err(TokenError::Invalid("DMS header is not text".into())),
    }
}
