//! The WAF's request path: refuse what does not carry the gateway key, read the call with its own reader, decide, log the decision with
//! its reason, and forward the body it read, framed afresh, to the DMA's gateway channel. What
//! it cannot read, or cannot tie to a share or a session it saw open through the gateway, it
//! blocks (unless its policy fails open).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{CONTENT_LENGTH, RETRY_AFTER, TRANSFER_ENCODING};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::decisions::{Decision, Decisions, Verdict};
use super::key::{KeyCheck, Keyless};
use super::policy::{MatchPolicy, Undecided};
use super::reader::{Received, Unreadable, read, receive};
use super::registry::{Owner, Registry};
use super::remote::{RemoteSignIns, RemoteVerdict};
use crate::dms::REMOTE_ACCOUNT_HEADER;
use crate::dms::SHARE_SESSION_HEADER;
use crate::dms::is_app_path;
use crate::world::Clock;

#[derive(Debug)]
pub(crate) struct ProxyState {
    pub dma: SocketAddr,
    pub clock: Clock,
    pub key: KeyCheck,
    pub keyless: Arc<Keyless>,
    pub decisions: Decisions,
    pub registry: Arc<Registry>,
    pub policy: MatchPolicy,
    pub remote: RemoteSignIns,
}

pub(crate) fn router(state: Arc<ProxyState>) -> axum::Router {
    axum::Router::new().fallback(inspect).with_state(state)
}

/// A sign-in through the gateway: who signs in, the share when it is a share user, and the
/// remote-access account it was relayed for.
struct SignIn {
    login: String,
    share: Option<String>,
    remote: Option<String>,
    /// Its failure counts against the remote account, not the login.
    per_account: bool,
}

/// What the WAF made of a request.
struct Judgement {
    verdict: Verdict,
    reason: String,
    share: Option<String>,
    /// A sign-in: its answer binds a connection, or counts as a failed sign-in.
    signs_in: Option<SignIn>,
    /// How long a rate-limited sign-in should wait, in seconds.
    retry_after: Option<u64>,
    /// The Cloud Gateway ends this share session: once the DMA has, it is tied to nothing.
    ends: Option<String>,
}

impl Judgement {
    fn blocked(reason: impl Into<String>, share: Option<String>) -> Self {
        Self {
            verdict: Verdict::Blocked,
            reason: reason.into(),
            share,
            signs_in: None,
            retry_after: None,
            ends: None,
        }
    }

    fn allowed(reason: impl Into<String>, share: Option<String>) -> Self {
        Self {
            verdict: Verdict::Allowed,
            ..Self::blocked(reason, share)
        }
    }

    /// A request the inspection could not decide, as the policy settles it.
    fn undecided(policy: &MatchPolicy, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        match policy.undecided {
            Undecided::Block => Self::blocked(reason, None),
            Undecided::Forward => Self::allowed(format!("undecided, forwarded: {reason}"), None),
        }
    }

    /// The wire form of a block: 403 with the reason, or 429 for a sign-in over the limit.
    fn refusal(self) -> Response {
        let body = Json(json!({ "Message": format!("Blocked by the WAF: {}", self.reason) }));
        match self.retry_after {
            Some(seconds) => (
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER, seconds.to_string())],
                body,
            )
                .into_response(),
            None => (StatusCode::FORBIDDEN, body).into_response(),
        }
    }
}

async fn inspect(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    // Not the gateway's: refused before its body is read, before any counter, table or log of
    // the WAF is touched, so that it can fill, spend or reset none of them.
    if let Some(reason) = state.key.refuses(request.headers()) {
        state.keyless.refused();
        return Judgement::blocked(reason, None).refusal();
    }
    let Received {
        head,
        path,
        body: bytes,
    } = receive(request).await;
    let now = state.clock.unix_seconds();
    // A body the WAF did not read whole cannot be forwarded, inspected or not.
    let judgement = match &bytes {
        None => Judgement::blocked(Unreadable::TooLarge.to_string(), None),
        Some(_) if !state.policy.inspect => {
            Judgement::allowed("inspection is off: forwarded uninspected", None)
        }
        Some(bytes) => judge(&state, &head, &path, bytes, now),
    };
    state.decisions.record(Decision {
        path: path.clone(),
        verdict: judgement.verdict,
        reason: judgement.reason.clone(),
        share: judgement.share.clone(),
        at_unix: now,
    });
    let Some(bytes) = bytes.filter(|_| judgement.verdict == Verdict::Allowed) else {
        return judgement.refusal();
    };
    let response = match forward(state.dma, head, bytes).await {
        Ok(response) => response.map(Body::new),
        Err(reason) => return (StatusCode::BAD_GATEWAY, reason).into_response(),
    };
    if let Some(ended) = judgement
        .ends
        .filter(|_| response.status() == StatusCode::OK)
    {
        state.registry.forget(&ended);
    }
    match judgement.signs_in {
        Some(sign_in) => settle_sign_in(&state, &sign_in, response, now).await,
        None => response,
    }
}

