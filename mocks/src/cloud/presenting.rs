//! What the cloud's listeners present: the server configurations made at start, or, once a
//! scenario switched them (`Cloud::present`), another face for every new connection — a bad
//! certificate, TLS 1.3 only, or a server that answers only TLS 1.0 or 1.1, whose ServerHello
//! the front door writes by hand because no rustls server speaks those.

use std::sync::{Arc, RwLock};

use super::{CloudError, CloudState, CloudTls, Endpoint};
use crate::world::Pki;

/// Another face for the listeners.
#[derive(Debug)]
pub(crate) struct Face {
    /// One configuration per endpoint, in `Endpoint::ALL`'s order.
    configs: Vec<Arc<rustls::ServerConfig>>,
    /// Every TLS hello is answered with a ServerHello of this version, and nothing more.
    pub legacy_only: Option<wire::tls::Version>,
}

impl Face {
    pub fn config(&self, host: &str) -> Option<Arc<rustls::ServerConfig>> {
        Endpoint::ALL
            .iter()
            .position(|e| e.host() == host)
            .and_then(|i| self.configs.get(i).cloned())
    }
}

/// The face switched on after start, if any.
#[derive(Debug, Default)]
pub(crate) struct Presenting(RwLock<Option<Arc<Face>>>);

impl Presenting {
    pub fn get(&self) -> Option<Arc<Face>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, pki: &Pki, tls: CloudTls, state: &CloudState) -> Result<(), CloudError> {
        let face = Face {
            configs: server_configs(pki, tls, state)?,
            legacy_only: tls.versions.legacy_only(),
        };
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(face));
        Ok(())
    }

    pub fn clear(&self) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The server configuration of each endpoint (in `Endpoint::ALL`'s order) for `tls`.
pub(crate) fn server_configs(
    pki: &Pki,
    tls: CloudTls,
    state: &CloudState,
) -> Result<Vec<Arc<rustls::ServerConfig>>, CloudError> {
    let versions = tls.versions(&state.faults);
    let mut configs = Vec::new();
    for endpoint in Endpoint::ALL {
        let leaf = tls.leaf(pki, endpoint.host(), state.clock.unix_seconds())?;
        let mut config = leaf.server_config(versions)?;
        // A WebSocket upgrade exists only in HTTP/1.1.
        config.alpn_protocols = match endpoint {
            Endpoint::Tunnel => vec![b"http/1.1".to_vec()],
            Endpoint::Connection | Endpoint::Sharing => {
                vec![b"h2".to_vec(), b"http/1.1".to_vec()]
            }
        };
        config.key_log = Arc::new(state.key_log.clone());
        configs.push(Arc::new(config));
    }
    Ok(configs)
}
