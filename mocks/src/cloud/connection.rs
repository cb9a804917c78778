//! The router of `connection.dataminer.services`: login, the connect flow, token revocation and
//! the DMS's own view of its registration.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::HeaderMap;
use serde::Deserialize;

use super::tokens::{Claims, TokenError};
use super::{CloudState, accounts, device_flow};

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    axum::Router::new()
        .route("/account/login", post(accounts::login))
        .route("/oauth/device_authorization", post(device_flow::authorize))
        .route("/device/approve", post(device_flow::approve))
        .route("/oauth/token", post(device_flow::token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/dms/self", get(whoami))
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

#[derive(Debug, Deserialize)]
struct RevokeForm {
    token: String,
}

/// `POST /oauth/revoke` (RFC 7009): the DMS disconnects. Revokes the whole token family and
/// closes its tunnels. Answers 200 whatever the token, as RFC 7009 §2.2 asks.
async fn revoke(State(state): State<Arc<CloudState>>, Json(form): Json<RevokeForm>) -> Response {
    if let Ok(claims) = state.tokens.validate(&form.token)
        && state.tokens.revoke_family(&claims.fam)
    {
        state.tunnels.close_family(&claims.fam);
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
