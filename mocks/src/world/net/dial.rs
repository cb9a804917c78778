use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::{Metered, Resolver, Traffic};

/// Why the DMS side could not reach a destination.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The world's name service has no address for the name: nothing was sent to it.
    #[error("{name} does not resolve; nothing was sent")]
    Unresolved { name: String },
    /// Nothing in the world answers at the address (no route and no sinkhole).
    #[error("{address} ({destination}) is unreachable")]
    Unreachable {
        destination: String,
        address: SocketAddr,
    },
    /// The TCP connection failed.
    #[error("cannot connect to {destination} at {address}: {source}")]
    Connect {
        destination: String,
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// The DMS's way out: resolves through the environment's name service, connects through its
/// connector (addresses are labels it translates to loopback ports), and records every
/// connection and byte in the egress record. It decides nothing: what the DMS may reach is
/// the agent's policy.
#[derive(Debug, Clone)]
pub struct Network {
    resolver: Resolver,
    egress: Traffic,
}

impl Network {
    pub fn new(resolver: Resolver, egress: Traffic) -> Self {
        Self { resolver, egress }
    }

    /// The address `name` resolves to, with `port`; the lookup is on the record.
    pub fn resolve(&self, name: &str, port: u16) -> Result<SocketAddr, NetError> {
        self.resolver
            .resolve(name, port)
            .ok_or_else(|| NetError::Unresolved {
                name: name.to_owned(),
            })
    }

    /// Connects to `address` (a label the connector translates), recording the socket under
    /// `destination`, the name the caller is connecting to.
    pub async fn connect(
        &self,
        destination: &str,
        address: SocketAddr,
    ) -> Result<Metered<TcpStream>, NetError> {
        let at = self
            .resolver
            .translate(destination, address)
            .ok_or_else(|| NetError::Unreachable {
                destination: destination.to_owned(),
                address,
            })?;
        self.connect_local(destination, address, at).await
    }

    /// Connects to a machine of the DMS's own network (its DMZ proxy) at `at`, recorded
    /// under `destination`.
    pub async fn connect_lan(
        &self,
        destination: &str,
        at: SocketAddr,
    ) -> Result<Metered<TcpStream>, NetError> {
        self.connect_local(destination, at, at).await
    }

    async fn connect_local(
        &self,
        destination: &str,
        address: SocketAddr,
        at: SocketAddr,
    ) -> Result<Metered<TcpStream>, NetError> {
        let socket = TcpStream::connect(at)
            .await
            .map_err(|source| NetError::Connect {
                destination: destination.to_owned(),
                address,
                source,
            })?;
        // Small frames (pings, tunnel requests) must leave now, not after Nagle's delay.
        let _ = socket.set_nodelay(true);
        let local = socket.local_addr().ok();
        Ok(self.egress.meter_to(destination, local, Some(at), socket))
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    pub fn egress(&self) -> &Traffic {
        &self.egress
    }
}
