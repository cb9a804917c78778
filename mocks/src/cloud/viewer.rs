//! What an emailed link opens on `sharing.dataminer.services`: `GET /s/{token}` asks for the
//! dataminer.services account of the address the link was sent to (or lets the recipient make
//! one), then opens a viewer session for that account and share and sends the browser on to
//! `/s/{token}/v/{viewer}/`, the session's random ID in the path (the DMS's page is sandboxed
//! and its requests carry no cookie), where the relay (`share_relay`) carries the DMS's own
//! dashboard app and the app's calls through the tunnel. The cloud knows no dashboard: it
//! authenticates and relays.
//! A deleted or expired share answers 410 Gone, here and on the relay.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};

use super::CloudState;
use super::accounts::SignedIn;
use super::pages::{escape, page, query_value, sign_in_with};
use super::share_keeping;
use super::shares::{Link, SharePolicy};

/// Why a link or a heartbeat is refused, with its wire form.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
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
    #[error("dms_unreachable: {0}")]
    Unreachable(String),
    /// The viewer holds its bound of requests in the relay already (`relay_budget`).
    #[error("too_many_requests")]
    Busy,
    /// The DMS did not begin its answer within the relay's bound.
    #[error("dms_timeout")]
    TimedOut,
    /// More header bytes than a tunnel takes with one request (`relay_headers::INTO_TUNNEL`).
    #[error("request_header_fields_too_large")]
    HeadersTooLarge,
}

impl Refusal {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Refusal::UnknownLink => StatusCode::NOT_FOUND,
            Refusal::Gone => StatusCode::GONE,
            Refusal::NoAccount => StatusCode::UNAUTHORIZED,
            Refusal::OtherAccount | Refusal::NoSession | Refusal::NotShared => {
                StatusCode::FORBIDDEN
            }
            Refusal::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Refusal::Busy => StatusCode::TOO_MANY_REQUESTS,
            Refusal::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            Refusal::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status();
        let busy = matches!(self, Refusal::Busy);
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if busy {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                http::HeaderValue::from(super::relay_budget::RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// The link, if the share behind it may still be opened.
pub(crate) fn live_link(
    state: &CloudState,
    token: &str,
    policy: SharePolicy,
) -> Result<Link, Refusal> {
    let link = state.shares.lookup(token).ok_or(Refusal::UnknownLink)?;
    let now = state.clock.unix_seconds();
    if link.share.ended(now) && !policy.links_outlive_share {
        return Err(Refusal::Gone);
    }
    Ok(link)
}

/// Whether `account` is the one the link was sent to (or any, for a cloud that does not look).
pub(crate) fn admits(link: &Link, account: &SignedIn, policy: SharePolicy) -> bool {
    policy.any_account || account.email.eq_ignore_ascii_case(&link.email)
}

/// `GET /s/{token}`: the sign-in (or sign-up) for the link's address; then a viewer session
/// for this account and share, and on to the DMS's dashboard app under the session's path
/// (`relay`). The path is a capability: it is sent with no Referer and never cached.
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
    let sign_in = state.accounts.live_session(&headers).unwrap_or_default();
    let session = state
        .shares
        .record_opening(&link, &account.email, &sign_in, now);
    share_keeping::keep_opening(&state, &link, &account.email, now);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, format!("{here}/v/{session}/")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response()
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
