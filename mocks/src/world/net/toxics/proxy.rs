//! A loopback TCP proxy in front of a server, for hops whose sockets the environment does not
//! hold itself (agent → WAF, WAF → DMA): clients dial the proxy, and what crosses it goes
//! through the hop's toxics on its way to the server and back.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

use super::{Toxicated, Toxics};
use crate::world::Lifetime;
use crate::world::capture::{Tapped, Wiretap};

/// A running proxy: where clients dial, and the toxics of the hop it stands for.
#[derive(Debug, Clone)]
pub struct ToxicProxy {
    addr: SocketAddr,
    toxics: Toxics,
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
        Self::serve_tapped(listener, target, None, lifetime)
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
            lifetime,
        )
    }

    fn serve_tapped(
        listener: TcpListener,
        target: SocketAddr,
        wiretap: Option<(Wiretap, &'static str)>,
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
                tasks.spawn(relay(client, tap, target, relay_toxics.clone()));
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

async fn relay(
    client: TcpStream,
    tap: Option<crate::world::capture::TapConn>,
    target: SocketAddr,
    toxics: Toxics,
) {
    let _ = client.set_nodelay(true);
    let Ok(server) = TcpStream::connect(target).await else {
        // The server is down: the client sees its connection end, as with no proxy between.
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
