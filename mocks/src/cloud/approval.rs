//! The verification page of the connect flow (RFC 8628 §3.3), as a person opens it at the
//! `verification_uri`: sign in, type the user code, see which DMS asks (its name and ID, the
//! organisation it joins, the address and time of its request: RFC 8628 §5.4's defence against
//! remote phishing), and approve it by typing that DMS ID, with a one-use ticket the page
//! handed to this account. Only an Owner or Admin of the organisation the DMS joins may approve
//! (FLOW-1): a Member sees the request but no form. An account that types wrong user codes is
//! slowed down (RFC 8628 §5.1). How approval behaves
//! is the flow's `ApprovalPolicy`, settled once.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use super::CloudState;
use super::accounts::SignedIn;
use super::approval_policy::{ApprovalPolicy, Approvers};
use super::device_flow::{Approval, Grant, GrantState};
use super::device_policy::{Delivery, TICKETS_PER_GRANT};
use super::oauth::Params;
use super::pages::{escape, page, query_value, sign_in, utc};
use crate::world::random_token;

/// Who approved when approval does not require a session.
const ANONYMOUS: &str = "(no session)";

/// The confirmation page the approval redirects the browser to.
const DONE_PAGE: &str = "/device/done";

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    user_code: Option<String>,
}

/// `GET /device[?user_code=…]`: the code form, or the request the code stands for.
pub(crate) async fn page_for(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let typed = query.user_code.filter(|c| !c.trim().is_empty());
    let next = typed.as_deref().map_or_else(
        || "/device".to_owned(),
        |code| format!("/device?user_code={}", query_value(code)),
    );
    let Some(approver) = approver(&state, &headers) else {
        return sign_in(
            StatusCode::OK,
            "Sign in to dataminer.services to connect a DMS.",
            &next,
        );
    };
    let Some(typed) = typed else {
        return code_form(&approver);
    };
    match find(&state, &approver, &typed) {
        Ok(grant) => details(&state, &approver, &grant),
        Err(refused) => refused.into_response(),
    }
}

/// `POST /device/approve` with `user_code`, `ticket`, `confirm_dms_id` and `action`
/// (`approve` or `deny`), from the page's form.
pub(crate) async fn approve(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let policy = state.devices.policy.approval;
    let Some(approver) = approver(&state, &headers) else {
        state
            .log
            .info("device approval refused: no signed-in session");
        return sign_in(
            StatusCode::UNAUTHORIZED,
            "Sign in before you approve a DMS.",
            "/device",
        );
    };
    let grant = match find(
        &state,
        &approver,
        params.get("user_code").unwrap_or_default(),
    ) {
        Ok(grant) => grant,
        Err(refused) => return refused.into_response(),
    };
    let organization = match joins(&policy, &approver, &grant) {
        Ok(organization) => organization,
        Err(refused) => {
            state.log.info(format!(
                "approval of DMS {} by {} ({} of {}) refused: the DMS joins {}",
                grant.dms_id,
                approver.email,
                approver.role,
                approver.organization,
                grant.organization
            ));
            return refused.page(&approver, &grant);
        }
    };
    if policy.requires_confirmation && !confirmed(&state, &approver, &grant, &params) {
        state.log.info(format!(
            "approval of DMS {} by {} refused: not confirmed",
            grant.dms_id, approver.email
        ));
        let again = format!("/device?user_code={}", grant.user_code);
        let body = format!(
            "<p class=\"warn\">Type the ID of the DMS exactly as the page shows it to \
             approve it.</p><p><a href=\"{}\">Back to the request</a></p>",
            escape(&again)
        );
        return page(StatusCode::BAD_REQUEST, "Not confirmed", &body);
    }
    let deny = params.get("action") == Some("deny");
    let outcome = {
        let mut grants = state.devices.lock();
        let now = state.clock.unix_seconds();
        grants
            .values_mut()
            .find(|g| g.user_code == grant.user_code && g.open(now, &state.devices.policy.codes))
            .map(|g| {
                g.tickets.retain(|(_, email)| *email != approver.email);
                g.state = if deny {
                    GrantState::Denied
                } else {
                    GrantState::Approved(Approval {
                        email: approver.email.clone(),
                        organization: organization.clone(),
                    })
                };
            })
    };
    if outcome.is_none() {
        return page(
            StatusCode::NOT_FOUND,
            "Request gone",
            "<p>This request expired or was already handled.</p>",
        );
    }
    if deny {
        state
            .log
            .info(format!("DMS {} denied by {}", grant.dms_id, approver.email));
        return page(
            StatusCode::OK,
            "Request denied",
            "<p>The DMS will not be connected.</p>",
        );
    }
    state.log.info(format!(
        "DMS {} ({}) approved by {} for organization {organization}",
        grant.dms_id, grant.dms_name, approver.email
    ));
    approved(&state, &grant, &organization)
}

