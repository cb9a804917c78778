//! What a DMS tells the cloud about its shares, server to server with its bearer token: a new
//! share (the cloud mails one link per address) and a deleted one (its links and open viewers
//! end). A DMS speaks only for its own shares: the token's subject is the DMS.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::CloudState;
use super::connection::authenticate_with;
use super::oauth::Params;
use super::pages::utc;
use super::share_keeping;
use super::shares::Announced;

/// The most addresses one share is sent to.
const MAX_RECIPIENTS: usize = 50;
/// The longest personal message a share mail carries.
const MAX_MESSAGE: usize = 2000;

fn refused(status: StatusCode, error: &str) -> Response {
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

/// `POST /api/dms/shares`: `share_id`, `dashboard`, `shared_by`, `emails` (comma-separated),
/// `connection`, and optionally `message` and `expires_at` (Unix seconds).
pub(crate) async fn announce(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let claims = match authenticate_with(&state, &headers, state.front_end.announce) {
        Ok(claims) => claims,
        Err(refused) => return refused.into_response(),
    };
    let (Some(share_id), Some(dashboard), Some(shared_by), Some(emails), Some(connection)) = (
        params.get("share_id"),
        params.get("dashboard"),
        params.get("shared_by"),
        params.get("emails"),
        params.get("connection"),
    ) else {
        return refused(StatusCode::BAD_REQUEST, "missing_parameter");
    };
    let emails: Vec<String> = emails
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    let plausible = |e: &String| {
        e.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if emails.is_empty() || emails.len() > MAX_RECIPIENTS || !emails.iter().all(plausible) {
        return refused(StatusCode::BAD_REQUEST, "bad_emails");
    }
    let message = params.get("message").map(str::to_owned);
    if message.as_ref().is_some_and(|m| m.len() > MAX_MESSAGE) {
        return refused(StatusCode::BAD_REQUEST, "message_too_long");
    }
    let expires_at = match params.get("expires_at").map(str::parse::<u64>) {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(_)) => return refused(StatusCode::BAD_REQUEST, "bad_expiry"),
    };
    let now = state.clock.unix_seconds();
    let announced = Announced {
        dms_id: claims.sub.clone(),
        share_id: share_id.to_owned(),
        dashboard: dashboard.to_owned(),
        shared_by: shared_by.to_owned(),
        emails,
        message,
        expires_at,
        connection: connection.to_owned(),
    };
    let Some(links) = state.shares.create(announced.clone(), now) else {
        return refused(StatusCode::CONFLICT, "share_exists");
    };
    share_keeping::keep_share(&state, &announced, now);
    for (email, token) in &links {
        let link = format!("{}s/{token}", state.sharing_url);
        let (subject, body) = share_mail(&announced, email, &link);
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

/// The subject and body of the mail that carries `link` to `email`.
fn share_mail(share: &Announced, email: &str, link: &str) -> (String, String) {
    let subject = format!("{} shared a dashboard with you", share.shared_by);
    let mut body = format!(
        "{} shared the dashboard \"{}\" with you on dataminer.services.\n\n",
        share.shared_by, share.dashboard
    );
    if let Some(message) = &share.message {
        body.push_str(&format!("Their message:\n{message}\n\n"));
    }
    body.push_str(&format!(
        "Open it here:\n{link}\n\nThe link opens with the dataminer.services account of {email}; \
         if you have none yet, you can create one for this address when you open it.\n"
    ));
    if let Some(at) = share.expires_at {
        body.push_str(&format!("The share ends on {}.\n", utc(at)));
    }
    (subject, body)
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
    let now = state.clock.unix_seconds();
    let Some(deleted) = state.shares.delete(&claims.sub, share_id, now) else {
        return refused(StatusCode::NOT_FOUND, "unknown_share");
    };
    share_keeping::keep_end(&state, &deleted, now);
    state.log.info(format!(
        "DMS {} deleted share {share_id}: its links to {} address(es) are gone",
        claims.sub,
        state.shares.recipients(share_id).len()
    ));
    Json(serde_json::json!({ "share_id": share_id, "deleted": true })).into_response()
}
