//! A front end that answers every request with a redirect: what a DMS meets when a cloud
//! name it trusts is served by a misconfigured or hostile front door. It presents a valid
//! certificate for the name, so only the gateway's redirect rule stands between the DMS and
//! wherever the redirect points.

use std::sync::Arc;

use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::serve_connection;
use crate::world::{Leaf, Lifetime, PkiError};

/// Serves `leaf` in TLS 1.2 on `listener` and redirects every request to `location` (307,
/// so a POST stays a POST).
pub fn start_redirector(
    listener: TcpListener,
    leaf: &Leaf,
    location: String,
    lifetime: &Lifetime,
) -> Result<(), PkiError> {
    let mut config = leaf.server_config(&[&rustls::version::TLS12])?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let router = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move {
            (
                http::StatusCode::TEMPORARY_REDIRECT,
                [(http::header::LOCATION, location)],
            )
                .into_response()
        }
    });
    let connections = lifetime.clone();
    lifetime.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, router) = (acceptor.clone(), router.clone());
            connections.spawn(async move {
                if let Ok(stream) = acceptor.accept(socket).await {
                    serve_connection(stream, router).await;
                }
            });
        }
    });
    Ok(())
}
