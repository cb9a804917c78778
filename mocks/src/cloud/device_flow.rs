//! The connect flow, shaped as the OAuth 2.0 Device Authorization Grant (RFC 8628): the agent
//! asks for a device code over its own outbound connection, the Administrator approves the user
//! code in the cloud with a browser session, and the agent polls for its token. The token only
//! ever travels on the agent's connection; the browser sees a user code and nothing else. The
//! approval answers with a redirect to a confirmation page (POST, redirect, GET), as a browser
//! form does. How approval and delivery behave is the flow's `DeviceFlowPolicy`, settled once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use rand::RngExt;
use serde::Deserialize;

use super::CloudState;
use super::refresh;
use super::tokens::TokenPair;
use crate::world::{Fault, FaultSet, random_token};

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

/// Who approved a user code: a signed-in account, or nobody (when approval does not require a
/// session).
const ANONYMOUS: &str = "(no session)";

/// The confirmation page the approval redirects the browser to.
const DONE_PAGE: &str = "/device/done";

/// How the connect flow approves and delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceFlowPolicy {
    /// Approving a user code needs a signed-in dataminer.services session.
    pub approval_requires_session: bool,
    pub delivery: Delivery,
}

/// Where the token goes once a user code is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Only to the DMS, in the answer to its own poll (FLOW-2).
    ServerToServer,
    /// Also to the browser, in the fragment of the approval's redirect (the implicit grant's
    /// shape), from where a page would hand it on: the DMS then polls the same pair.
    ThroughTheBrowser,
}

impl DeviceFlowPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            approval_requires_session: !faults.is_on(Fault::CloudApproveWithoutLogin),
            delivery: if faults.is_on(Fault::CloudTokenViaBrowser) {
                Delivery::ThroughTheBrowser
            } else {
                Delivery::ServerToServer
            },
        }
    }
}

#[derive(Debug, Clone)]
struct Grant {
    user_code: String,
    dms_id: String,
    expires_at: u64,
    approved: Option<Approval>,
    redeemed: bool,
    /// Minted at approval when the token goes through the browser: the same pair is then
    /// handed to the DMS.
    prepared: Option<TokenPair>,
}

/// Device codes waiting for approval or redemption.
#[derive(Debug)]
pub(crate) struct DeviceFlows {
    policy: DeviceFlowPolicy,
    grants: Mutex<HashMap<String, Grant>>,
}

impl DeviceFlows {
    pub fn new(policy: DeviceFlowPolicy) -> Self {
        Self {
            policy,
            grants: Mutex::default(),
        }
    }

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

/// `POST /device/approve`, called from the Administrator's signed-in browser: approves the
/// user code and redirects (303) to the confirmation page, which names the DMS and its
/// organisation. Neither carries a token or refresh key.
pub(crate) async fn approve(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    Json(form): Json<ApproveForm>,
) -> Response {
    let policy = state.devices.policy;
    let signed_in = state.accounts.signed_in(&headers);
    let (email, organization) = match signed_in {
        Some(account) => (account.email, account.organization),
        None if !policy.approval_requires_session => (ANONYMOUS.to_owned(), ANONYMOUS.to_owned()),
        None => {
            state
                .log
                .info("device approval refused: no signed-in session");
            return login_required();
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
    let mut location = format!("{DONE_PAGE}?dms_id={}", query_value(&dms_id));
    if policy.delivery == Delivery::ThroughTheBrowser
        && let Ok(pair) = state.tokens.issue(&dms_id, &organization)
    {
        location.push_str(&format!(
            "#access_token={}&token_type=Bearer&expires_in={}&refresh_token={}",
            pair.access_token, pair.expires_in, pair.refresh_key
        ));
        if let Some(grant) = state.devices.lock().get_mut(&device_code) {
            grant.prepared = Some(pair);
        }
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location)],
        Json(serde_json::json!({ "approved": true, "dms_id": dms_id })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    dms_id: String,
}

/// `GET /device/done?dms_id=…`: the confirmation page, for the signed-in account whose
/// organisation approved that DMS.
pub(crate) async fn done(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    Query(query): Query<DoneQuery>,
) -> Response {
    let Some(account) = state.accounts.signed_in(&headers) else {
        return login_required();
    };
    let approved = state.devices.lock().values().any(|g| {
        g.dms_id == query.dms_id
            && g.approved
                .as_ref()
                .is_some_and(|a| a.organization == account.organization)
    });
    if !approved {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "not_approved" })),
        )
            .into_response();
    }
    Json(serde_json::json!({
        "approved": true,
        "dms_id": query.dms_id,
        "organization": account.organization,
    }))
    .into_response()
}

fn login_required() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({ "error": "login_required" })),
    )
        .into_response()
}

/// `value` as a URL query value: unreserved characters as they are, the rest percent-encoded.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
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
