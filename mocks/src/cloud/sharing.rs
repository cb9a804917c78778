//! The router of `sharing.dataminer.services`: the signed-in account's shares, and the
//! recipients' front end that carries calls to a DMS's API through its tunnel (`recipient`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::{HeaderMap, StatusCode};

use super::{CloudState, recipient};

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    axum::Router::new()
        .route("/api/shares", get(list))
        .route(
            "/dms/{dms_id}/API/v1/Json.asmx/{method}",
            any(recipient::forward),
        )
        .with_state(state)
}

async fn list(State(state): State<Arc<CloudState>>, headers: HeaderMap) -> Response {
    match state.accounts.signed_in(&headers) {
        Some(account) => {
            Json(serde_json::json!({ "owner": account.email, "shares": [] })).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "login_required" })),
        )
            .into_response(),
    }
}
