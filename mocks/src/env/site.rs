//! The DMS site's network: the world's name service with the published names and the
//! scenario's other ones, the sinkhole strays end in, an optional redirecting front end on the
//! connection address, the DMZ proxy and what the agent is told of it; and the configuration
//! a gateway process is started with on the same world.

use std::net::{IpAddr, SocketAddr};

use base64::Engine;
use tokio::net::TcpListener;

use super::EnvError;
use crate::agent::{AgentSetup, ProcessConfig, ProxyCredentials, ProxyOptions};
use crate::cloud::{Cloud, Endpoint};
use crate::world::net::{
    DmzPolicy, ForwardProxy, Network, Resolver, Traffic, start_redirector, start_sinkhole,
};
use crate::world::{Clock, FaultSet, Lifetime, Pki, Validity};

/// The DMS site's DMZ proxy, and what the agent is told of it.
#[derive(Debug, Clone, Default)]
pub struct Dmz {
    pub proxy: DmzPolicy,
    /// The proxy credentials the agent is configured with.
    pub agent_credentials: Option<ProxyCredentials>,
}

pub(super) struct Site {
    pub network: Network,
    pub sinkhole: SocketAddr,
    pub dmz_proxy: Option<ForwardProxy>,
    pub proxy_options: ProxyOptions,
}

impl Site {
    pub async fn build(
        cloud: &Cloud,
        pki: &Pki,
        clock: &Clock,
        foreign_names: &[(String, IpAddr)],
        connection_redirects_to: Option<String>,
        dmz: Option<&Dmz>,
        lifetime: &Lifetime,
    ) -> Result<Self, EnvError> {
        let mut resolver = Resolver::new(clock.clone());
        for endpoint in Endpoint::ALL {
            resolver.publish(endpoint.host(), 443, cloud.addr(endpoint));
        }
        for (name, address) in foreign_names {
            resolver.answer(name, *address);
        }
        let sinkhole = start_sinkhole(lifetime).await?;
        resolver.sink_strays_at(sinkhole);
        if let Some(location) = connection_redirects_to {
            let host = Endpoint::Connection.host();
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let front = listener.local_addr()?;
            let leaf = pki.leaf(&[host], clock.unix_seconds(), Validity::Current)?;
            start_redirector(listener, &leaf, location, lifetime)?;
            if let Some(address) = resolver.record_of(host) {
                resolver.route(SocketAddr::new(address, 443), front);
            }
        }
        let (dmz_proxy, proxy_options) = match dmz {
            Some(dmz) => {
                let proxy =
                    ForwardProxy::start(dmz.proxy.clone(), resolver.for_another_host(), lifetime)
                        .await?;
                let options = ProxyOptions {
                    enabled: true,
                    address: proxy.addr().to_string(),
                    credentials: dmz.agent_credentials.clone(),
                };
                (Some(proxy), options)
            }
            None => (None, ProxyOptions::default()),
        };
        Ok(Self {
            network: Network::new(resolver, Traffic::new()),
            sinkhole,
            dmz_proxy,
            proxy_options,
        })
    }
}

/// Where a gateway process on this site stands: the world it sees, the DMA's control channel
/// it dials, the file it keeps its credentials in.
pub(super) struct ProcessPlace {
    pub foreign_names: Vec<(String, IpAddr)>,
    pub sinkhole: SocketAddr,
    pub control: SocketAddr,
    pub credential_file: std::path::PathBuf,
}

/// What a gateway process on this site is started with: `setup`, as far as a file carries it.
pub(super) fn process_config(
    setup: AgentSetup,
    pki: &Pki,
    cloud: &Cloud,
    place: ProcessPlace,
    faults: &FaultSet,
) -> ProcessConfig {
    let ProcessPlace {
        foreign_names,
        sinkhole,
        control,
        credential_file,
    } = place;
    ProcessConfig {
        dms_id: setup.dms_id,
        dms_name: setup.dms_name,
        organization: setup.organization,
        connection_url: setup.urls.connection,
        tunnel_url: setup.urls.tunnel,
        ca_der: base64::engine::general_purpose::STANDARD.encode(pki.ca_der()),
        published: Endpoint::ALL
            .iter()
            .map(|e| (e.host().to_owned(), cloud.addr(*e)))
            .collect(),
        foreign_names,
        sinkhole: Some(sinkhole),
        proxy: setup.proxy,
        forward_to: setup.forward_to,
        gateway_key: setup.gateway_key.expose(),
        credential_file: Some(credential_file),
        control,
        faults: faults.iter().map(|f| f.name().to_owned()).collect(),
        now_unix: setup.clock.unix_seconds(),
    }
}
