//! What an emailed link opens on `sharing.dataminer.services`: `GET /s/{token}` asks for the
//! dataminer.services account of the address the link was sent to (or lets the recipient make
//! one), then serves the viewer; the viewer's heartbeat,
//! `GET /s/{token}/dms/{dms_id}/dashboards/{dashboard}/data`, brings the dashboard's data live
//! from the DMS through its tunnel, as the share's user. A deleted or expired share answers
//! 410 Gone on both, and its open viewers end at their next heartbeat.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::CloudState;
use super::accounts::SignedIn;
use super::pages::{escape, page, query_value, sign_in_with};
use super::share_keeping;
use super::shares::{Link, SharePolicy};
use super::viewer_data::{self, DashboardData};
use super::viewer_page;

/// The header the viewer's script sends its session in.
pub(crate) const VIEWER_SESSION_HEADER: &str = "x-viewer-session";

/// Why a link or a heartbeat is refused, with its wire form.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("no such link")]
    UnknownLink,
    #[error("this share has ended")]
    Gone,
    #[error("login_required")]
    NoAccount,
    #[error("this link is for another dataminer.services account")]
    OtherAccount,
    #[error("no open viewer session")]
    NoSession,
    #[error("not_shared_with_you")]
    NotShared,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::UnknownLink => StatusCode::NOT_FOUND,
            Refusal::Gone => StatusCode::GONE,
            Refusal::NoAccount => StatusCode::UNAUTHORIZED,
            Refusal::OtherAccount | Refusal::NoSession | Refusal::NotShared => {
                StatusCode::FORBIDDEN
            }
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status();
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

/// The link, if the share behind it may still be opened.
fn live_link(state: &CloudState, token: &str, policy: SharePolicy) -> Result<Link, Refusal> {
    let link = state.shares.lookup(token).ok_or(Refusal::UnknownLink)?;
    let now = state.clock.unix_seconds();
    if link.share.ended(now) && !policy.links_outlive_share {
        return Err(Refusal::Gone);
    }
    Ok(link)
}

/// Whether `account` is the one the link was sent to (or any, for a cloud that does not look).
fn admits(link: &Link, account: &SignedIn, policy: SharePolicy) -> bool {
    policy.any_account || account.email.eq_ignore_ascii_case(&link.email)
}

/// `GET /s/{token}`: the sign-in (or sign-up) for the link's address, then the viewer.
pub(crate) async fn open(
    State(state): State<Arc<CloudState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let policy = state.shares.policy();
    share_keeping::keep_ends(&state, state.clock.unix_seconds());
    let link = match live_link(&state, &token, policy) {
        Ok(link) => link,
        Err(refusal) => {
            state.log.info(format!("share link refused: {refusal}"));
            let note = match refusal {
                Refusal::Gone => {
                    "This share has ended: it was deleted or it expired. Ask its owner for a new one."
                }
                _ => "This link does not open anything.",
            };
            return page(
                refusal.status(),
                "Shared dashboard",
                &format!("<p>{}</p>", escape(note)),
            );
        }
    };
    let here = format!("/s/{token}");
    let Some(account) = state.accounts.signed_in(&headers) else {
        return sign_in_or_up(&link, &here);
    };
    if !admits(&link, &account, policy) {
        state.log.info(format!(
            "share {} opened by {}, not by its recipient: refused",
            link.share.share_id, account.email
        ));
        let body = format!(
            "<p>You are signed in as {}. This dashboard was shared with another address: \
             sign in with the dataminer.services account of that address.</p>",
            escape(&account.email)
        );
        return page(StatusCode::FORBIDDEN, "Not shared with you", &body);
    }
    let now = state.clock.unix_seconds();
    let session = state.shares.record_opening(&link, &account.email, now);
    share_keeping::keep_opening(&state, &link, &account.email, now);
    let data = viewer_data::fetch(&state, &link).await;
    viewer_page::render(&link, &token, &session, &data, now)
}

/// The sign-in form for the link's address, with the way to create an account for it.
fn sign_in_or_up(link: &Link, here: &str) -> Response {
    let note = format!(
        "A dashboard was shared with {}. Sign in with the dataminer.services account of that \
         address to open it.",
        link.email
    );
    let create = format!(
        "/account/create?email={}&next={}",
        query_value(&link.email),
        query_value(here)
    );
    let extra = format!(
        "<p>No account yet? <a id=\"create-account\" href=\"{}\">Create one for {}</a>.</p>",
        escape(&create),
        escape(&link.email)
    );
    sign_in_with(StatusCode::UNAUTHORIZED, &note, here, &extra)
}

/// `GET /s/{token}/dms/{dms_id}/dashboards/{dashboard}/data`: one heartbeat of an open viewer.
pub(crate) async fn heartbeat(
    State(state): State<Arc<CloudState>>,
    Path((token, dms_id, dashboard)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match beat(&state, &token, &dms_id, &dashboard, &headers).await {
        Ok(data) => Json(data).into_response(),
        Err(refusal) => {
            state
                .log
                .info(format!("viewer heartbeat refused: {refusal}"));
            refusal.into_response()
        }
    }
}

async fn beat(
    state: &CloudState,
    token: &str,
    dms_id: &str,
    dashboard: &str,
    headers: &HeaderMap,
) -> Result<DashboardData, Refusal> {
    let policy = state.shares.policy();
    let now = state.clock.unix_seconds();
    share_keeping::keep_ends(state, now);
    let account = state
        .accounts
        .signed_in(headers)
        .ok_or(Refusal::NoAccount)?;
    let session = headers
        .get(VIEWER_SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|id| state.shares.session(id))
        .filter(|session| session.account.eq_ignore_ascii_case(&account.email));
    let link = match session {
        // A cloud whose sessions outlive the share serves what the session was opened for.
        Some(session) if policy.sessions_outlive_share => session.snapshot,
        _ => {
            let link = live_link(state, token, policy)?;
            let session = session.ok_or(Refusal::NoSession)?;
            if session.share_id != link.share.share_id {
                return Err(Refusal::NoSession);
            }
            link
        }
    };
    if !admits(&link, &account, policy) {
        return Err(Refusal::OtherAccount);
    }
    if link.share.dms_id != dms_id || link.share.dashboard != dashboard {
        return Err(Refusal::NotShared);
    }
    Ok(viewer_data::fetch(state, &link).await)
}
