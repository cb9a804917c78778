//! The WAF's request path: read the call (the way the DMA will, unless its policy gives it a
//! reader of its own), decide, log the decision with its reason, and forward the original bytes
//! to the DMA's gateway channel.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::decisions::{Decision, Decisions, Verdict};
use super::loose::read_request_first_wins;
use super::policy::{MatchPolicy, Reader};
use super::registry::{Owner, Registry};
use crate::dma::canonical::{INSPECTION_LIMIT, Received, read_request, receive};
use crate::world::Clock;

#[derive(Debug)]
pub(crate) struct ProxyState {
    pub dma: SocketAddr,
    pub clock: Clock,
    pub decisions: Decisions,
    pub registry: Arc<Registry>,
    pub policy: MatchPolicy,
}

/// A blocked request, in its wire form: 403 with the reason.
#[derive(Debug)]
struct Blocked(String);

impl IntoResponse for Blocked {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            Json(json!({ "Message": format!("Blocked by the WAF: {}", self.0) })),
        )
            .into_response()
    }
}

pub(crate) fn router(state: Arc<ProxyState>) -> axum::Router {
    axum::Router::new().fallback(inspect).with_state(state)
}

/// What the WAF made of a request.
struct Judgement {
    verdict: Verdict,
    reason: String,
    share: Option<String>,
    /// A share login whose `ConnectApp` answer binds a connection to its share.
    binds: Option<String>,
}

impl Judgement {
    fn blocked(reason: impl Into<String>, share: Option<String>) -> Self {
        Self {
            verdict: Verdict::Blocked,
            reason: reason.into(),
            share,
            binds: None,
        }
    }

    fn allowed(reason: impl Into<String>, share: Option<String>) -> Self {
        Self {
            verdict: Verdict::Allowed,
            reason: reason.into(),
            share,
            binds: None,
        }
    }
}

async fn inspect(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let Received {
        head,
        path,
        body: bytes,
    } = receive(request).await;
    // A body the WAF did not read whole cannot be forwarded, inspected or not.
    let judgement = match &bytes {
        None => Judgement::blocked(
            format!("the body is larger than the {INSPECTION_LIMIT}-byte inspection limit"),
            None,
        ),
        Some(_) if !state.policy.inspect => {
            Judgement::allowed("inspection is off: forwarded uninspected", None)
        }
        Some(bytes) => judge(&state, &head, &path, bytes),
    };
    state.decisions.record(Decision {
        path: path.clone(),
        verdict: judgement.verdict,
        reason: judgement.reason.clone(),
        share: judgement.share.clone(),
        at_unix: state.clock.unix_seconds(),
    });
    if judgement.verdict == Verdict::Blocked {
        return Blocked(judgement.reason).into_response();
    }
    let Some(bytes) = bytes else {
        return Blocked("the body could not be read".into()).into_response();
    };
    let response = match forward(state.dma, head, bytes).await {
        Ok(response) => response,
        Err(reason) => return (StatusCode::BAD_GATEWAY, reason).into_response(),
    };
    match judgement.binds {
        Some(share_id) => {
            bind_connection(&state.registry, &share_id, response.map(Body::new)).await
        }
        None => response.map(Body::new),
    }
}

fn judge(state: &ProxyState, head: &http::request::Parts, path: &str, body: &[u8]) -> Judgement {
    let content_type = head
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let verb = head.method.as_str();
    let read = match state.policy.reader {
        Reader::Shared => read_request(verb, path, content_type, body),
        Reader::FirstDuplicateWins => read_request_first_wins(verb, path, content_type, body),
    };
    let (method, body) = match read {
        Ok(read) => read,
        Err(refused) => return Judgement::blocked(refused.to_string(), None),
    };
    if method == "ConnectApp" {
        let share = body
            .get("login")
            .and_then(Value::as_str)
            .and_then(|login| state.registry.share_of_login(login));
        let mut judgement = Judgement::allowed("a log-in: no whitelist applies", share.clone());
        judgement.binds = share;
        return judgement;
    }
    let connection = body.get("connection").and_then(Value::as_str).unwrap_or("");
    match state.registry.owner(connection) {
        Owner::Nobody => Judgement::allowed("no shared-dashboard whitelist applies", None),
        Owner::Retired => Judgement::blocked("the connection belongs to a deleted share", None),
        Owner::Share(share_id, whitelist) => match whitelist.check(method, &body, &state.policy) {
            Ok(()) => Judgement::allowed(
                format!("{method} is on share {share_id}'s whitelist"),
                Some(share_id),
            ),
            Err(reason) => Judgement::blocked(reason, Some(share_id)),
        },
    }
}

/// Passes a share login's answer on, binding the connection string it carries to the share.
async fn bind_connection(registry: &Registry, share_id: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return (StatusCode::BAD_GATEWAY, "the DMA's answer broke off").into_response();
    };
    let bytes = collected.to_bytes();
    if parts.status == StatusCode::OK
        && let Ok(answer) = serde_json::from_slice::<Value>(&bytes)
        && let Some(connection) = answer.get("d").and_then(Value::as_str)
    {
        registry.bind(connection, share_id);
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn forward(
    dma: SocketAddr,
    head: http::request::Parts,
    bytes: Bytes,
) -> Result<Response<hyper::body::Incoming>, String> {
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
