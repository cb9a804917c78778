//! The WAF in front of the DataMiner API. Every call the agent forwards passes through it and
//! every decision is logged with its reason. Shared-dashboard whitelists plug in here; until a
//! share exists, no whitelist applies and calls pass to the DMA's own authorisation.

mod decisions;
mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::world::{Clock, Lifetime, net};

pub use decisions::{Decision, Decisions, Verdict};

/// A running WAF.
#[derive(Debug, Clone)]
pub struct Waf {
    addr: SocketAddr,
    decisions: Decisions,
}

impl Waf {
    pub fn start(
        listener: TcpListener,
        dma: SocketAddr,
        clock: Clock,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let decisions = Decisions::default();
        let state = Arc::new(proxy::ProxyState {
            dma,
            clock,
            decisions: decisions.clone(),
        });
        net::serve_http(listener, lifetime, proxy::router(state));
        Ok(Self { addr, decisions })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }
}
