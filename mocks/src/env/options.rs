//! How an environment is set up, and the stretches of its network a scenario can put toxics on.

use std::net::SocketAddr;

use super::Dmz;
use crate::agent::CloudUrls;
use crate::cloud::{CloudTls, Endpoint};
use crate::world::FaultSet;

/// How to set an environment up. The default is the deployment the specification describes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub faults: FaultSet,
    /// What the cloud's endpoints present in TLS.
    pub cloud_tls: CloudTls,
    /// The cloud URLs the agent is configured with, if not the published ones.
    pub agent_urls: Option<CloudUrls>,
    /// How long the agent waits on the network before giving up on an exchange, at the start,
    /// if not `agent::NETWORK_TIMEOUT`. A scenario about a hanging cloud rather shortens it
    /// while the cloud hangs, with [`Environment::agent_network_timeout`].
    pub agent_network_timeout: Option<std::time::Duration>,
    /// How long the agent waits for the pong of a tunnel keepalive, if not
    /// `agent::NETWORK_TIMEOUT`: a scenario about a tunnel that stops answering shortens it.
    pub agent_ping_timeout: Option<std::time::Duration>,
    /// Where the agent sends the streams that arrive through its tunnel, if not the WAF: a
    /// scenario or a benchmark about the tunnel itself puts its own loopback server there.
    pub tunnel_target: Option<SocketAddr>,
    /// How long the cloud waits for the pong of a tunnel keepalive, if not
    /// `cloud::PING_TIMEOUT`: a scenario about a dead agent shortens it.
    pub cloud_ping_timeout: Option<std::time::Duration>,
    /// How long the sharing relay waits for a DMS's answer head, if not the cloud's 30 s
    /// (`cloud::Waits`): a scenario about a DMS that never answers shortens it.
    pub cloud_relay_answer_within: Option<std::time::Duration>,
    /// Whether the decrypted contents of every connection are kept, on the cloud's side and
    /// on the DMS's: for a scenario that searches them.
    pub record_contents: bool,
    /// Puts a loopback proxy on the hops whose sockets the environment does not hold itself
    /// (agent → WAF, WAF → DMA, and recipients → the sharing endpoint, which recipients then
    /// reach at [`Environment::published`]), so a scenario can put toxics on them; off by
    /// default, as every proxy costs a hop.
    pub proxied_hops: bool,
    /// How far the DMS's own clock reads ahead of the cloud's (negative: behind), in seconds:
    /// the agent judges its schedule and stamps what it signs on that clock.
    pub agent_clock_offset_seconds: i64,
    /// Names of the wider internet the world's name service answers, with their addresses
    /// (labels with no route: a connection to one ends in the sinkhole, on the record).
    pub foreign_names: Vec<(String, std::net::IpAddr)>,
    /// The connection endpoint's address is served by a front end that redirects every
    /// request to this URL.
    pub connection_redirects_to: Option<String>,
    /// The DMS site has a DMZ: a forward proxy the agent is configured to go through.
    pub dmz: Option<Dmz>,
    /// The agent runs as its own process, started by the scenario from
    /// [`Environment::agent_process`]; the DMA drives it over the control channel it dials.
    pub agent_as_process: bool,
    /// Every connection the environment carries goes on this capture, and every TLS secret
    /// of its endpoints on its key log (`conform run --capture`): off unless asked for, as
    /// both hold the environment's live secrets. Inner hops then go through a tapping relay.
    pub capture: Option<crate::world::capture::CaptureSink>,
    /// A second full DMS site (DMA, WAF, agent) of the second organisation, the one
    /// `Accounts::cloud_outsider` owns: disabled until connected through the connect flow, as
    /// the first. Off by default, as it costs a DMS.
    pub second_site: bool,
}

/// A stretch of the network a scenario can put toxics on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The DMS's sockets to one cloud endpoint: upstream is what the DMS sends.
    DmsToCloud(Endpoint),
    /// The agent's connections to the WAF (or the tunnel target in its place).
    AgentToWaf,
    /// The WAF's connections to the DMA's gateway channel.
    WafToDma,
    /// Recipients' connections to the sharing endpoint: upstream is what a recipient sends.
    /// The hop is transparent: the cloud sees each recipient's own address.
    RecipientToCloud,
}
