//! The router of `connection.dataminer.services`: login, the connect flow and its verification
//! page, token renewal and revocation, and each DMS's view of its own registration. How the
//! front ends check a bearer token is their `FrontEnd` setting, settled once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};

use super::bearer::authenticate;
use super::oauth::{ErrorCode, OAuthError, Params, no_store};
use super::{
    CloudState, approval, device_flow, device_token, dms_removal, org_admin, share_api, sign_in,
};

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
        .route("/oauth/token", post(device_token::token))
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
    super::client_auth::authenticate(state, params, dms_id, &registration.key, now)?;
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
