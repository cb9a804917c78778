//! The connect flow, shaped as the OAuth 2.0 Device Authorization Grant (RFC 8628): the agent
//! asks for a device code over its own outbound connection, the Administrator approves the user
//! code in the cloud with a browser session, and the agent polls for its token. The token only
//! ever travels on the agent's connection; the browser sees a user code and nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use rand::RngExt;
use serde::Deserialize;

use super::CloudState;
use super::refresh;
use super::tokens::TokenPair;
use crate::world::{Fault, random_token};

/// How long a device code may wait for approval.
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The polling interval the agent is told to respect.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §6.1: consonants only, so a user code spells no word and survives dictation.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Debug, Clone)]
struct Approval {
    organization: String,
}

/// Who approved a user code: a signed-in account, or nobody (fault
/// `cloud.approve-without-login`).
const ANONYMOUS: &str = "(no session)";

#[derive(Debug, Clone)]
struct Grant {
    user_code: String,
    dms_id: String,
    expires_at: u64,
    approved: Option<Approval>,
    redeemed: bool,
    /// Minted at approval only under fault `cloud.token-via-browser`, which shows it to the
    /// browser and hands the same pair to the DMS.
    prepared: Option<TokenPair>,
}

/// Device codes waiting for approval or redemption.
#[derive(Debug, Default)]
pub(crate) struct DeviceFlows {
    grants: Mutex<HashMap<String, Grant>>,
}

impl DeviceFlows {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An OAuth error response (RFC 6749 §5.2): HTTP 400 with `{"error": ...}`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OAuthError(pub &'static str);

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": self.0 })),
        )
            .into_response()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeviceRequest {
    client_id: String,
    dms_id: String,
}

/// `POST /oauth/device_authorization`, called by the agent.
pub(crate) async fn authorize(
    State(state): State<Arc<CloudState>>,
    Json(request): Json<DeviceRequest>,
) -> Response {
    if request.client_id != "dataminer-cloud-gateway" || request.dms_id.is_empty() {
        return OAuthError("invalid_client").into_response();
    }
    let device_code = random_token(32);
    let user_code = user_code();
    state.devices.lock().insert(
        device_code.clone(),
        Grant {
            user_code: user_code.clone(),
            dms_id: request.dms_id,
            expires_at: state.clock.unix_seconds() + DEVICE_CODE_LIFETIME.as_secs(),
            approved: None,
            redeemed: false,
            prepared: None,
        },
    );
    Json(serde_json::json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": "https://connection.dataminer.services/device",
        "expires_in": DEVICE_CODE_LIFETIME.as_secs(),
        "interval": POLL_INTERVAL.as_secs(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    user_code: String,
    /// The name the Administrator gives the DMS in the cloud, for the logs.
    dms_name: Option<String>,
}

/// `POST /device/approve`, called from the Administrator's signed-in browser. The answer names
/// the DMS and never carries a token or refresh key.
pub(crate) async fn approve(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    Json(form): Json<ApproveForm>,
) -> Response {
    let signed_in = state.accounts.signed_in(&headers);
    let (email, organization) = match signed_in {
        Some(account) => (account.email, account.organization),
        None if state.faults.is_on(Fault::CloudApproveWithoutLogin) => {
            (ANONYMOUS.to_owned(), ANONYMOUS.to_owned())
        }
        None => {
            state
                .log
                .info("device approval refused: no signed-in session");
            return (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "error": "login_required" })),
            )
                .into_response();
        }
    };
    let now = state.clock.unix_seconds();
    let wanted = normalise_user_code(&form.user_code);
    let (device_code, dms_id) = {
        let mut grants = state.devices.lock();
        let Some((device_code, grant)) = grants
            .iter_mut()
            .find(|(_, g)| g.user_code == wanted && g.expires_at > now && !g.redeemed)
        else {
            drop(grants);
            state.log.info(format!(
                "device approval by {email} refused: unknown user code"
            ));
            return (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({ "error": "unknown_user_code" })),
            )
                .into_response();
        };
        grant.approved = Some(Approval {
            organization: organization.clone(),
        });
        (device_code.clone(), grant.dms_id.clone())
    };
    let name = form.dms_name.as_deref().unwrap_or("unnamed");
    state.log.info(format!(
        "DMS {dms_id} ({name}) approved by {email} for organization {organization}"
    ));
    let mut answer = serde_json::json!({
        "approved": true,
        "dms_id": dms_id,
        "organization": organization,
    });
    if state.faults.is_on(Fault::CloudTokenViaBrowser)
        && let Ok(pair) = state.tokens.issue(&dms_id, &organization)
    {
        answer["access_token"] = pair.access_token.clone().into();
        answer["refresh_token"] = pair.refresh_key.clone().into();
        if let Some(grant) = state.devices.lock().get_mut(&device_code) {
            grant.prepared = Some(pair);
        }
    }
    Json(answer).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: String,
    device_code: Option<String>,
    refresh_token: Option<String>,
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /oauth/token`: the device-code grant polled by the agent, or its refresh grant.
pub(crate) async fn token(
    State(state): State<Arc<CloudState>>,
    Json(request): Json<TokenRequest>,
) -> Response {
    match request.grant_type.as_str() {
        DEVICE_GRANT => redeem(&state, request.device_code),
        "refresh_token" => refresh::grant(&state, request.refresh_token.as_deref()),
        _ => OAuthError("unsupported_grant_type").into_response(),
    }
}

fn redeem(state: &Arc<CloudState>, device_code: Option<String>) -> Response {
    let Some(device_code) = device_code else {
        return OAuthError("invalid_request").into_response();
    };
    let now = state.clock.unix_seconds();
    let (dms_id, organization, prepared) = {
        let mut grants = state.devices.lock();
        let Some(grant) = grants.get_mut(&device_code) else {
            return OAuthError("invalid_grant").into_response();
        };
        if grant.redeemed {
            return OAuthError("invalid_grant").into_response();
        }
        if grant.expires_at <= now {
            return OAuthError("expired_token").into_response();
        }
        let Some(approval) = grant.approved.clone() else {
            return OAuthError("authorization_pending").into_response();
        };
        grant.redeemed = true;
        (
            grant.dms_id.clone(),
            approval.organization,
            grant.prepared.take(),
        )
    };
    match prepared.map_or_else(|| state.tokens.issue(&dms_id, &organization), Ok) {
        Ok(pair) => refresh::token_response(&pair),
        Err(_) => OAuthError("server_error").into_response(),
    }
}

fn user_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let pick = rng.random_range(0..USER_CODE_ALPHABET.len());
        code.push(char::from(USER_CODE_ALPHABET[pick]));
    }
    code
}

/// People type user codes in any case, with or without the dash.
fn normalise_user_code(typed: &str) -> String {
    let letters: String = typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match letters.len() {
        8 => format!("{}-{}", &letters[..4], &letters[4..]),
        _ => letters,
    }
}
