//! `/s/{token}/...`, any method: what an open viewer's browser asks of the DMS, carried as one
//! stream through that DMS's tunnel, the answer streamed back as it comes. The cloud relays
//! bytes: it reads no body and knows no dashboard, no method and no whitelist.
//!
//! Every request is checked again: an account signed in, the one the link was sent to, the
//! viewer session (its cookie, scoped to the link's path) live and opened for this account and
//! this share, and the share live (410 Gone once it is deleted or expired). The request goes on
//! with the path under the link, the query, the method and the body as sent; of the headers,
//! those of one hop, the browser's cookies and credentials and any the DMS's side trusts are
//! dropped, and only two are added: the share, and an opaque viewer ID derived from the
//! session (the Cloud Gateway trusts both on tunnel streams only, and attaches the share
//! user's session itself).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::Uri;
use http::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::CloudState;
use super::requests::Streamed;
use super::share_keeping;
use super::shares::{Link, SharePolicy, ViewerSession};
use super::viewer::{Refusal, VIEWER_COOKIE, admits, live_link};
use crate::dms::{SHARE_HEADER, VIEWER_HEADER};

/// Any request under `/s/{token}/`.
pub(crate) async fn relay(State(state): State<Arc<CloudState>>, request: Request) -> Response {
    match exchange(&state, request).await {
        Ok(response) => response,
        Err(refusal) => {
            state.log.info(format!("viewer request refused: {refusal}"));
            refusal.into_response()
        }
    }
}

/// The token and the rest of the path (with its leading `/`) of `/s/{token}/{rest}`.
fn split(uri: &Uri) -> Option<(&str, &str)> {
    let under = uri.path().strip_prefix("/s/")?;
    let slash = under.find('/')?;
    Some((&under[..slash], &under[slash..]))
}

/// The viewer session the request's cookie names (its ID and what it is for), if it is open
/// for this account.
fn viewer_session(
    state: &CloudState,
    headers: &HeaderMap,
    account: &str,
) -> Option<(String, ViewerSession)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == VIEWER_COOKIE)
        .filter_map(|(_, id)| state.shares.session(id).map(|s| (id.to_owned(), s)))
        .find(|(_, s)| s.account.eq_ignore_ascii_case(account))
}

async fn exchange(state: &CloudState, request: Request) -> Result<Response, Refusal> {
    let policy: SharePolicy = state.shares.policy();
    let now = state.clock.unix_seconds();
    share_keeping::keep_ends(state, now);
    let (token, rest) = split(request.uri()).ok_or(Refusal::UnknownLink)?;
    let (token, rest) = (token.to_owned(), rest.to_owned());
    let account = state
        .accounts
        .signed_in(request.headers())
        .ok_or(Refusal::NoAccount)?;
    let session = viewer_session(state, request.headers(), &account.email);
    let link: Link = match &session {
        // A cloud whose sessions outlive the share serves what the session was opened for.
        Some((_, session)) if policy.sessions_outlive_share => session.snapshot.clone(),
        _ => live_link(state, &token, policy)?,
    };
    if !admits(&link, &account, policy) {
        return Err(Refusal::OtherAccount);
    }
    let (session_id, session) = session.ok_or(Refusal::NoSession)?;
    if session.share_id != link.share.share_id || session.dms_id != link.share.dms_id {
        return Err(Refusal::NotShared);
    }
    let (mut head, body) = request.into_parts();
    let dms_id = state
        .relay_target
        .pick(&link.share.dms_id, &head.uri, &head.headers);
    let query = head
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    head.uri = format!("{rest}{query}")
        .parse::<Uri>()
        .map_err(|_| Refusal::UnknownLink)?;
    super::relay_headers::strip(&mut head.headers, policy.keeps_trust_headers);
    // The gateway needs to tell viewers apart, not to hold what opens one.
    let viewer = hex(&Sha256::digest(session_id.as_bytes()));
    let add = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            // A careful relay has removed whatever the browser sent under these names.
            headers.append(name, value);
        }
    };
    add(&mut head.headers, SHARE_HEADER, &link.share.share_id);
    add(&mut head.headers, VIEWER_HEADER, &viewer);
    let answer = state
        .tunnels
        .streams()
        .send(&dms_id, http::Request::from_parts(head, body))
        .await
        .map_err(|e| Refusal::Unreachable(e.to_string()))?;
    let (mut head, body) = answer.into_parts();
    super::relay_headers::strip(&mut head.headers, false);
    // The DMS's cookies are not the sharing host's to set.
    head.headers.remove(header::SET_COOKIE);
    if !policy.keeps_dms_headers {
        let link_base = format!("{}s/{token}/", state.sharing_url);
        super::relay_answer::confine(&mut head.headers, &link_base);
    }
    head.extensions.insert(Streamed);
    // Chunk by chunk as the tunnel delivers it: HTTP/2 flow control then holds the DMS to the
    // recipient's pace.
    Ok(Response::from_parts(head, Body::new(body)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