/// The redirect to the confirmation page, with what the delivery policy adds to it.
fn approved(state: &CloudState, grant: &Grant, organization: &str) -> Response {
    let mut location = format!("{DONE_PAGE}?dms_id={}", query_value(&grant.dms_id));
    let mut cookie = None;
    let delivery = state.devices.policy.delivery;
    if delivery != Delivery::ServerToServer
        && let Ok(pair) = state.tokens.issue(&grant.dms_id, organization)
    {
        match delivery {
            Delivery::ThroughTheBrowser => location.push_str(&format!(
                "#access_token={}&token_type=Bearer&expires_in={}&refresh_token={}",
                pair.access_token, pair.expires_in, pair.refresh_key
            )),
            Delivery::BrowserCookie => {
                let shown = serde_json::json!({
                    "dms_id": grant.dms_id,
                    "access_token": pair.access_token,
                    "refresh_token": pair.refresh_key,
                });
                cookie = Some(format!(
                    "dms_connect={}; Secure; HttpOnly; SameSite=Strict; Path={DONE_PAGE}",
                    STANDARD.encode(shown.to_string())
                ));
            }
            Delivery::ServerToServer => {}
        }
        if let Some(open) = state
            .devices
            .lock()
            .values_mut()
            .find(|g| g.user_code == grant.user_code)
        {
            open.prepared = Some(pair);
        }
    }
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location)],
        "approved",
    )
        .into_response();
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    dms_id: String,
}

/// `GET /device/done?dms_id=…`: the confirmation page, for an account of the organisation that
/// approved that DMS.
pub(crate) async fn done(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    query: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // The session first: whoever is not signed in learns nothing, not even which parameters
    // the page takes.
    let Some(account) = state.accounts.signed_in(&headers) else {
        return sign_in(
            StatusCode::UNAUTHORIZED,
            "Sign in to see this page.",
            "/device",
        );
    };
    let Ok(Query(query)) = query else {
        return (StatusCode::BAD_REQUEST, "dms_id is required").into_response();
    };
    let approved = state.devices.lock().values().find_map(|g| match &g.state {
        GrantState::Approved(a)
            if g.dms_id == query.dms_id && a.organization == account.organization =>
        {
            Some(g.dms_name.clone())
        }
        _ => None,
    });
    let approved = approved.or_else(|| {
        state
            .clients
            .registration(&query.dms_id)
            .filter(|r| r.organization == account.organization)
            .map(|r| r.name)
    });
    match approved {
        Some(name) => {
            let body = format!(
                "<p>DMS <strong>{}</strong> ({}) is approved for {}. It picks up its \
                 credentials over its own connection; nothing more is needed here.</p>",
                escape(&name),
                escape(&query.dms_id),
                escape(&account.organization)
            );
            page(StatusCode::OK, "DMS approved", &body)
        }
        None => page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>Your organization has not approved this DMS.</p>",
        ),
    }
}

