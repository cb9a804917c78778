//! Where the connector sends a connection to an address nothing is published on: a loopback
//! listener that takes it and lets it go at once, so a stray connection reaches nothing of
//! the real internet. The resolver has already put the attempt on its record.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::world::Lifetime;

pub async fn start_sinkhole(lifetime: &Lifetime) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    lifetime.spawn(async move {
        loop {
            // Dropped at once: nothing is read, nothing answered.
            let _ = listener.accept().await;
        }
    });
    Ok(addr)
}
