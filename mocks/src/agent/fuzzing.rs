//! The agent's end of a tunnel fed bytes as the cloud's end of the socket would carry them:
//! WebSocket frames (unmasked, server to client) that should carry HTTP/2. For the fuzz targets
//! and the property tests: whatever arrives, the tunnel ends once the cloud has gone.

use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::forward::Forwarder;
use super::tunnel::server_for;
use crate::tunnel_io::{WsIo, tunnel_config};

/// Runs the agent's tunnel server on a socket whose far end writes `bytes` and closes; true
/// when the server ended within `bound`.
pub async fn tunnel_survives(bytes: &[u8], bound: Duration) -> bool {
    let (mut cloud, agent) = tokio::io::duplex(64 * 1024);
    let socket = WebSocketStream::from_raw_socket(agent, Role::Client, Some(tunnel_config())).await;
    let (io, _control) = WsIo::new(socket);
    // Port 1 on loopback: nothing listens, so any request that forms is a 502.
    let forwarder = Forwarder::careful(std::net::SocketAddr::from(([127, 0, 0, 1], 1)), bound);
    let serving = server_for(&forwarder).serve_connection(
        TokioIo::new(io),
        service_fn(move |r| forwarder.clone().forward(r)),
    );
    let hostile = async {
        let _ = cloud.write_all(bytes).await;
        let _ = cloud.shutdown().await;
        // Whatever the agent answers is read, so its writes never hold it up.
        let mut answer = [0u8; 4096];
        while matches!(cloud.read(&mut answer).await, Ok(n) if n > 0) {}
    };
    tokio::time::timeout(bound, async {
        // The server's verdict on the bytes does not matter here, only that it comes.
        let (_served, ()) = tokio::join!(serving, hostile);
    })
    .await
    .is_ok()
}