fn judge(
    state: &ProxyState,
    head: &http::request::Parts,
    path: &str,
    body: &[u8],
    now: u64,
) -> Judgement {
    let policy = &state.policy;
    if policy.trusts_forwarded_for && forwarded_for_loopback(&head.headers) {
        return Judgement::allowed(
            "X-Forwarded-For names the DMS's own host: not inspected",
            None,
        );
    }
    let session = match gateway_session(&head.headers) {
        Ok(session) => session,
        Err(reason) => return Judgement::blocked(reason, None),
    };
    if let Some(session) = session.filter(|_| is_app_path(path)) {
        return app_request(state, head, session);
    }
    let inspected = match read(head, path, body, policy.duplicates) {
        Ok(inspected) => inspected,
        Err(unreadable) => return Judgement::undecided(policy, unreadable.to_string()),
    };
    let (method, fields) = (inspected.method.as_str(), &inspected.fields);
    // A connection that is no string names no session the WAF can tie the call to; the DMA
    // would read it its own way (WAF-4: no two parsers disagree on what is let through).
    if fields.get("connection").is_some_and(|c| !c.is_string()) {
        return Judgement::undecided(policy, "the call's connection is not a string");
    }
    let named = fields.get("connection").and_then(Value::as_str);
    if let (Some(session), Some(named)) = (session, named)
        && session != named
        && !policy.trusts_body_connection
    {
        return Judgement::blocked(
            "the call names another connection than the Cloud Gateway's session",
            None,
        );
    }
    // A viewer's request carries the session the gateway attached: it is a shared-dashboard
    // call, whatever its method, and only the share's whitelist decides it.
    let remote = remote_account(head);
    if method == "ConnectApp" && session.is_none() {
        let Some(login) = fields.get("login").and_then(Value::as_str) else {
            return Judgement::undecided(policy, "a sign-in without a login");
        };
        let share = state.registry.share_of_login(login);
        let verdict = remote
            .as_deref()
            .map(|account| state.remote.judge(account, share.as_deref(), now));
        match &verdict {
            Some(RemoteVerdict::Refused(reason)) => return Judgement::blocked(reason, share),
            Some(RemoteVerdict::Limited {
                failed,
                window_seconds,
            }) => {
                let mut limited = Judgement::blocked(
                    format!(
                        "{failed} failed remote-access sign-ins of this account in {window_seconds} s"
                    ),
                    None,
                );
                limited.retry_after = Some(*window_seconds);
                return limited;
            }
            _ => {}
        }
        let per_account = verdict == Some(RemoteVerdict::CountedPerAccount);
        if let Some(limit) = policy.sign_ins.filter(|_| !per_account) {
            let failed = state
                .registry
                .failed_sign_ins(login, now, limit.window_seconds);
            if failed >= limit.failures {
                let mut limited = Judgement::blocked(
                    format!(
                        "{failed} failed sign-ins as this login in {} s",
                        limit.window_seconds
                    ),
                    share,
                );
                limited.retry_after = Some(limit.window_seconds);
                return limited;
            }
        }
        let reason = match &share {
            Some(share_id) => format!("share {share_id}'s user signs in: no whitelist applies"),
            None => "a DMS user signs in: the DMA's own authorisation applies".to_owned(),
        };
        let mut judgement = Judgement::allowed(reason, share.clone());
        judgement.signs_in = Some(SignIn {
            login: login.to_owned(),
            share,
            remote,
            per_account,
        });
        return judgement;
    }
    // The Cloud Gateway's own housekeeping: it ends a share session it let go of (a share's
    // viewers are bounded), sent as its sign-ins are, with no viewer's session attached and
    // for no remote account. An ending reads and changes nothing of the DMS, and only the
    // gateway holds the connection strings it names.
    if method == "LogOut"
        && session.is_none()
        && remote.is_none()
        && let Some(named) = named
        && let Owner::Share(share_id, _) = state.registry.owner(named)
    {
        let mut ending = Judgement::allowed(
            format!("the Cloud Gateway ends a session of share {share_id}"),
            Some(share_id),
        );
        ending.ends = Some(named.to_owned());
        return ending;
    }
    let connection = if policy.trusts_body_connection {
        named.or(session)
    } else {
        session.or(named)
    }
    .unwrap_or("");
    let owner = state.registry.owner(connection);
    // A share's session counts only as the Cloud Gateway attached it to its viewer's request:
    // named in a body alone it is a string someone learned (a leaked log line, another share's
    // viewer, a remote-access account), not a viewer the cloud signed in.
    if session.is_none()
        && !policy.trusts_body_connection
        && let Owner::Share(share_id, _) = &owner
    {
        return Judgement::blocked(
            format!(
                "a session of share {share_id} named in the body: a share's session is taken only as the Cloud Gateway attaches it"
            ),
            None,
        );
    }
    match owner {
        Owner::Nobody => Judgement::undecided(
            policy,
            "the connection is tied to no live share and no session opened through the gateway",
        ),
        Owner::User(login, opened_for) if opened_for == remote => Judgement::allowed(
            format!(
                "{login}'s session, opened through the gateway: the DMA's own authorisation applies"
            ),
            None,
        ),
        Owner::User(login, _) => Judgement::blocked(
            format!("{login}'s session was opened for another remote-access account"),
            None,
        ),
        Owner::Retired => Judgement::blocked("the connection belongs to a deleted share", None),
        Owner::Share(share_id, whitelist) => match whitelist.check(method, fields, policy) {
            Ok(()) => Judgement::allowed(
                format!("{method} is on share {share_id}'s whitelist"),
                Some(share_id),
            ),
            Err(reason) => Judgement::blocked(reason, Some(share_id)),
        },
    }
}

