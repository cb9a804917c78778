use std::future::Future;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{Metered, Traffic};
use crate::world::Lifetime;

/// A TLS connection accepted by a cloud listener, counted in the cloud's ingress record.
pub type Accepted = TlsStream<Metered<TcpStream>>;

/// Accepts TLS connections on `listener` until the environment stops, counting each in
/// `ingress` under `name` and handing every completed handshake to `handle`.
pub fn serve_tls<H, F>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    name: &'static str,
    ingress: Traffic,
    lifetime: &Lifetime,
    handle: H,
) where
    H: Fn(Accepted) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(tls);
    let handle = Arc::new(handle);
    let per_connection = lifetime.clone();
    lifetime.spawn(async move {
        loop {
            let Ok((socket, _peer)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let socket = ingress.meter(name, socket);
            let acceptor = acceptor.clone();
            let handle = handle.clone();
            per_connection.spawn(async move {
                // A failed handshake is the client's problem (and a TLS scanner's whole point):
                // the socket record already holds what it sent.
                if let Ok(stream) = acceptor.accept(socket).await {
                    handle(stream).await;
                }
            });
        }
    });
}

/// Serves an axum router over TLS (HTTP/1.1 with upgrades, and HTTP/2).
pub fn serve_https(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    name: &'static str,
    ingress: Traffic,
    lifetime: &Lifetime,
    router: axum::Router,
) {
    serve_tls(listener, tls, name, ingress, lifetime, move |stream| {
        let service = TowerToHyperService::new(router.clone());
        async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        }
    });
}

/// Serves an axum router over plain HTTP: the DMS-internal servers (DMA, WAF).
pub fn serve_http(listener: TcpListener, lifetime: &Lifetime, router: axum::Router) {
    lifetime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}
