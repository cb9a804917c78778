//! `/s/{token}/v/{viewer}/...`, any method: what an open viewer's browser asks of the DMS,
//! carried as one stream through that DMS's tunnel, the answer streamed back as it comes. The
//! cloud relays bytes: it reads no body and knows no dashboard, no method and no whitelist.
//!
//! The DMS's page runs sandboxed (`relay_answer`), in an opaque origin whose requests carry
//! none of the site's cookies, so the viewer session travels in the path: `{viewer}` is the
//! session's random ID, a capability of the browser tab. Every request is checked again: the
//! viewer session live and opened for this link's share and DMS, and the share live (410 Gone
//! once it is deleted or expired); a navigation (a tab's or a frame's) must also carry the sign-in of the
//! account the session was opened for, so the URL copied into another browser opens nothing,
//! and gets the cloud's own page (`viewer_frame`), which frames the DMS's: the DMS's page is
//! what the frame's navigation to the same URL gets, never a tab's.
//! The cloud answers a CORS preflight for a live viewer path itself, and every answer under a
//! viewer path may be read from the page's opaque origin (`Access-Control-Allow-Origin: *`,
//! never with credentials: nothing there is authorised by a cookie).
//!
//! The request goes on with the path under the viewer, the query, the method and the body as
//! sent; of the headers, those of one hop, the browser's cookies and credentials and any the
//! DMS's side trusts are dropped, and only two are added: the share, and an opaque viewer ID
//! derived from the session (the Cloud Gateway trusts both on tunnel streams only, and
//! attaches the share user's session itself; the DMS never sees the capability).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode, Uri};
use sha2::{Digest, Sha256};

use super::CloudState;
use super::requests::Streamed;
use super::share_keeping;
use super::shares::{Link, SharePolicy};
use super::viewer::{Refusal, live_link};
use super::viewer_frame::Asked;
use crate::dms::{SHARE_HEADER, VIEWER_HEADER};

