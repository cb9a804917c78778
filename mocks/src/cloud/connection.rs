//! The router of `connection.dataminer.services`: login, the connect flow and its verification
//! page, token renewal and revocation, and each DMS's view of its own registration. How the
//! front ends check a bearer token is their `FrontEnd` setting, settled once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};

use super::oauth::{ErrorCode, OAuthError, Params, no_store};
use super::tokens::{Checks, Claims, TokenError};
use super::vault::{SIGNING_KEY, Workloads};
use super::{
    CloudState, Credential, approval, device_flow, dms_removal, org_admin, share_api, sign_in,
};

/// The request header in which a tunnel upgrade names the DMS it is for; without it, the
/// tunnel is for the DMS the token was issued to.
pub(crate) const DMS_HEADER: &str = "x-dataminer-dms";

#[cfg(test)]
mod tests;

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    routes().with_state(state)
}

/// The routes of `connection.dataminer.services`, each listed in the published table.
pub(crate) fn routes() -> super::routes::Served {
    super::routes::Served::on(super::Endpoint::Connection)
        .route("/account/login", post(sign_in::login_on_connection))
        .route("/account/logout", post(sign_in::logout))
        .route("/oauth/device_authorization", post(device_flow::authorize))
        .route("/device", get(approval::page_for))
        .route("/device/approve", post(approval::approve))
        .route("/device/done", get(approval::done))
        .route("/oauth/token", post(device_flow::token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/dms/self", get(whoami))
        .route("/api/dms/{dms_id}", get(dms))
        .route("/api/dms/shares", post(share_api::announce))
        .route("/api/dms/shares/delete", post(share_api::withdraw))
        .route("/api/org/members/role", post(org_admin::set_role))
        .route(
            "/api/org/remote-access",
            get(org_admin::remote_access).post(org_admin::set_remote_access),
        )
        .route("/api/org/dms/remove", post(dms_removal::remove))
}

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

/// `POST /oauth/revoke` (RFC 7009) with `token` (an access token or refresh key), the DMS's
/// ID as `client_id` and its client assertion: the DMS disconnects. Revokes every token and
/// refresh key of that DMS, whoever holds them, and closes their tunnels. Answers 200 whatever
/// the token, as RFC 7009 §2.2 asks, once the DMS proved its key.
async fn revoke(State(state): State<Arc<CloudState>>, params: Params) -> Response {
    revocation(&state, &params).unwrap_or_else(IntoResponse::into_response)
}

fn revocation(state: &CloudState, params: &Params) -> Result<Response, OAuthError> {
    let token = params.require("token")?;
    let dms_id = params.require("client_id")?;
    let Some(registration) = state.clients.registration(dms_id) else {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "unknown client_id",
        ));
    };
    let now = state.clock.unix_seconds();
    device_flow::authenticate(state, params, dms_id, &registration.key, now)?;
    match state.tokens.family_of(token) {
        Some((family, owner)) if owner == dms_id || state.tokens.revokes_others() => {
            let revoked = state.tokens.disconnect(&owner, &family);
            if revoked.is_empty() {
                state.log.info(format!(
                    "revocation of family {family} for DMS {dms_id} acknowledged"
                ));
            }
            for family in &revoked {
                state.tunnels.close_family(family);
            }
        }
        Some((_, owner)) => state.log.info(format!(
            "DMS {dms_id} asked to revoke a token of DMS {owner}: nothing revoked"
        )),
        None => state
            .log
            .info(format!("DMS {dms_id} asked to revoke an unknown token")),
    }
    Ok(no_store(StatusCode::OK, serde_json::json!({})))
}

/// `GET /api/dms/self`: what the cloud knows of the DMS holding the token.
async fn whoami(State(state): State<Arc<CloudState>>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(claims) => Json(serde_json::json!({
            "dms_id": claims.sub,
            "organization": claims.org,
            "expires_at": claims.exp,
        }))
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /api/dms/{dms_id}`: one DMS's registration, for that DMS's own token only (403 for
/// another DMS's token, 401 for an invalid one, 404 for a DMS the cloud does not know).
async fn dms(
    State(state): State<Arc<CloudState>>,
    Path(dms_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let bound = authenticate(&state, &headers).and_then(|c| state.tokens.act_for(c, &dms_id));
    if let Err(refused) = bound {
        return refused.into_response();
    }
    match state.tokens.registered(&dms_id) {
        Some(organization) => {
            Json(serde_json::json!({ "dms_id": dms_id, "organization": organization }))
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "not_found" })),
        )
            .into_response(),
    }
}
