//! The agent as its own process (`conform agent --config FILE`): what it is configured with,
//! and the run that builds it and serves the DMA's control channel, which it dials, until the
//! DMA hangs up. The operating system can then be asked what the process does.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;

use super::{
    Agent, AgentError, AgentSetup, CloudUrls, CredentialStore, NETWORK_TIMEOUT, NetworkTimeout,
    ProxyOptions, ReceivedStreams, client_config, serve_control,
};
use crate::dms::GatewayKey;
use crate::world::net::{Network, Resolver, Traffic};
use crate::world::{Clock, Fault, FaultSet, Lifetime};

/// Everything a gateway process needs, as the environment writes it for one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProcessConfig {
    pub dms_id: String,
    pub dms_name: String,
    pub organization: String,
    pub connection_url: String,
    pub tunnel_url: String,
    /// The environment's CA certificate, DER in base64: the only root the agent trusts.
    pub ca_der: String,
    /// The published names, in the order they are published, with the loopback port behind
    /// each: the connector's translation.
    pub published: Vec<(String, SocketAddr)>,
    /// Other names of the world, with their (unrouted) addresses.
    pub foreign_names: Vec<(String, IpAddr)>,
    /// Where connections to unrouted addresses go.
    pub sinkhole: Option<SocketAddr>,
    pub proxy: ProxyOptions,
    /// The WAF in front of the DMA's gateway channel.
    pub forward_to: SocketAddr,
    /// The key the DMS hands its gateway for the DMA's gateway channel, in hex.
    pub gateway_key: String,
    /// The DMS's credential file (key pair, token, refresh key), read at the start when it
    /// exists and rewritten at every change; in memory only when absent.
    pub credential_file: Option<PathBuf>,
    /// The DMA's control channel, which the agent dials.
    pub control: SocketAddr,
    pub faults: Vec<String>,
    /// The environment's time when the config was written.
    pub now_unix: u64,
}

/// The gateway process could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The configuration names something the agent cannot use.
    #[error("unusable agent configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// rustls refused the agent's TLS configuration.
    #[error("the agent's TLS configuration is refused: {0}")]
    Tls(#[from] rustls::Error),
    /// The DMA's control channel could not be reached or broke.
    #[error("the DMA's control channel at {at}: {source}")]
    Control {
        at: SocketAddr,
        source: std::io::Error,
    },
}

impl ProcessConfig {
    /// Runs the agent until the DMA hangs up its control channel.
    pub async fn run(self) -> Result<(), ProcessError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(self.now_unix));
        let faults = self
            .faults
            .iter()
            .map(|name| name.parse::<Fault>())
            .collect::<Result<FaultSet, _>>()
            .map_err(|e| ProcessError::Config(e.to_string()))?;
        let mut resolver = Resolver::new(clock.clone());
        for (name, at) in &self.published {
            resolver.publish(name, 443, *at);
        }
        for (name, address) in &self.foreign_names {
            resolver.answer(name, *address);
        }
        if let Some(sinkhole) = self.sinkhole {
            resolver.sink_strays_at(sinkhole);
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(&self.ca_der)
            .map_err(|e| ProcessError::Config(format!("ca_der: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der.into())?;
        let gateway_key = GatewayKey::from_hex(&self.gateway_key)
            .ok_or_else(|| ProcessError::Config("gateway_key: not 32 bytes in hex".into()))?;
        let store = match &self.credential_file {
            Some(path) => {
                CredentialStore::in_file(path).map_err(|e| ProcessError::Config(e.to_string()))?
            }
            None => CredentialStore::default(),
        };
        let lifetime = Lifetime::new();
        let agent = Agent::start(
            AgentSetup {
                dms_id: self.dms_id,
                dms_name: self.dms_name,
                organization: self.organization,
                urls: CloudUrls {
                    connection: self.connection_url,
                    tunnel: self.tunnel_url,
                },
                tls: client_config(Arc::new(roots), &clock, &faults)?,
                clock: clock.clone(),
                faults,
                network: Network::new(resolver, Traffic::new()),
                store,
                network_timeout: NetworkTimeout::new(NETWORK_TIMEOUT),
                ping_timeout: NETWORK_TIMEOUT,
                forward_to: self.forward_to,
                gateway_key,
                proxy: self.proxy,
                received: ReceivedStreams::default(),
            },
            &lifetime,
        )?;
        let served = serve_control(&agent, &clock, self.control).await;
        lifetime.stop().await;
        served.map_err(|source| ProcessError::Control {
            at: self.control,
            source,
        })
    }
}