/// Any request under `/s/{token}/`.
pub(crate) async fn relay(State(state): State<Arc<CloudState>>, request: Request) -> Response {
    let mut response = match exchange(&state, request).await {
        Ok(response) => response,
        Err(refusal) => {
            state.log.info(format!("viewer request refused: {refusal}"));
            refusal.into_response()
        }
    };
    let headers = response.headers_mut();
    // The page's opaque origin reads the answer, refusals included (a 410 ends its heartbeat);
    // no credentials: a cookie authorises nothing here.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    // The path is a capability: it leaves in no Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The token, the viewer session's ID and the rest of the path (with its leading `/`) of
/// `/s/{token}/v/{viewer}/{rest}`.
fn split(uri: &Uri) -> Option<(&str, &str, &str)> {
    let under = uri.path().strip_prefix("/s/")?;
    let (token, under) = under.split_once('/')?;
    let under = under.strip_prefix("v/")?;
    let slash = under.find('/')?;
    Some((token, &under[..slash], &under[slash..]))
}

/// Whether the request is a genuine CORS preflight, which the cloud answers itself.
fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight for a live viewer path: what the dashboard app sends, no
/// credentials.
fn preflight_answer() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

async fn exchange(state: &CloudState, request: Request) -> Result<Response, Refusal> {
    let policy: SharePolicy = state.shares.policy();
    let now = state.clock.unix_seconds();
    share_keeping::keep_ends(state, now);
    let (token, viewer_id, rest) = split(request.uri()).ok_or(Refusal::UnknownLink)?;
    let (token, viewer_id, rest) = (token.to_owned(), viewer_id.to_owned(), rest.to_owned());
    let session = state.shares.session(&viewer_id);
    let link: Link = match &session {
        // A cloud whose sessions outlive the share serves what the session was opened for.
        Some(session) if policy.sessions_outlive_share => session.snapshot.clone(),
        _ => live_link(state, &token, policy)?,
    };
    let session = session.ok_or(Refusal::NoSession)?;
    if session.share_id != link.share.share_id
        || session.dms_id != link.share.dms_id
        || !(policy.any_account || session.account.eq_ignore_ascii_case(&link.email))
    {
        return Err(Refusal::NotShared);
    }
    // The capability lasts as long as the sign-in that opened it. The page's requests do not
    // keep that sign-in in use: the page can read its own URL, so they are its DMS's to send.
    if policy.viewers_end_with_sign_in
        && !state
            .accounts
            .session_live(&session.sign_in, policy.viewer_requests_keep_sign_in)
    {
        return Err(Refusal::NoSession);
    }
    let asked = Asked::of(request.headers());
    if policy.viewer_navigation_needs_sign_in && asked.navigates() {
        let account = state
            .accounts
            .signed_in(request.headers())
            .ok_or(Refusal::NoAccount)?;
        if !account.email.eq_ignore_ascii_case(&session.account) {
            return Err(Refusal::OtherAccount);
        }
    }
    let viewer_base = format!("{}s/{token}/v/{viewer_id}/", state.sharing_url);
    if policy.frames_dms_pages && asked == Asked::Tab {
        let organization = state
            .clients
            .registration(&link.share.dms_id)
            .map(|r| r.organization)
            .ok_or(Refusal::Gone)?;
        let sender = super::viewer_frame::Sender {
            organization: &organization,
            dms_id: &link.share.dms_id,
        };
        let target = request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |p| p.as_str().to_owned(),
        );
        return Ok(super::viewer_frame::page(&sender, &target, &viewer_base));
    }
    if is_preflight(request.method(), request.headers()) {
        return Ok(preflight_answer());
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
    if super::relay_headers::too_large(&head.headers, state.tunnel_header_budget) {
        return Err(Refusal::HeadersTooLarge);
    }
    // The gateway needs to tell viewers apart, not to hold what opens one.
    let viewer = super::tokens::hex(&Sha256::digest(viewer_id.as_bytes()).into());
    let add = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            // A careful relay has removed whatever the browser sent under these names.
            headers.append(name, value);
        }
    };
    add(&mut head.headers, SHARE_HEADER, &link.share.share_id);
    add(&mut head.headers, VIEWER_HEADER, &viewer);
    // The viewer's place in the relay, taken before anything goes into the tunnel and held
    // until the answer's body is done with.
    let permit = state
        .relay_budget
        .take(&super::relay_budget::viewer_key(&viewer_id))
        .ok_or(Refusal::Busy)?;
    let answer = state
        .relay_budget
        .answer_head(
            state
                .tunnels
                .streams()
                .send(&dms_id, http::Request::from_parts(head, body)),
        )
        .await
        .ok_or(Refusal::TimedOut)?
        .map_err(|e| Refusal::Unreachable(e.to_string()))?;
    let (mut head, body) = answer.into_parts();
    super::relay_headers::strip(&mut head.headers, false);
    // The DMS's cookies are not the sharing host's to set.
    head.headers.remove(header::SET_COOKIE);
    if !policy.keeps_dms_headers {
        let origin = state.sharing_url.trim_end_matches('/');
        super::relay_answer::confine(
            &mut head.headers,
            &viewer_base,
            origin,
            policy.sandboxes_dms_pages,
        );
    }
    if asked == Asked::Unlabelled && policy.unlabelled_answers_download {
        head.headers.insert(
            header::CONTENT_DISPOSITION,
            // A name of the cloud's: the last segment of the URL is the DMS's to choose.
            HeaderValue::from_static("attachment; filename=\"shared-dashboard-answer\""),
        );
    }
    head.extensions.insert(Streamed);
    // Chunk by chunk as the tunnel delivers it: HTTP/2 flow control then holds the DMS to the
    // recipient's pace.
    Ok(Response::from_parts(
        head,
        super::relay_budget::holding(Body::new(body), permit),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_viewer_path_names_a_link_a_capability_and_the_rest() {
        let split_of = |path: &str| {
            let uri: Uri = path.parse().expect("a path");
            split(&uri).map(|(t, v, r)| (t.to_owned(), v.to_owned(), r.to_owned()))
        };
        assert_eq!(
            split_of("/s/tok/v/cap/API/v1/Json.asmx/GetElement?x=1"),
            Some((
                "tok".into(),
                "cap".into(),
                "/API/v1/Json.asmx/GetElement".into()
            ))
        );
        assert_eq!(
            split_of("/s/tok/v/cap/"),
            Some(("tok".into(), "cap".into(), "/".into()))
        );
        for no_viewer in [
            "/s/tok/",
            "/s/tok/definition",
            "/s/tok/v/cap",
            "/s/tok/x/cap/",
        ] {
            assert_eq!(split_of(no_viewer), None, "{no_viewer}");
        }
    }

    #[test]
    fn a_preflight_is_told_by_its_headers() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, HeaderValue::from_static(value));
            }
            headers
        };
        let preflight = with(&[
            ("origin", "null"),
            ("access-control-request-method", "POST"),
        ]);
        assert!(is_preflight(&Method::OPTIONS, &preflight));
        assert!(!is_preflight(
            &Method::OPTIONS,
            &with(&[("origin", "null")])
        ));
        assert!(!is_preflight(&Method::POST, &preflight));
    }
}
