//! The shared-dashboard app, as the DMS serves it on the gateway channel: one HTML page and one
//! script (no external asset, a CSP that allows the page's own script and its own origin only),
//! and the definition of the dashboard the caller's share is for. The recipient's browser loads
//! them through dataminer.services and the tunnel; the cloud never reads them.
//!
//! The definition is the dashboard's components and the Web Services calls each makes: the
//! DMS's own data, which the cloud does not know. Which dashboard is the share's is read from
//! the share user's session the Cloud Gateway attached, never from anything the browser sent.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;

use super::{Channel, DmaState};
use crate::dms::{SHARE_SESSION_HEADER, is_app_path};

const PAGE: &str = include_str!("app/index.html");
const SCRIPT: &str = include_str!("app/app.js");

/// The page's policy: its own script and its own origin, nothing else, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The app's answer to a GET of one of its paths on the gateway channel; `None` for any other
/// request, which is read as a Web Services call.
pub(crate) fn serve(
    state: &DmaState,
    channel: Channel,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    if channel != Channel::Gateway || method != Method::GET || !is_app_path(path) {
        return None;
    }
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    Some(match path {
        "/" => asset("text/html; charset=utf-8", PAGE),
        "/app.js" => asset("text/javascript; charset=utf-8", SCRIPT),
        _ => definition(state, headers),
    })
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// The dashboard of the share whose session the Cloud Gateway attached.
fn definition(state: &DmaState, headers: &HeaderMap) -> Response {
    let refused = |why: &str| {
        (
            StatusCode::FORBIDDEN,
            Json(json!({ "Message": format!("Access denied: {why}") })),
        )
            .into_response()
    };
    let mut sessions = headers.get_all(SHARE_SESSION_HEADER).iter();
    let (Some(session), None) = (sessions.next(), sessions.next()) else {
        return refused("no share session from the Cloud Gateway");
    };
    let Some(share) = session
        .to_str()
        .ok()
        .and_then(|s| state.shares.user_of(s))
        .filter(|share| share.served_on(Channel::Gateway))
    else {
        return refused("the session is no live share's");
    };
    match fixtures::Dashboard::load(&share.dashboard) {
        Ok(dashboard) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "id": dashboard.id, "title": dashboard.title,
                "components": dashboard.components,
            })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "Message": format!("No such dashboard {:?}.", share.dashboard) })),
        )
            .into_response(),
    }
}
