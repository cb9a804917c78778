//! What a DMS tells the cloud about its shares, server to server with its bearer token: a new
//! share (the cloud mails one link per address) and a deleted one (its links and open viewers
//! end). A DMS speaks only for its own shares: the token's subject is the DMS.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::CloudState;
use super::bearer::authenticate_with;
use super::mail_address::AddressRule;
use super::mail_limits::Cause;
use super::oauth::Params;
use super::pages::utc;
use super::share_keeping;
use super::share_mail::{self, Attribution, ShareFields, ShareText};
use super::shares::Announced;

/// The most addresses one share is sent to.
const MAX_RECIPIENTS: usize = 50;

fn refused(status: StatusCode, error: &str) -> Response {
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

/// `POST /api/dms/shares`: `share_id`, `dashboard` (its name, for the mail), `shared_by`,
/// `emails` (comma-separated), and optionally `message` and `expires_at` (Unix seconds).
pub(crate) async fn announce(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let claims = match authenticate_with(&state, &headers, state.front_end.announce) {
        Ok(claims) => claims,
        Err(refused) => return refused.into_response(),
    };
    let (Some(share_id), Some(dashboard), Some(shared_by), Some(emails)) = (
        params.get("share_id"),
        params.get("dashboard"),
        params.get("shared_by"),
        params.get("emails"),
    ) else {
        return refused(StatusCode::BAD_REQUEST, "missing_parameter");
    };
    let Some(emails) = AddressRule::from_faults(&state.faults).read(emails) else {
        return refused(StatusCode::BAD_REQUEST, "bad_emails");
    };
    if emails.is_empty() || emails.len() > MAX_RECIPIENTS {
        return refused(StatusCode::BAD_REQUEST, "bad_emails");
    }
    let message = params.get("message").map(str::to_owned);
    let text = ShareText::from_faults(&state.faults);
    let fields = ShareFields {
        share_id,
        dashboard,
        shared_by,
        message: message.as_deref(),
    };
    if let Err(why) = text.check(&fields) {
        return refused(StatusCode::BAD_REQUEST, &why.to_string());
    }
    // Who the mails name as their sender: the organisation the DMS was approved into.
    let Some(organization) = state
        .clients
        .registration(&claims.sub)
        .map(|r| r.organization)
    else {
        return refused(StatusCode::FORBIDDEN, "unregistered_dms");
    };
    let expires_at = match params.get("expires_at").map(str::parse::<u64>) {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(_)) => return refused(StatusCode::BAD_REQUEST, "bad_expiry"),
    };
    let now = state.clock.unix_seconds();
    if let Err(why) = text.check_expiry(expires_at, now) {
        return refused(StatusCode::BAD_REQUEST, &why.to_string());
    }
    if state.shares.exists(&claims.sub, share_id) {
        return refused(StatusCode::CONFLICT, "share_exists");
    }
    if let Err(limited) = state.outbox.admit(
        Cause::Dms {
            dms: &claims.sub,
            organisation: &organization,
        },
        &emails,
        now,
    ) {
        state
            .log
            .info(format!("DMS {} refused mail: {limited}", claims.sub));
        return refused(StatusCode::TOO_MANY_REQUESTS, "mail_limit");
    }
    let announced = Announced {
        dms_id: claims.sub.clone(),
        share_id: share_id.to_owned(),
        dashboard: dashboard.to_owned(),
        shared_by: shared_by.to_owned(),
        emails,
        message,
        expires_at,
    };
    let Some(links) = state.shares.create(announced.clone(), now) else {
        return refused(StatusCode::CONFLICT, "share_exists");
    };
    share_keeping::keep_share(&state, &announced, now);
    share_keeping::keep_links(&state, &announced, &links);
    for (email, token) in &links {
        let link = format!("{}s/{token}", state.sharing_url);
        let from = Attribution {
            shared_by: &announced.shared_by,
            organization: &organization,
            dms_id: &announced.dms_id,
        };
        let (subject, body) = share_mail::compose(
            &from,
            &announced.dashboard,
            announced.message.as_deref(),
            email,
            &link,
            announced.expires_at.map(utc),
        );
        state.outbox.send(email, subject, body, now, &[token]);
    }
    state.log.info(format!(
        "DMS {} shared dashboard {} as {share_id} with {} address(es)",
        claims.sub,
        dashboard,
        links.len()
    ));
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "share_id": share_id, "links_sent": links.len() })),
    )
        .into_response()
}

/// `POST /api/dms/shares/delete` with `share_id`: the DMS deleted one of its shares.
pub(crate) async fn withdraw(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let claims = match authenticate_with(&state, &headers, state.front_end.withdraw) {
        Ok(claims) => claims,
        Err(refused) => return refused.into_response(),
    };
    let Some(share_id) = params.get("share_id") else {
        return refused(StatusCode::BAD_REQUEST, "missing_parameter");
    };
    // The rule the share's announcement met: an ID no announcement could carry names nothing.
    if let Err(why) = ShareText::from_faults(&state.faults).check_share_id(share_id) {
        return refused(StatusCode::BAD_REQUEST, &why.to_string());
    }
    let now = state.clock.unix_seconds();
    let Some(deleted) = state.shares.delete(&claims.sub, share_id, now) else {
        return refused(StatusCode::NOT_FOUND, "unknown_share");
    };
    share_keeping::keep_end(&state, &deleted, now);
    state.log.info(format!(
        "DMS {} deleted share {share_id}: its links to {} address(es) are gone",
        claims.sub,
        state.shares.recipients(&claims.sub, share_id).len()
    ));
    Json(serde_json::json!({ "share_id": share_id, "deleted": true })).into_response()
}
