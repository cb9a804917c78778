use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpListener;

use super::{ReadBounds, Rewind};
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
pub async fn serve_connection_with<S>(mut stream: S, router: axum::Router, bounds: ReadBounds)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The builder reads the opening bytes to tell HTTP/1.1 from HTTP/2 with no bound of its
    // own: a client that sends nothing, or the preface a byte a minute, would hold it.
    let Ok(Ok(opening)) = tokio::time::timeout(bounds.head, read_opening(&mut stream)).await else {
        return;
    };
    let service = TowerToHyperService::new(bounds.bound_bodies(router));
    let _ = bounds
        .builder()
        .serve_connection_with_upgrades(TokioIo::new(Rewind::new(opening, stream)), service)
        .await;
}

/// What every HTTP/2 client sends first (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads until the bytes are the HTTP/2 preface or cannot become it.
async fn read_opening<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut opening = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0u8; H2_PREFACE.len()];
    while opening.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&opening) {
        let wanted = H2_PREFACE.len() - opening.len();
        match stream.read(&mut chunk[..wanted]).await? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => opening.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(opening)
}
