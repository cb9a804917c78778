//! A loopback TCP proxy in front of a server, for hops whose sockets the environment does not
//! hold itself (agent → WAF, WAF → DMA): clients dial the proxy, and what crosses it goes
//! through the hop's toxics on its way to the server and back.
//!
//! A proxy in front of a server clients reach (the recipients' hop to the sharing endpoint)
//! is transparent, as a real layer-4 load balancer is: its connection to the server leaves
//! from the client's own address, so the server judges every per-source bound on the client,
//! not on the proxy. No header carries the address (a PROXY protocol line, `X-Forwarded-For`):
//! there is nothing for the server to trust, and nothing for a client to forge. On loopback
//! every 127/8 address is this machine's own, so the proxy binds the client's address before
//! it connects.

use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::{Toxicated, Toxics};
use crate::world::Lifetime;
use crate::world::capture::{Tapped, Wiretap};

/// A running proxy: where clients dial, and the toxics of the hop it stands for.
#[derive(Debug, Clone)]
pub struct ToxicProxy {
    addr: SocketAddr,
    toxics: Toxics,
}

/// Which address the proxy's connection to the server leaves from: chosen once, when the
/// proxy is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialFrom {
    /// The client's own address (a loopback client's; any other dials from the proxy's), as
    /// a transparent load balancer does: the server sees who connected.
    ClientAddress,
    /// Whatever address the system picks, the proxy's own: every client looks alike to the
    /// server (`net.hop-hides-client-address`), and one client's per-source bound is all of
    /// them's.
    ProxyAddress,
}

impl ToxicProxy {
    /// Binds a loopback port and relays every connection to `target`.
    pub async fn start(target: SocketAddr, lifetime: &Lifetime) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind("127.0.0.1:0").await?, target, lifetime)
    }

    /// Relays every connection `listener` takes to `target`: for a front whose port must be
    /// known before the server behind it is up.
    pub fn serve(
        listener: TcpListener,
        target: SocketAddr,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        Self::serve_tapped(listener, target, None, DialFrom::ProxyAddress, lifetime)
    }

    /// `serve`, the connections to `target` leaving from the address `dial_from` says: the
    /// front clients reach the cloud through.
    pub fn serve_as(
        listener: TcpListener,
        target: SocketAddr,
        dial_from: DialFrom,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        Self::serve_tapped(listener, target, None, dial_from, lifetime)
    }

    /// `start`, with every connection on `wiretap`'s record as one from its client to
    /// `target` under `name`: how a capture sees the DMS's inner hops (agent → WAF, WAF → DMA).
    pub async fn start_tapped(
        target: SocketAddr,
        wiretap: Option<(Wiretap, &'static str)>,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        Self::serve_tapped(
            TcpListener::bind("127.0.0.1:0").await?,
            target,
            wiretap,
            DialFrom::ProxyAddress,
            lifetime,
        )
    }

    fn serve_tapped(
        listener: TcpListener,
        target: SocketAddr,
        wiretap: Option<(Wiretap, &'static str)>,
        dial_from: DialFrom,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let toxics = Toxics::new();
        let relay_toxics = toxics.clone();
        let tasks = lifetime.clone();
        lifetime.spawn(async move {
            while let Ok((client, from)) = listener.accept().await {
                let tap = wiretap
                    .as_ref()
                    .map(|(tap, name)| tap.open(name, from, target, true));
                let from = match dial_from {
                    DialFrom::ClientAddress => Some(from.ip()),
                    DialFrom::ProxyAddress => None,
                };
                tasks.spawn(relay(client, tap, from, target, relay_toxics.clone()));
            }
        });
        Ok(Self { addr, toxics })
    }

    /// Where clients dial instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn toxics(&self) -> &Toxics {
        &self.toxics
    }
}

/// Connects to `target` from `from` when it is a loopback IPv4 address (port 0: the system
/// picks one), otherwise from whatever address the system picks.
async fn dial(from: Option<IpAddr>, target: SocketAddr) -> std::io::Result<TcpStream> {
    match from {
        Some(IpAddr::V4(own)) if own.is_loopback() && target.is_ipv4() => {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(IpAddr::V4(own), 0))?;
            socket.connect(target).await
        }
        _ => TcpStream::connect(target).await,
    }
}

async fn relay(
    client: TcpStream,
    tap: Option<crate::world::capture::TapConn>,
    from: Option<IpAddr>,
    target: SocketAddr,
    toxics: Toxics,
) {
    let _ = client.set_nodelay(true);
    let Ok(server) = dial(from, target).await else {
        // The server is down (or the client's address cannot be bound): the client sees its
        // connection end, as with no proxy between; it never goes on from another address.
        let _ = client.set_zero_linger();
        return;
    };
    let _ = server.set_nodelay(true);
    let mut server = Toxicated::new(server, &toxics);
    let copied = match tap {
        Some(tap) => {
            let mut tapped = Tapped::new(client, tap);
            let copied = tokio::io::copy_bidirectional(&mut tapped, &mut server).await;
            (copied, tapped.into_inner())
        }
        None => {
            let mut client = client;
            let copied = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            (copied, client)
        }
    };
    if let (Err(e), client) = copied
        && e.kind() == std::io::ErrorKind::ConnectionReset
    {
        // A reset on one side is a reset on the other.
        let _ = client.set_zero_linger();
    }
}
