//! The router of `sharing.dataminer.services`. Share management grows here; for now it lists
//! the signed-in account's shares, which proves the endpoint and its session check.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, StatusCode};

use super::CloudState;

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    axum::Router::new()
        .route("/api/shares", get(list))
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
