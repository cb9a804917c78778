//! The agent's end of the tunnel: one outbound WSS connection to the cloud, authenticated with
//! the DMS's token at the upgrade. Inside it runs HTTP/2 with the agent as the server: every
//! stream the cloud opens is a request the agent forwards to the DMS side (see `forward`).

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::egress::{Egress, EgressError};
use super::forward::Forwarder;
use crate::tunnel_io::{WsControl, WsIo, tunnel_config};

use crate::world::Lifetime;
use crate::world::net::NetError;

/// How long a tunnel closed on the DMS's request lets its streams finish before the socket
/// goes.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long a retired tunnel (replaced after a renewal) may take to finish its streams.
const DRAIN_GRACE: Duration = Duration::from_secs(30);
/// The largest HTTP/2 window (RFC 9113 §6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// The tunnel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// The URL is not `wss://host/...`.
    #[error("not a wss URL: {0}")]
    NotWss(String),
    /// The destination could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The egress policy refused the destination, or the DMZ proxy the tunnel to it.
    #[error(transparent)]
    Egress(#[from] EgressError),
    /// The cloud answered the upgrade with an HTTP error (401: token refused).
    #[error("the cloud refused the tunnel with HTTP {0}")]
    Refused(u16),
    /// TLS or the WebSocket handshake failed.
    #[error("tunnel handshake failed: {0}")]
    Handshake(String),
}

/// The running tunnel. Dropping it closes the tunnel.
#[derive(Debug)]
pub(crate) struct TunnelHandle {
    control: WsControl,
    /// Asks the tunnel to close, letting its streams finish for at most the given time.
    close: Option<oneshot::Sender<Duration>>,
    gone: oneshot::Receiver<()>,
}

impl TunnelHandle {
    /// Whether the connection has ended (closed by the cloud or broken).
    pub fn is_down(&self) -> bool {
        self.control.is_closed()
    }

    /// Pings the cloud: false when no pong came back within `bound`.
    pub async fn is_answering(&self, bound: Duration) -> bool {
        self.control.ping_answered(bound).await
    }

    /// Closes the tunnel; returns once the close is written and the socket dropped, also
    /// when the cloud closed it first.
    pub async fn close(mut self) {
        if let Some(close) = self.close.take() {
            let _ = close.send(CLOSE_GRACE);
        }
        let _ = (&mut self.gone).await;
    }

    /// Lets the tunnel go on its own task: it takes no new stream (HTTP/2 GOAWAY) and closes
    /// once the streams under way have finished.
    pub fn retire(self) {
        drop(self);
    }

    /// Drops the tunnel at once: its streams in flight fail, and nothing more is written.
    /// Returns once the socket is dropped, so whoever looks next finds it closed on the record.
    pub async fn cut(self) {
        self.control.kill();
        let _ = self.gone.await;
    }
}

/// The agent's HTTP/2 server inside a tunnel: the cloud opens the streams, and the agent
/// answers each on its own task.
pub(super) fn server_for(
    forwarder: &Forwarder,
) -> hyper::server::conn::http2::Builder<TokioExecutor> {
    let mut server = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    if forwarder.buffer_whole {
        // The `agent.no-flow-control` fault: one stream at a time, with windows so large
        // that flow control never holds a sender back.
        server
            .max_concurrent_streams(1)
            .initial_stream_window_size(MAX_WINDOW)
            .initial_connection_window_size(MAX_WINDOW);
    }
    server
}

/// Opens `wss://` `url` with `token` as bearer.
pub(crate) async fn open(
    egress: &Egress,
    tls: Arc<rustls::ClientConfig>,
    url: &str,
    token: &str,
    timeout: std::time::Duration,
    forwarder: Forwarder,
    lifetime: &Lifetime,
) -> Result<TunnelHandle, TunnelError> {
    let not_wss = || TunnelError::NotWss(url.to_owned());
    let mut request = url.into_client_request().map_err(|_| not_wss())?;
    let uri = request.uri().clone();
    let (Some("wss"), Some(host)) = (uri.scheme_str(), uri.host()) else {
        return Err(not_wss());
    };
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| TunnelError::Handshake("token is not a valid header value".into()))?;
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, bearer);

    let (socket, _) = egress.open(host, uri.port_u16().unwrap_or(443)).await?;
    let handshake = tokio_tungstenite::client_async_tls_with_config(
        request,
        socket,
        Some(tunnel_config()),
        Some(Connector::Rustls(tls)),
    );
    // Network time, not a security decision: a cloud that never answers must not freeze the
    // gateway's one task.
    let (ws, _) = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| TunnelError::Handshake("no answer in time".into()))?
        .map_err(|e| match e {
            tungstenite::Error::Http(response) => TunnelError::Refused(response.status().as_u16()),
            other => TunnelError::Handshake(other.to_string()),
        })?;

    let (io, control) = WsIo::new(ws);
    let (close, closing) = oneshot::channel::<Duration>();
    let (gone_tx, gone) = oneshot::channel::<()>();
    lifetime.spawn(async move {
        let server = server_for(&forwarder);
        let service = service_fn(move |request| forwarder.clone().forward(request));
        let mut connection = Box::pin(server.serve_connection(TokioIo::new(io), service));
        tokio::select! {
            _ = connection.as_mut() => {}
                        // Asked to close, or the handle dropped: streams end, then the close frame goes.
            grace = closing => {
                connection.as_mut().graceful_shutdown();
                let grace = grace.unwrap_or(DRAIN_GRACE);
                let _ = tokio::time::timeout(grace, connection.as_mut()).await;
            }
        }
        // The socket goes first, then the word that it is gone: whoever waits on `gone` finds
        // the connection closed on the record, however the tunnel ended.
        drop(connection);
        let _ = gone_tx.send(());
    });
    Ok(TunnelHandle {
        control,
        close: Some(close),
        gone,
    })
}
