//! The sign-in pages' endpoints on both hosts that sign people in: `POST /account/login`
//! (a session cookie for the right password; guessing bounded, a browser's form taken only from
//! the host's own pages) and `POST /account/logout` (the session ended on the cloud).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};

use super::CloudState;
use super::accounts::SignInRefused;
use super::listener::Peer;
use super::oauth::Params;
use super::pages::sign_in;

/// `POST /account/login` with `email` and `password`: a session cookie for the right
/// password, 401 otherwise. A browser's form (with `next`, a path on this host) is sent on
/// there; a JSON client gets JSON.
pub(crate) async fn login_on_connection(
    State(state): State<std::sync::Arc<CloudState>>,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let own = state.connection_url.clone();
    login(&state, &headers, &params, &own, source(peer))
}

/// `POST /account/login` on the sharing host.
pub(crate) async fn login_on_sharing(
    State(state): State<std::sync::Arc<CloudState>>,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let own = state.sharing_url.clone();
    login(&state, &headers, &params, &own, source(peer))
}

/// The address a sign-in came from, as the listener accepted its connection.
fn source(peer: Option<axum::Extension<Peer>>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |p| p.0.0.ip().to_string())
}

/// A sign-in on the host at `own_url`. A browser's sign-in is taken only from that host's own
/// pages: a form another site posts (login CSRF) would sign the visitor's browser in to an
/// account of the other site's choosing.
fn login(
    state: &CloudState,
    headers: &HeaderMap,
    params: &Params,
    own_url: &str,
    source: String,
) -> Response {
    if state.accounts.own_pages_only && !super::own_pages::from_own_pages(headers, own_url) {
        state
            .log
            .info("login refused: not from this host's own pages");
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": "cross_site_sign_in" })),
        )
            .into_response();
    }
    let email = params.get("email").unwrap_or_default().to_ascii_lowercase();
    let session = state.accounts.login(
        &email,
        params.get("password").unwrap_or_default(),
        &source,
        state.clock.unix_seconds(),
    );
    state.log.info(match session {
        Ok(_) => format!("login ok for {email}"),
        Err(SignInRefused::Wrong) => format!("login failed for {email}"),
        Err(SignInRefused::TooMany { .. }) => format!("login refused for {email}: too many"),
    });
    let from_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let next = params.get("next").filter(|n| is_local_path(n));
    let session = match session {
        Ok(session) => session,
        Err(SignInRefused::TooMany { retry_after }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after.to_string())],
                Json(serde_json::json!({ "error": "too_many_attempts" })),
            )
                .into_response();
        }
        Err(SignInRefused::Wrong) if from_form => {
            return sign_in(
                StatusCode::UNAUTHORIZED,
                "Wrong email or password.",
                next.unwrap_or("/device"),
            );
        }
        Err(SignInRefused::Wrong) => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "error": "invalid_credentials" })),
            )
                .into_response();
        }
    };
    let cookie = state.accounts.session_cookie(&session);
    match next {
        Some(next) if from_form => (
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, cookie),
                (header::LOCATION, next.to_owned()),
            ],
        )
            .into_response(),
        _ => (
            [(header::SET_COOKIE, cookie)],
            Json(serde_json::json!({ "email": email })),
        )
            .into_response(),
    }
}

/// A path on this host: `/x`, never `//elsewhere` or `/\elsewhere`, which browsers take
/// for another host (an open redirect).
pub(crate) fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
}

/// `POST /account/logout`: ends the session the cookie names on the cloud (a copied cookie
/// no longer works afterwards) and clears the cookie; 401 without a live session.
pub(crate) async fn logout(
    State(state): State<std::sync::Arc<CloudState>>,
    headers: HeaderMap,
) -> Response {
    let account = state.accounts.signed_in(&headers).map(|a| a.email);
    if !state.accounts.sign_out(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "not_signed_in" })),
        )
            .into_response();
    }
    if let Some(account) = account
        && state.accounts.sign_out_ends_viewers
    {
        state.shares.end_sessions_of(&account);
    }
    state.log.info("signed out: session ended");
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
                state.accounts.cookie_name
            ),
        )],
        Json(serde_json::json!({ "signed_out": true })),
    )
        .into_response()
}
