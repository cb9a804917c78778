//! The router of `sharing.dataminer.services`: sign-in and sign-up for recipients, what an
//! emailed link opens (`viewer`) and the relay of an open viewer's requests to the DMS
//! (`share_relay`), the signed-in account's shares, and the organisation's front
//! end that carries calls to its DMSs' API through their tunnels (`recipient`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderMap, StatusCode};

use super::{CloudState, recipient, share_relay, sign_in, signup, viewer};

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    routes().with_state(state)
}

/// The routes of `sharing.dataminer.services`, each listed in the published table.
pub(crate) fn routes() -> super::routes::Served {
    super::routes::Served::on(super::Endpoint::Sharing)
        .route("/api/shares", get(list))
        .route("/account/login", post(sign_in::login_on_sharing))
        .route("/account/logout", post(sign_in::logout))
        .route("/account/create", get(signup::form).post(signup::create))
        .route("/account/create/code", post(signup::send_code))
        .route("/s/{token}", get(viewer::open))
        .route("/s/{token}/", any(share_relay::relay))
        .route("/s/{token}/{*rest}", any(share_relay::relay))
        .route(
            "/dms/{dms_id}/API/v1/Json.asmx/{method}",
            any(recipient::forward),
        )
}

/// `GET /api/shares`: the live shares sent to the signed-in account's address.
async fn list(State(state): State<Arc<CloudState>>, headers: HeaderMap) -> Response {
    match state.accounts.signed_in(&headers) {
        Some(account) => {
            let now = state.clock.unix_seconds();
            let shares: Vec<serde_json::Value> = state
                .shares
                .all()
                .into_iter()
                .filter(|s| !s.ended(now))
                .filter(|s| {
                    !state.shares.policy().list_only_own
                        || s.recipients
                            .iter()
                            .any(|r| r.eq_ignore_ascii_case(&account.email))
                })
                .map(|s| {
                    serde_json::json!({
                        "share_id": s.share_id, "dms_id": s.dms_id, "dashboard": s.dashboard,
                        "shared_by": s.shared_by, "expires_at": s.expires_at,
                    })
                })
                .collect();
            Json(serde_json::json!({ "owner": account.email, "shares": shares })).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "login_required" })),
        )
            .into_response(),
    }
}
