use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::CloudState;
use crate::world::Observed;

/// The most of a request body kept on record; larger bodies are cut, and say so.
const BODY_LIMIT: usize = 256 * 1024;

/// One request as the cloud received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CloudRequest {
    pub endpoint: &'static str,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at_unix: u64,
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

    pub(crate) fn record_parts(
        &self,
        endpoint: &'static str,
        parts: &http::request::Parts,
        body: &[u8],
        at_unix: u64,
    ) {
        let request = CloudRequest {
            endpoint,
            method: parts.method.to_string(),
            path: parts.uri.to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
            at_unix,
        };
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
    let now = state.clock.unix_seconds();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        state
            .requests
            .record_parts(endpoint, &parts, b"<body over the limit>", now);
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    state.requests.record_parts(endpoint, &parts, &bytes, now);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
