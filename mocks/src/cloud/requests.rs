use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;

use super::CloudState;
use super::outage::Outage;
use crate::world::Observed;

/// The most of a request or response body kept on record; a larger request is refused.
const BODY_LIMIT: usize = 256 * 1024;

/// One request as the cloud received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CloudRequest {
    pub endpoint: &'static str,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status the cloud answered with.
    pub status: u16,
    /// The headers the cloud answered with (`Location`, `Set-Cookie`, ...).
    pub response_headers: Vec<(String, String)>,
    /// What the cloud answered, as far as it fits the record.
    pub response: String,
    pub at_unix: u64,
    /// The address the request's connection came from, as the listener accepted it.
    #[serde(skip)]
    pub peer: Option<std::net::SocketAddr>,
    /// When it arrived, in real time: with `peer`, which connection of a capture carried it.
    #[serde(skip)]
    pub received: Option<std::time::Instant>,
}

impl CloudRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The bearer token the request carried, if any.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

/// Marks an answer whose body streams through (a DMS's answer to a recipient): the record keeps
/// its head only, and the body is passed on as it comes, never held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streamed;

/// Every request the cloud received, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Observed<Vec<CloudRequest>>);

impl RequestLog {
    pub fn all(&self) -> Vec<CloudRequest> {
        self.0.read(Vec::clone)
    }

    pub fn count(&self) -> usize {
        self.0.read(Vec::len)
    }

    fn record(&self, request: CloudRequest) {
        self.0.update(|log| log.push(request));
    }
}

/// Wraps a router so that every request is recorded before it is handled.
pub(crate) fn recorded(
    router: axum::Router,
    state: Arc<CloudState>,
    endpoint: &'static str,
) -> axum::Router {
    router.layer(middleware::from_fn_with_state((state, endpoint), record))
}

async fn record(
    State((state, endpoint)): State<(Arc<CloudState>, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let at_unix = state.clock.unix_seconds();
    let received = std::time::Instant::now();
    let peer = parts
        .extensions
        .get::<super::listener::Peer>()
        .map(|peer| peer.0);
    let method = parts.method.to_string();
    let path = parts.uri.to_string();
    let headers = as_text(&parts.headers);
    let (body, response) = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Err(_) => (
            Bytes::from_static(b"<body over the limit>"),
            StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        ),
        Ok(bytes) if state.outage.get() == Outage::ServerErrors => (
            bytes,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({ "error": "server_error" })),
            )
                .into_response(),
        ),
        Ok(bytes) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes.clone())))
                .await;
            (bytes, response)
        }
    };
    let (head, answer) = response.into_parts();
    // An upgrade's body is the tunnel itself, a streamed one a DMS's answer still on its way:
    // keep them flowing, record only the head.
    let upgraded = head.status == StatusCode::SWITCHING_PROTOCOLS;
    let (answer, answer_bytes) = if upgraded || head.extensions.get::<Streamed>().is_some() {
        (answer, Bytes::new())
    } else {
        let bytes = axum::body::to_bytes(answer, BODY_LIMIT)
            .await
            .unwrap_or_default();
        (Body::from(bytes.clone()), bytes)
    };
    state.requests.record(CloudRequest {
        endpoint,
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status: head.status.as_u16(),
        response_headers: as_text(&head.headers),
        response: String::from_utf8_lossy(&answer_bytes).into_owned(),
        at_unix,
        peer,
        received: Some(received),
    });
    Response::from_parts(head, answer)
}

fn as_text(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
