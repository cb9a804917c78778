//! The agent's end of the tunnel: one outbound WSS connection to the cloud, authenticated with
//! the DMS's token at the upgrade.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::world::Lifetime;
use crate::world::net::{NetError, Network};

/// The tunnel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// The URL is not `wss://host/...`.
    #[error("not a wss URL: {0}")]
    NotWss(String),
    /// The destination could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The cloud answered the upgrade with an HTTP error (401: token refused).
    #[error("the cloud refused the tunnel with HTTP {0}")]
    Refused(u16),
    /// TLS or the WebSocket handshake failed.
    #[error("tunnel handshake failed: {0}")]
    Handshake(String),
}

enum Order {
    Ping(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

/// The running tunnel. Dropping it closes the tunnel.
#[derive(Debug)]
pub(crate) struct TunnelHandle {
    orders: mpsc::Sender<Order>,
    gone: oneshot::Receiver<()>,
}

impl std::fmt::Debug for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Order::Ping(_) => "Ping",
            Order::Close(_) => "Close",
        })
    }
}

impl TunnelHandle {
    /// Whether the connection has ended (closed by the cloud or broken).
    pub fn is_down(&self) -> bool {
        self.orders.is_closed()
    }

    /// Sends a keepalive ping; returns once it is written to the socket.
    pub async fn ping(&self) {
        self.order(Order::Ping).await;
    }

    /// Closes the tunnel; returns once the close is written and the socket dropped, also
    /// when the cloud closed it first.
    pub async fn close(self) {
        self.order(Order::Close).await;
        let _ = self.gone.await;
    }

    async fn order(&self, order: impl FnOnce(oneshot::Sender<()>) -> Order) {
        let (done, written) = oneshot::channel();
        if self.orders.send(order(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Opens `wss://` `url` with `token` as bearer.
pub(crate) async fn open(
    network: &Network,
    tls: Arc<rustls::ClientConfig>,
    url: &str,
    token: &str,
    timeout: std::time::Duration,
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

    let socket = network.dial(host, uri.port_u16().unwrap_or(443)).await?;
    let handshake = tokio_tungstenite::client_async_tls_with_config(
        request,
        socket,
        None,
        Some(Connector::Rustls(tls)),
    );
    // Network time, not a security decision: a cloud that never answers must not freeze the
    // gateway's one task.
    let (mut ws, _) = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| TunnelError::Handshake("no answer in time".into()))?
        .map_err(|e| match e {
            tungstenite::Error::Http(response) => TunnelError::Refused(response.status().as_u16()),
            other => TunnelError::Handshake(other.to_string()),
        })?;

    let (orders, mut inbox) = mpsc::channel::<Order>(4);
    let (gone_tx, gone) = oneshot::channel::<()>();
    lifetime.spawn(async move {
        loop {
            tokio::select! {
                order = inbox.recv() => match order {
                    Some(Order::Ping(done)) => {
                        if ws.send(Message::Ping(Default::default())).await.is_err() {
                            break;
                        }
                        let _ = done.send(());
                    }
                    Some(Order::Close(done)) => {
                        let _ = ws.close(None).await;
                        let _ = done.send(());
                        break;
                    }
                    None => {
                        let _ = ws.close(None).await;
                        break;
                    }
                },
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        // The socket goes first, then the word that it is gone: whoever waits on `gone` finds
        // the connection closed on the record, however the loop ended.
        drop(ws);
        drop(inbox);
        let _ = gone_tx.send(());
    });
    Ok(TunnelHandle { orders, gone })
}
