//! Remote access on `sharing.dataminer.services`: a signed-in account calls
//! `/dms/{dms_id}/API/v1/Json.asmx/{Method}`, and the cloud carries the call as one stream
//! through that DMS's tunnel and streams the answer back as it comes; the account signs in on
//! the DMS with its own DMS credentials, and the DMS's permissions apply.
//!
//! Only an account of the organisation that approved the DMS reaches it; any other DMS ID is
//! answered as unknown, so an account cannot probe which DMSs exist elsewhere. Within the
//! organisation, remote access is off until an Owner or Admin enables it for that DMS and that
//! account (`remote_access`). The cloud names the account to the DMS side in a header it sets
//! itself, in place of any the browser sent: the WAF keeps remote sign-ins apart by it. Recipients of a
//! shared dashboard never come this way: their link opens the viewer (`viewer`), which asks the
//! DMS for that dashboard's calls only, as its share user.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri};
use http_body_util::{BodyExt, Limited};

use super::CloudState;
use super::requests::Streamed;
use super::streams::TunnelSendError;
use crate::dms::REMOTE_ACCOUNT_HEADER;
use crate::dms::canonical::API_PREFIX;
use crate::world::{Fault, FaultSet};

/// The most a buffering relay holds of one answer.
const BUFFER_LIMIT: usize = 256 * 1024 * 1024;

/// How the front end passes a DMS's answer on to the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relay {
    /// Chunk by chunk as the tunnel delivers it.
    Streaming,
    /// Whole, once the DMS has sent all of it.
    Buffering,
}

impl Relay {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudSharingBuffersWholeAnswer) {
            Relay::Buffering
        } else {
            Relay::Streaming
        }
    }
}

/// What remote access does with the headers the DMS's side trusts when the cloud or its
/// gateway sets them (a share, a viewer, a share's session, the gateway's key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrustedHeaders {
    /// Removed, as every relay of the cloud's into a tunnel removes them.
    Stripped,
    /// Passed on (`cloud.remote-relay-passes-trusted-headers`): only the headers of one hop and
    /// the browser's credentials are removed, so an account names a share and a viewer.
    Passed,
}

impl TrustedHeaders {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudRemoteRelayPassesTrustedHeaders) {
            TrustedHeaders::Passed
        } else {
            TrustedHeaders::Stripped
        }
    }
}

/// Refusals, in their wire form: a status and a JSON error.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// No live session cookie from `POST /account/login`.
    #[error("login_required")]
    NoSession,
    /// The DMS is not registered, or registered to another organisation.
    #[error("unknown_dms")]
    UnknownDms,
    /// Remote access is not enabled for this account on this DMS.
    #[error("remote_access_not_enabled")]
    NotEnabled,
    /// The method name is not one the DMS API could have.
    #[error("bad_method")]
    BadMethod,
    /// The DMS could not be reached through a tunnel, or its answer broke off.
    #[error("dms_unreachable")]
    Unreachable(#[from] TunnelSendError),
    /// The DMS did not begin its answer within the relay's bound.
    #[error("dms_timeout")]
    TimedOut,
    /// More header bytes than a tunnel takes with one request.
    #[error("request_header_fields_too_large")]
    HeadersTooLarge,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::NoSession => StatusCode::UNAUTHORIZED,
            Refusal::UnknownDms => StatusCode::NOT_FOUND,
            Refusal::NotEnabled => StatusCode::FORBIDDEN,
            Refusal::BadMethod => StatusCode::BAD_REQUEST,
            Refusal::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Refusal::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            Refusal::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        };
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let Refusal::Unreachable(cause) = &self {
            body["detail"] = cause.to_string().into();
        }
        (status, Json(body)).into_response()
    }
}

/// `/dms/{dms_id}/API/v1/Json.asmx/{method}`, any verb: the DMS's API, through its tunnel.
pub(crate) async fn forward(
    State(state): State<Arc<CloudState>>,
    Path((dms_id, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    match exchange(&state, &dms_id, &method, request).await {
        Ok(response) => response,
        Err(refusal) => {
            state.log.info(format!(
                "recipient call {method} on {dms_id} refused: {refusal}"
            ));
            refusal.into_response()
        }
    }
}

async fn exchange(
    state: &CloudState,
    dms_id: &str,
    method: &str,
    request: Request,
) -> Result<Response, Refusal> {
    let account = state
        .accounts
        .signed_in(request.headers())
        .ok_or(Refusal::NoSession)?;
    if !state.tokens.account_reaches(&account.organization, dms_id) {
        return Err(Refusal::UnknownDms);
    }
    if !state.remote_access.allows(&account, dms_id) {
        return Err(Refusal::NotEnabled);
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Refusal::BadMethod);
    }
    let (mut head, body) = request.into_parts();
    let target = state.relay_target.pick(dms_id, &head.uri, &head.headers);
    let query = head
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    head.uri = format!("{API_PREFIX}{method}{query}")
        .parse::<Uri>()
        .map_err(|_| Refusal::BadMethod)?;
    let passes_trusted = state.remote_headers == TrustedHeaders::Passed;
    super::relay_headers::strip(&mut head.headers, passes_trusted);
    if super::relay_headers::too_large(&head.headers, state.tunnel_header_budget) {
        return Err(Refusal::HeadersTooLarge);
    }
    let named = http::HeaderValue::from_str(&account.email).map_err(|_| Refusal::BadMethod)?;
    head.headers.insert(REMOTE_ACCOUNT_HEADER, named);
    // The same real-time wait for the DMS's answer head as the viewer's relay. No bound per
    // account on requests in flight here yet: an account's tools may call from many clients
    // at once, and the project has no figure for them.
    let answer = state
        .relay_budget
        .answer_head(
            state
                .tunnels
                .streams()
                .send(&target, http::Request::from_parts(head, body)),
        )
        .await
        .ok_or(Refusal::TimedOut)??;
    let (mut head, body) = answer.into_parts();
    super::relay_headers::strip(&mut head.headers, false);
    let body = if state.relay == Relay::Buffering {
        let whole = Limited::new(body, BUFFER_LIMIT)
            .collect()
            .await
            .map_err(|e| {
                Refusal::Unreachable(TunnelSendError::BadRequest(format!(
                    "the answer could not be held: {e}"
                )))
            })?
            .to_bytes();
        Body::from(whole)
    } else {
        // Chunk by chunk as the tunnel delivers it: HTTP/2 flow control in the tunnel then
        // holds the DMS to the recipient's pace.
        Body::new(body)
    };
    head.extensions.insert(Streamed);
    Ok(Response::from_parts(head, body))
}
