//! The router of `connection.dataminer.services`: login, the connect flow, token renewal and
//! revocation, and each DMS's view of its own registration.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::tokens::{Claims, TokenError};
use super::{CloudState, accounts, device_flow};

/// The request header in which a tunnel upgrade names the DMS it is for; without it, the
/// tunnel is for the DMS the token was issued to.
pub(crate) const DMS_HEADER: &str = "x-dataminer-dms";

#[cfg(test)]
mod tests;

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    axum::Router::new()
        .route("/account/login", post(accounts::login))
        .route("/oauth/device_authorization", post(device_flow::authorize))
        .route("/device/approve", post(device_flow::approve))
        .route("/device/done", get(device_flow::done))
        .route("/oauth/token", post(device_flow::token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/dms/self", get(whoami))
        .route("/api/dms/{dms_id}", get(dms))
        .with_state(state)
}

/// The claims of the request's bearer token, validated.
pub(crate) fn authenticate(state: &CloudState, headers: &HeaderMap) -> Result<Claims, TokenError> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(TokenError::Missing)?;
    state.tokens.validate(token)
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

#[derive(Debug, Deserialize)]
struct RevokeForm {
    token: String,
}

/// `POST /oauth/revoke` (RFC 7009): the DMS disconnects. Revokes the whole token family and
/// closes its tunnels. Answers 200 whatever the token, as RFC 7009 §2.2 asks.
async fn revoke(State(state): State<Arc<CloudState>>, Json(form): Json<RevokeForm>) -> Response {
    if let Ok(claims) = state.tokens.validate(&form.token) {
        if state.tokens.revoke_family(&claims.fam) {
            state.tunnels.close_family(&claims.fam);
        } else {
            state.log.info(format!(
                "revocation of family {} for DMS {} acknowledged",
                claims.fam, claims.sub
            ));
        }
    }
    Json(serde_json::json!({})).into_response()
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