/// The account behind the request, or the anonymous approver when no session is required.
fn approver(state: &CloudState, headers: &HeaderMap) -> Option<SignedIn> {
    let signed_in = state.accounts.signed_in(headers);
    match signed_in {
        Some(account) => Some(account),
        None if !state.devices.policy.approval.requires_session => Some(SignedIn {
            email: ANONYMOUS.to_owned(),
            organization: String::new(),
            role: super::roles::OrgRole::Member,
        }),
        None => None,
    }
}

/// Why a typed user code shows no request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeRefused {
    /// The account typed too many wrong codes; it may try again after this many seconds.
    TooManyGuesses { retry_after: u64 },
    /// No open request has that code.
    Unknown,
}

impl IntoResponse for CodeRefused {
    fn into_response(self) -> Response {
        match self {
            CodeRefused::TooManyGuesses { retry_after } => {
                let mut response = page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    "<p>Too many wrong codes. Wait a while, then type the code your DMS shows.</p>",
                );
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            CodeRefused::Unknown => page(
                StatusCode::NOT_FOUND,
                "Unknown code",
                "<p>No open request has this code: it may have expired. Check the code your \
                 DMS shows, or ask it for a new one.</p>\
                 <p><a href=\"/device\">Type another code</a></p>",
            ),
        }
    }
}

/// The open grant of `typed`, counting a wrong code against the approver; a locked-out
/// approver is told to wait, whatever it typed.
fn find(state: &CloudState, approver: &SignedIn, typed: &str) -> Result<Grant, CodeRefused> {
    let limit = state.devices.policy.approval.guesses;
    let now = state.clock.unix_seconds();
    if let Some((allowed, window)) = limit {
        let mut guesses = state
            .devices
            .guesses
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let failed = guesses.entry(approver.email.clone()).or_default();
        failed.retain(|at| *at + window.as_secs() > now);
        if failed.len() >= allowed {
            let retry_after = failed.first().map_or(0, |at| at + window.as_secs() - now);
            drop(guesses);
            state.log.info(format!(
                "user code attempt by {} refused: too many wrong codes",
                approver.email
            ));
            return Err(CodeRefused::TooManyGuesses { retry_after });
        }
    }
    if let Some((_, grant)) = state.devices.by_user_code(typed, now) {
        return Ok(grant);
    }
    if limit.is_some() {
        state
            .devices
            .guesses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(approver.email.clone())
            .or_default()
            .push(now);
    }
    state.log.info(format!(
        "user code attempt by {} refused: no open request has that code",
        approver.email
    ));
    Err(CodeRefused::Unknown)
}

/// Why an account may not approve a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotApprover {
    /// The account is of another organisation.
    Organization,
    /// The account is a Member of the organisation, not its Owner or an Admin.
    Role,
}

impl NotApprover {
    fn page(self, approver: &SignedIn, grant: &Grant) -> Response {
        match self {
            NotApprover::Organization => wrong_organization(approver, grant, StatusCode::FORBIDDEN),
            NotApprover::Role => {
                let body = format!(
                    "<p class=\"warn\">DMS <strong>{}</strong> ({}) asks to join {}. You are \
                     signed in as {}, a {} of it: only an Owner or Admin of {} can approve it. \
                     Ask one of them.</p>",
                    escape(&grant.dms_name),
                    escape(&grant.dms_id),
                    escape(&grant.organization),
                    escape(&approver.email),
                    approver.role,
                    escape(&grant.organization),
                );
                page(StatusCode::FORBIDDEN, "Owner or Admin only", &body)
            }
        }
    }
}

/// The organisation the grant joins if `approver` may approve it.
fn joins(
    policy: &ApprovalPolicy,
    approver: &SignedIn,
    grant: &Grant,
) -> Result<String, NotApprover> {
    match policy.approvers {
        _ if approver.email == ANONYMOUS => Ok(grant.organization.clone()),
        Approvers::OwnOrganization if approver.organization != grant.organization => {
            Err(NotApprover::Organization)
        }
        Approvers::OwnOrganization if policy.role_checked && !approver.role.administers() => {
            Err(NotApprover::Role)
        }
        Approvers::OwnOrganization => Ok(grant.organization.clone()),
        Approvers::AnyAccount => Ok(approver.organization.clone()),
    }
}