/// The share session the Cloud Gateway attached, if any; two are refused.
fn gateway_session(headers: &http::HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut sent = headers.get_all(SHARE_SESSION_HEADER).iter();
    match (sent.next(), sent.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(Some)
            .map_err(|_| "the gateway's share session is not text"),
        _ => Err("two share sessions on one request"),
    }
}

/// A GET of the shared-dashboard app (page, script, definition): passed only for a session of
/// a live share.
fn app_request(state: &ProxyState, head: &http::request::Parts, session: &str) -> Judgement {
    if head.method != http::Method::GET {
        return Judgement::blocked("the dashboard app is only read", None);
    }
    match state.registry.owner(session) {
        Owner::Share(share_id, _) => Judgement::allowed(
            format!("share {share_id}'s viewer loads the dashboard app"),
            Some(share_id),
        ),
        _ => Judgement::blocked("the dashboard app for a session of no live share", None),
    }
}

/// Whether the first `X-Forwarded-For` hop is loopback.
fn forwarded_for_loopback(headers: &http::HeaderMap) -> bool {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

/// Passes a sign-in's answer on: the connection string it carries is bound to the share, or to
/// the DMS user; a refusal counts against the login's sign-in limit.
async fn settle_sign_in(
    state: &ProxyState,
    sign_in: &SignIn,
    response: Response,
    now: u64,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return (StatusCode::BAD_GATEWAY, "the DMA's answer broke off").into_response();
    };
    let bytes = collected.to_bytes();
    let connection = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(|_| parts.status == StatusCode::OK)
        .and_then(|answer| answer.get("d").and_then(Value::as_str).map(str::to_owned));
    let registry = &state.registry;
    match (connection, &sign_in.share) {
        (Some(connection), Some(share_id)) => registry.bind(&connection, share_id),
        (Some(connection), None) => {
            registry.bind_user(&connection, &sign_in.login, sign_in.remote.as_deref());
        }
        (None, _) => match &sign_in.remote {
            Some(account) if sign_in.per_account => state.remote.failed(account, now),
            _ => registry.sign_in_failed(&sign_in.login, now),
        },
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Sends the head and the body the WAF read to the DMA, framed by their length: the client's
/// own framing headers are not passed on.
async fn forward(
    dma: SocketAddr,
    mut head: http::request::Parts,
    bytes: Bytes,
) -> Result<Response<hyper::body::Incoming>, String> {
    head.headers.remove(TRANSFER_ENCODING);
    head.headers.remove(CONTENT_LENGTH);
    let socket = TcpStream::connect(dma).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    sender
        .send_request(Request::from_parts(head, Body::from(bytes)))
        .await
        .map_err(|e| e.to_string())
}

/// The remote-access account the cloud relayed the request for: its header, once.
fn remote_account(head: &http::request::Parts) -> Option<String> {
    let mut named = head.headers.get_all(REMOTE_ACCOUNT_HEADER).iter();
    match (named.next(), named.next()) {
        (Some(value), None) => value.to_str().ok().map(str::to_ascii_lowercase),
        // Named twice: not the cloud's header alone; no account the WAF can tie it to.
        (Some(_), Some(_)) => Some(String::new()),
        (None, _) => None,
    }
}
