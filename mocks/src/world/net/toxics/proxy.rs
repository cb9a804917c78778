//! A loopback TCP proxy in front of a server, for hops whose sockets the environment does not
//! hold itself (agent → WAF, WAF → DMA): clients dial the proxy, and what crosses it goes
//! through the hop's toxics on its way to the server and back.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

use super::{Toxicated, Toxics};
use crate::world::Lifetime;

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
        let addr = listener.local_addr()?;
        let toxics = Toxics::new();
        let relay_toxics = toxics.clone();
        let tasks = lifetime.clone();
        lifetime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tasks.spawn(relay(client, target, relay_toxics.clone()));
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

async fn relay(mut client: TcpStream, target: SocketAddr, toxics: Toxics) {
    let _ = client.set_nodelay(true);
    let Ok(server) = TcpStream::connect(target).await else {
        // The server is down: the client sees its connection end, as with no proxy between.
        let _ = client.set_zero_linger();
        return;
    };
    let _ = server.set_nodelay(true);
    let mut server = Toxicated::new(server, &toxics);
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut server).await
        && e.kind() == std::io::ErrorKind::ConnectionReset
    {
        // A reset on one side is a reset on the other.
        let _ = client.set_zero_linger();
    }
}
