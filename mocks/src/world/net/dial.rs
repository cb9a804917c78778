use tokio::net::TcpStream;

use super::{Metered, Resolver, Traffic};

/// Why the DMS side could not reach a destination.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The name and port are not published: refused before any byte left.
    #[error("{name}:{port} is not a published destination; nothing was sent")]
    Unpublished { name: String, port: u16 },
    /// The name resolved but the TCP connection failed.
    #[error("cannot connect to {name}:{port}: {source}")]
    Connect {
        name: String,
        port: u16,
        source: std::io::Error,
    },
}

/// The DMS's only way out: resolves through the environment's resolver and records every
/// connection and byte in the egress record.
#[derive(Debug, Clone)]
pub struct Network {
    resolver: Resolver,
    egress: Traffic,
}

impl Network {
    pub fn new(resolver: Resolver, egress: Traffic) -> Self {
        Self { resolver, egress }
    }

    pub async fn dial(&self, name: &str, port: u16) -> Result<Metered<TcpStream>, NetError> {
        let addr = self
            .resolver
            .resolve(name, port)
            .ok_or_else(|| NetError::Unpublished {
                name: name.to_owned(),
                port,
            })?;
        let socket = TcpStream::connect(addr)
            .await
            .map_err(|source| NetError::Connect {
                name: name.to_owned(),
                port,
                source,
            })?;
        // Small frames (pings, tunnel requests) must leave now, not after Nagle's delay.
        let _ = socket.set_nodelay(true);
        let local = socket.local_addr().ok();
        Ok(self.egress.meter(name, local, socket))
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    pub fn egress(&self) -> &Traffic {
        &self.egress
    }
}
