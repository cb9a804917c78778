//! The WAF in front of the DataMiner API's gateway channel. Every call the agent forwards passes
//! through it and every decision is logged with its reason. Only the Cloud Gateway's requests,
//! those that carry the DMS's gateway key, are inspected at all ([`key`](self)): any other is
//! refused first, and counts for nothing. It reads requests with a reader of
//! its own ([`reader`](self)), not the DMA's. A sign-in passes (within a limit of failures per
//! login); a call on a shared-dashboard connection (see [`registry`](self) for how a
//! connection is tied to its share) passes only when it is on the share's whitelist; a call on
//! a DMS user's session opened through the gateway goes to the DMA's own authorisation;
//! anything it cannot read, or cannot tie to one of those, is blocked: it fails closed (WAF-4).

mod body;
mod decisions;
mod key;
mod policy;
mod proxy;
mod reader;
mod registry;
mod remote;
mod whitelist;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::dms::GatewayKey;
use crate::dms::canonical::CanonicalCall;
use crate::world::{Clock, FaultSet, Lifetime, net};

pub use decisions::{Decision, Decisions, Verdict};
pub use whitelist::Whitelist;

/// The WAF's reading of a request as a canonical call, as a careful WAF reads it.
pub(crate) fn read_call(
    head: &http::request::Parts,
    path: &str,
    body: &[u8],
) -> Result<CanonicalCall, String> {
    let inspected =
        reader::read(head, path, body, body::Duplicates::Refused).map_err(|e| e.to_string())?;
    body::canonical(&inspected.method, &inspected.fields)
}

/// A running WAF.
#[derive(Debug, Clone)]
pub struct Waf {
    addr: SocketAddr,
    decisions: Decisions,
    registry: Arc<registry::Registry>,
    keyless: Arc<key::Keyless>,
}

impl Waf {
    /// Listens on `listener` and forwards what it allows to `dma` (the DMA's gateway channel),
    /// of the requests that carry `key` (the gateway key the DMS handed its Cloud Gateway);
    /// `faults` settle how it reads and matches calls, once.
    pub fn start(
        listener: TcpListener,
        dma: SocketAddr,
        key: GatewayKey,
        clock: Clock,
        faults: FaultSet,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let decisions = Decisions::default();
        let registry = Arc::new(registry::Registry::default());
        let keyless = Arc::new(key::Keyless::default());
        let state = Arc::new(proxy::ProxyState {
            dma,
            clock,
            key: key::KeyCheck::from_faults(&faults, key),
            keyless: keyless.clone(),
            decisions: decisions.clone(),
            registry: registry.clone(),
            policy: policy::MatchPolicy::from_faults(&faults),
            remote: remote::RemoteSignIns::new(remote::RemotePolicy::from_faults(&faults)),
        });
        net::serve_http(listener, lifetime, proxy::router(state));
        Ok(Self {
            addr,
            decisions,
            registry,
            keyless,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    /// How many requests it refused, unread, for want of the gateway key.
    pub fn refused_without_key(&self) -> u64 {
        self.keyless.count()
    }

    /// Registers a new share: its user's login and the whitelist built from its dashboard.
    pub fn register_share(&self, share_id: &str, login: &str, calls: Vec<CanonicalCall>) {
        self.registry
            .register(share_id, login, Whitelist::new(calls));
    }

    /// Forgets a deleted share; its connections are refused from now on.
    pub fn retire_share(&self, share_id: &str) {
        self.registry.retire(share_id);
    }

    /// The whitelist the WAF holds for `share_id`.
    pub fn whitelist(&self, share_id: &str) -> Option<Whitelist> {
        self.registry.whitelist(share_id)
    }
}

impl crate::dms::ShareFirewall for Waf {
    fn register_share(&self, share_id: &str, login: &str, calls: Vec<CanonicalCall>) {
        Waf::register_share(self, share_id, login, calls);
    }

    fn retire_share(&self, share_id: &str) {
        Waf::retire_share(self, share_id);
    }
}
