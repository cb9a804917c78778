use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::ReadBounds;
use crate::world::Lifetime;

/// Serves an axum router over plain HTTP: the DMS-internal servers (DMA, WAF).
pub fn serve_http(listener: TcpListener, lifetime: &Lifetime, router: axum::Router) {
    serve_http_with(listener, lifetime, router, ReadBounds::default());
}

/// `serve_http`, with every read from a client bounded as `bounds` says.
pub fn serve_http_with(
    listener: TcpListener,
    lifetime: &Lifetime,
    router: axum::Router,
    bounds: ReadBounds,
) {
    let connections = lifetime.clone();
    lifetime.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            connections.spawn(serve_connection_with(socket, router.clone(), bounds));
        }
    });
}

/// Serves `router` on one already-accepted connection (HTTP/1.1 with upgrades, or HTTP/2),
/// until the client goes away.
pub async fn serve_connection<S>(stream: S, router: axum::Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_connection_with(stream, router, ReadBounds::default()).await;
}

/// `serve_connection`, with every read from the client bounded as `bounds` says.
pub async fn serve_connection_with<S>(stream: S, router: axum::Router, bounds: ReadBounds)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(bounds.bound_bodies(router));
    let _ = bounds
        .builder()
        .serve_connection_with_upgrades(TokioIo::new(stream), service)
        .await;
}
