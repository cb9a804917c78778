use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::decisions::{Decision, Decisions, Verdict};
use crate::world::Clock;

const API_PREFIX: &str = "/API/v1/Json.asmx/";

#[derive(Debug)]
pub(crate) struct ProxyState {
    pub dma: SocketAddr,
    pub clock: Clock,
    pub decisions: Decisions,
}

pub(crate) fn router(state: Arc<ProxyState>) -> axum::Router {
    axum::Router::new().fallback(inspect).with_state(state)
}

async fn inspect(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let (verdict, reason) = if request.method() != http::Method::POST {
        (Verdict::Blocked, "only POST reaches the DataMiner API")
    } else if !path.starts_with(API_PREFIX) {
        (Verdict::Blocked, "not a DataMiner Web Services call")
    } else {
        (
            Verdict::Allowed,
            "no shared-dashboard whitelist applies to this connection",
        )
    };
    state.decisions.record(Decision {
        path,
        verdict,
        reason: reason.to_owned(),
        at_unix: state.clock.unix_seconds(),
    });
    match verdict {
        Verdict::Blocked => (StatusCode::FORBIDDEN, reason).into_response(),
        Verdict::Allowed => forward(state.dma, request)
            .await
            .unwrap_or_else(|reason| (StatusCode::BAD_GATEWAY, reason).into_response()),
    }
}

async fn forward(dma: SocketAddr, request: Request) -> Result<Response, String> {
    let socket = TcpStream::connect(dma).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.map(Body::new))
}