/// Whether the form carries a ticket this page gave `approver` for `grant`, and the DMS ID
/// typed as the page shows it.
fn confirmed(state: &CloudState, approver: &SignedIn, grant: &Grant, params: &Params) -> bool {
    let typed = params.get("confirm_dms_id").map(str::trim);
    let ticket = params.get("ticket");
    let issued = state.devices.lock().values().any(|g| {
        g.user_code == grant.user_code
            && g.tickets
                .iter()
                .any(|(t, email)| Some(t.as_str()) == ticket && *email == approver.email)
    });
    issued && typed == Some(grant.dms_id.as_str())
}

fn code_form(approver: &SignedIn) -> Response {
    let body = format!(
        "<p>Signed in as {}.</p>\
         <form method=\"get\" action=\"/device\">\
         <p><label>Code shown by your DMS <input name=\"user_code\" autocomplete=\"off\" \
         placeholder=\"BCDF-GHJK\"></label></p>\
         <p><button type=\"submit\">Continue</button></p></form>",
        escape(&approver.email)
    );
    page(StatusCode::OK, "Connect a DMS", &body)
}

/// What the code stands for, and the form that approves it: for an account that may.
fn details(state: &CloudState, approver: &SignedIn, grant: &Grant) -> Response {
    let policy = state.devices.policy.approval;
    if let Err(refused) = joins(&policy, approver, grant) {
        return refused.page(approver, grant);
    }
    let ticket = random_token(16);
    if let Some(open) = state
        .devices
        .lock()
        .values_mut()
        .find(|g| g.user_code == grant.user_code)
    {
        if open.tickets.len() >= TICKETS_PER_GRANT {
            open.tickets.remove(0);
        }
        open.tickets.push((ticket.clone(), approver.email.clone()));
    }
    let mut body = String::new();
    if policy.names_client {
        let origin = grant
            .origin
            .map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
        let _ = write!(
            body,
            "<p>A DMS asks to be connected to dataminer.services. Approve it only if you \
             started this on that DMS yourself.</p><dl>\
             <dt>DMS name</dt><dd>{}</dd>\
             <dt>DMS ID</dt><dd><code>{}</code></dd>\
             <dt>Organization it joins</dt><dd>{}</dd>\
             <dt>Request came from</dt><dd>{} at {}</dd>\
             <dt>Key</dt><dd><code>{}</code></dd></dl>",
            escape(&grant.dms_name),
            escape(&grant.dms_id),
            escape(&grant.organization),
            escape(&origin),
            utc(grant.requested_at),
            escape(&grant.key.thumbprint),
        );
    } else {
        let _ = write!(
            body,
            "<p>Approve the device with code <code>{}</code>?</p>",
            escape(&grant.user_code)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/device/approve\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{}\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{}\">\
         <p><label>Type the DMS ID to confirm <input name=\"confirm_dms_id\" \
         autocomplete=\"off\"></label></p>\
         <p><button type=\"submit\" name=\"action\" value=\"approve\">Approve</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></p></form>",
        escape(&grant.user_code),
        escape(&ticket),
    );
    page(StatusCode::OK, "Approve a DMS", &body)
}

fn wrong_organization(approver: &SignedIn, grant: &Grant, status: StatusCode) -> Response {
    let body = format!(
        "<p class=\"warn\">This DMS asks to join {}. You are signed in as {} of {}: only an \
         account of {} can approve it.</p>",
        escape(&grant.organization),
        escape(&approver.email),
        escape(&approver.organization),
        escape(&grant.organization),
    );
    page(status, "Not your organization", &body)
}
