use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::world::Lifetime;

/// Serves an axum router over plain HTTP: the DMS-internal servers (DMA, WAF).
pub fn serve_http(listener: TcpListener, lifetime: &Lifetime, router: axum::Router) {
    lifetime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// Serves `router` on one already-accepted connection (HTTP/1.1 with upgrades, or HTTP/2),
/// until the client goes away.
pub async fn serve_connection<S>(stream: S, router: axum::Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(router))
        .await;
}
