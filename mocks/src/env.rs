//! One complete simulated deployment, started with one call and stopped with another: the cloud
//! on its published names, the agent, the WAF and the DMA, wired over loopback.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use fixtures::{DmaData, FixtureError};
use tokio::net::TcpListener;

use crate::agent::{
    self, Agent, AgentError, AgentSetup, CloudUrls, CredentialStore, NetworkTimeout, ProcessConfig,
    ReceivedStreams,
};
use crate::cloud::store::{ScratchDir, StorePaths};
use crate::cloud::{Cloud, CloudError, CloudSetup, Endpoint};
use crate::dma::{Dma, DmaSetup};
use crate::dms::{Gateway, GatewayKey};
use crate::waf::Waf;
use crate::world::net::{DialFrom, ForwardProxy, Network, Resolver, ToxicProxy, Toxics, Traffic};
use crate::world::{Clock, Fault, FaultSet, Lifetime, Pki, PkiError};

mod accounts;
mod options;
mod second_site;
mod site;

pub use accounts::Accounts;
pub use options::{Hop, Options};
pub use second_site::{SecondSite, SiteAccounts};
pub use site::Dmz;

/// The environment could not start.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// rustls refused the agent's TLS configuration.
    #[error("the agent's TLS configuration is refused: {0}")]
    AgentTls(rustls::Error),
    /// A DMS-side listener could not be bound on loopback.
    #[error("cannot bind a loopback listener: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running simulated deployment. Dropping it stops every component.
#[derive(Debug)]
pub struct Environment {
    clock: Clock,
    faults: FaultSet,
    pki: Pki,
    lifetime: Lifetime,
    network: Network,
    cloud: Cloud,
    gateway: Gateway,
    dma: Dma,
    waf: Waf,
    store: CredentialStore,
    /// The streams the (in-process) agent received through its tunnels.
    received: ReceivedStreams,
    accounts: Accounts,
    /// The second organisation's own DMS site, when the environment was asked for one.
    second: Option<SecondSite>,
    agent_to_waf: Option<ToxicProxy>,
    waf_to_dma: Option<ToxicProxy>,
    recipient_to_cloud: Option<ToxicProxy>,
    dmz_proxy: Option<ForwardProxy>,
    agent_process: Option<ProcessConfig>,
    /// The gateway running in this process, which a scenario may restart.
    agent: Option<Agent>,
    /// How long `advance` waits for the cloud's keepalive verdicts: one ping timeout and more.
    cloud_settle_bound: Duration,
    agent_network_timeout: NetworkTimeout,
    /// The run's capture, when it captures: the cloud's request record goes beside it.
    capture: Option<crate::world::capture::CaptureSink>,
    /// The cloud's files: its store, the second region, its scratch space. Dropped last.
    scratch: ScratchDir,
}

impl Environment {
    pub async fn start(faults: FaultSet) -> Result<Self, EnvError> {
        Self::start_with(Options {
            faults,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options) -> Result<Self, EnvError> {
        // One crypto provider for the whole process; a second install attempt is harmless.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let lifetime = Lifetime::new();
        let started = Self::assemble(options, lifetime.clone()).await;
        if started.is_err() {
            // Whatever did start must not outlive the failed environment.
            lifetime.stop().await;
        }
        started
    }

    async fn assemble(options: Options, lifetime: Lifetime) -> Result<Self, EnvError> {
        let Options {
            faults,
            cloud_tls,
            agent_urls,
            agent_network_timeout,
            agent_ping_timeout,
            tunnel_target,
            cloud_ping_timeout,
            cloud_relay_answer_within,
            record_contents,
            proxied_hops,
            agent_clock_offset_seconds,
            foreign_names,
            connection_redirects_to,
            dmz,
            agent_as_process,
            capture,
            second_site,
        } = options;
        let agent_network_timeout =
            NetworkTimeout::new(agent_network_timeout.unwrap_or(agent::NETWORK_TIMEOUT));
        let clock = Clock::from_wall_clock();
        let ping_timeout = cloud_ping_timeout.unwrap_or(crate::cloud::PING_TIMEOUT);
        let pki = Pki::generate()?;
        let accounts = Accounts::generate();
        let scratch = ScratchDir::new()?;

        // The recipients' front is bound first: the links the cloud mails name its port.
        let recipients_front = if proxied_hops {
            Some(TcpListener::bind("127.0.0.1:0").await?)
        } else {
            None
        };
        let sharing_front = recipients_front
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?
            .map(|front| front.port());
        let cloud = Cloud::start(CloudSetup {
            clock: clock.clone(),
            faults: faults.clone(),
            pki: &pki,
            accounts: accounts.cloud_accounts(),
            tls: cloud_tls,
            lifetime: &lifetime,
            waits: crate::cloud::Waits {
                ping_timeout,
                relay_answer_within: cloud_relay_answer_within
                    .unwrap_or(crate::cloud::Waits::default().relay_answer_within),
            },
            store: StorePaths::under(scratch.path()),
            sharing_front,
        })
        .await?;
        let site::Site {
            network,
            sinkhole,
            dmz_proxy,
            proxy_options,
        } = site::Site::build(
            &cloud,
            &pki,
            &clock,
            &foreign_names,
            connection_redirects_to,
            dmz.as_ref(),
            &lifetime,
        )
        .await?;
        // The recipients' hop is transparent: the cloud's per-source bounds judge each
        // recipient, not the hop.
        let dial_from = if faults.is_on(Fault::NetHopHidesClientAddress) {
            DialFrom::ProxyAddress
        } else {
            DialFrom::ClientAddress
        };
        let recipient_to_cloud = recipients_front
            .map(|front| {
                ToxicProxy::serve_as(front, cloud.addr(Endpoint::Sharing), dial_from, &lifetime)
            })
            .transpose()?;
        if let Some(capture) = &capture {
            cloud.key_log().plug(capture.key_log.clone());
            for endpoint in Endpoint::ALL {
                if let Some(label) = network.resolver().record_of(endpoint.host()) {
                    capture
                        .wiretap
                        .label(endpoint.host(), SocketAddr::new(label, 443));
                }
            }
            cloud.ingress().tap(capture.wiretap.clone());
        }
        if record_contents {
            cloud.ingress().record_contents();
            network.egress().record_contents();
        }

        let dma_listener = TcpListener::bind("127.0.0.1:0").await?;
        let dma_gateway_listener = TcpListener::bind("127.0.0.1:0").await?;
        let waf_listener = TcpListener::bind("127.0.0.1:0").await?;
        let store = CredentialStore::default();
        let tunnel_target = match tunnel_target {
            Some(target) => target,
            None => waf_listener.local_addr()?,
        };
        let tap = |name: &'static str| capture.as_ref().map(|c| (c.wiretap.clone(), name));
        let agent_to_waf = proxy(proxied_hops, tunnel_target, tap("waf"), &lifetime).await?;
        let waf_to_dma = proxy(
            proxied_hops,
            dma_gateway_listener.local_addr()?,
            tap("dma-gateway"),
            &lifetime,
        )
        .await?;
        let gateway_key = GatewayKey::generate();
        let dms_clock = clock.skewed(agent_clock_offset_seconds);
        let received = ReceivedStreams::default();
        let setup = AgentSetup {
            dms_id: accounts.dms_id.clone(),
            dms_name: accounts.dms_name.clone(),
            organization: accounts.cloud_admin.organization.clone(),
            urls: agent_urls.unwrap_or_else(|| CloudUrls {
                connection: Endpoint::Connection.published_url(),
                tunnel: Endpoint::Tunnel.published_url(),
            }),
            clock: dms_clock.clone(),
            faults: faults.clone(),
            network: network.clone(),
            tls: logging_keys(
                agent::client_config(pki.roots()?, &dms_clock, &faults)
                    .map_err(EnvError::AgentTls)?,
                capture.as_ref(),
            ),
            store: store.clone(),
            network_timeout: agent_network_timeout.clone(),
            ping_timeout: agent_ping_timeout.unwrap_or(agent::NETWORK_TIMEOUT),
            forward_to: agent_to_waf
                .as_ref()
                .map_or(tunnel_target, ToxicProxy::addr),
            gateway_key,
            proxy: proxy_options,
            received: received.clone(),
        };
        let mut agent = None;
        let (gateway, agent_process) = if agent_as_process {
            let control = TcpListener::bind("127.0.0.1:0").await?;
            let place = site::ProcessPlace {
                foreign_names,
                sinkhole,
                control: control.local_addr()?,
                credential_file: scratch.path().join("dms-credentials.json"),
            };
            let config = site::process_config(setup, &pki, &cloud, place, &faults);
            let gateway = Gateway::over_channel(control, dms_clock.clone(), &lifetime);
            (gateway, Some(config))
        } else {
            let started = Agent::start(setup, &lifetime)?;
            agent = Some(started.clone());
            (started.serve(dms_clock.clone(), &lifetime), None)
        };
        // The WAF forwards to the DMA's gateway channel; the DMA registers shares with the WAF.
        let waf = Waf::start(
            waf_listener,
            match &waf_to_dma {
                Some(proxy) => proxy.addr(),
                None => dma_gateway_listener.local_addr()?,
            },
            gateway_key,
            clock.clone(),
            faults.clone(),
            &lifetime,
        )?;
        let dma = Dma::start(
            dma_listener,
            dma_gateway_listener,
            DmaSetup {
                data: DmaData::load()?,
                users: accounts.dms_users(),
                gateway: gateway.clone(),
                waf: std::sync::Arc::new(waf.clone()),
                gateway_key,
                clock: clock.clone(),
                faults: faults.clone(),
            },
            &lifetime,
        )?;
        let second = if second_site {
            let setup = second_site::SiteSetup {
                cloud: &cloud,
                pki: &pki,
                clock: &clock,
                faults: &faults,
                organization: accounts.cloud_outsider.organization.clone(),
            };
            Some(SecondSite::start(setup, &lifetime).await?)
        } else {
            None
        };
        let environment = Self {
            clock,
            faults,
            pki,
            lifetime,
            network,
            cloud,
            gateway,
            dma,
            waf,
            store,
            received,
            accounts,
            second,
            agent_to_waf,
            waf_to_dma,
            recipient_to_cloud,
            dmz_proxy,
            agent_process,
            agent,
            cloud_settle_bound: ping_timeout + Duration::from_secs(5),
            agent_network_timeout,
            capture,
            scratch,
        };
        environment.settle().await;
        Ok(environment)
    }

    /// Stops every component and waits until all of them have ended.
    pub async fn stop(self) {
        self.lifetime.stop().await;
    }

    /// Moves the clock on and waits until the clock-driven parts have acted on it: the agent
    /// (renewal, keepalive, redials) and the cloud's keepalive on every tunnel.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.settle().await;
        self.cloud.maintain();
        self.cloud
            .tunnels()
            .settle(self.clock.unix_seconds(), self.cloud_settle_bound)
            .await;
    }

    /// Waits until the agent has handled everything sent to it so far.
    pub async fn settle(&self) {
        self.gateway.settle().await;
        if let Some(second) = &self.second {
            second.agent().settle().await;
        }
    }

    /// The second organisation's own DMS site (`Options::second_site`).
    pub fn second_site(&self) -> Option<&SecondSite> {
        self.second.as_ref()
    }

    /// Every stream the DMS's agent received through its tunnels, as it arrived (an agent in
    /// its own process keeps its record there).
    pub fn agent_streams(&self) -> &ReceivedStreams {
        &self.received
    }

    /// The environment's own directory: every file the cloud writes is under it.
    pub fn scratch_dir(&self) -> &Path {
        self.scratch.path()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn faults(&self) -> &FaultSet {
        &self.faults
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub fn waf(&self) -> &Waf {
        &self.waf
    }

    /// The DMS's control channel to its Cloud Gateway, for what the gateway reports of itself
    /// (a live environment's state page) and whether a gateway process has attached.
    pub fn agent(&self) -> &Gateway {
        &self.gateway
    }

    pub fn dma(&self) -> &Dma {
        &self.dma
    }

    /// How long the agent waits on the network before giving up on an exchange: a scenario
    /// about a hanging cloud shortens it while the cloud hangs, and sets it back after.
    pub fn agent_network_timeout(&self) -> &NetworkTimeout {
        &self.agent_network_timeout
    }

    /// Everything the DMS side sent out, per destination name, counted on its sockets.
    pub fn dms_egress(&self) -> &Traffic {
        self.network.egress()
    }

    /// The toxics of `hop`; `None` for an inner hop when the environment was not started with
    /// `Options::proxied_hops`.
    pub fn hop(&self, hop: Hop) -> Option<Toxics> {
        match hop {
            Hop::DmsToCloud(endpoint) => Some(self.network.egress().toxics(endpoint.host())),
            Hop::AgentToWaf => self.agent_to_waf.as_ref().map(|p| p.toxics().clone()),
            Hop::WafToDma => self.waf_to_dma.as_ref().map(|p| p.toxics().clone()),
            Hop::RecipientToCloud => self.recipient_to_cloud.as_ref().map(|p| p.toxics().clone()),
        }
    }

    pub fn resolver(&self) -> &Resolver {
        self.network.resolver()
    }

    /// What the agent's own process is to be started with, when the environment was asked
    /// for one (`Options::agent_as_process`).
    pub fn agent_process(&self) -> Option<&ProcessConfig> {
        self.agent_process.as_ref()
    }

    /// The DMS's Cloud Gateway process ends and starts again on the same DMS (its tunnels and
    /// memory lost, its disk kept), then the environment settles. Only a gateway in this
    /// process restarts here; one run as its own process is the harness's to restart.
    pub async fn restart_agent(&self) -> Result<(), AgentError> {
        let Some(agent) = &self.agent else {
            return Err(AgentError::Stopped);
        };
        agent.restart().await?;
        self.settle().await;
        Ok(())
    }

    /// The DMS site's DMZ proxy, when the environment has one.
    pub fn dmz_proxy(&self) -> Option<&ForwardProxy> {
        self.dmz_proxy.as_ref()
    }

    /// The DMS's credential file.
    pub fn dms_credentials(&self) -> &CredentialStore {
        &self.store
    }

    pub fn ca_pem(&self) -> String {
        self.pki.ca_pem()
    }

    /// Every cloud listener presents `tls` to new connections from now on (certificates made
    /// by this environment's CA, or a stranger's): an endpoint misconfigured or impersonated
    /// in the middle of the DMS's life. `CloudTls::default()` restores the cloud's own face.
    pub fn present_cloud_tls(&self, tls: crate::cloud::CloudTls) -> Result<(), EnvError> {
        Ok(self.cloud.present(&self.pki, tls)?)
    }

    pub fn ca_der(&self) -> rustls::pki_types::CertificateDer<'static> {
        self.pki.ca_der()
    }

    /// A cloud endpoint as a URL a tool on this machine can use: published name, loopback port.
    pub fn cloud_url(&self, endpoint: Endpoint) -> String {
        format!(
            "{}://{}:{}/",
            endpoint.scheme(),
            endpoint.host(),
            self.front(endpoint).port()
        )
    }

    /// Published names and the loopback addresses behind them, for `--resolve`-style overrides.
    pub fn published(&self) -> Vec<(&'static str, SocketAddr)> {
        Endpoint::ALL
            .iter()
            .map(|e| (e.host(), self.front(*e)))
            .collect()
    }

    /// Where a client on this machine reaches `endpoint`: through the recipients' hop for the
    /// sharing endpoint when it is proxied.
    fn front(&self, endpoint: Endpoint) -> SocketAddr {
        match (&self.recipient_to_cloud, endpoint) {
            (Some(proxy), Endpoint::Sharing) => proxy.addr(),
            _ => self.cloud.addr(endpoint),
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.lifetime.cancel();
        if let Some(capture) = &self.capture {
            capture.saw_requests(self.cloud.requests().all().into_iter().map(|r| {
                crate::world::capture::SeenRequest {
                    endpoint: r.endpoint.to_owned(),
                    method: r.method,
                    target: origin_form(&r.path),
                    status: r.status,
                    peer: r.peer,
                    received: r.received,
                }
            }));
        }
    }
}

/// A proxy in front of `target` when hops are proxied or the run captures (the proxy then
/// puts every connection on the capture).
async fn proxy(
    proxied: bool,
    target: SocketAddr,
    tap: Option<(crate::world::capture::Wiretap, &'static str)>,
    lifetime: &Lifetime,
) -> Result<Option<ToxicProxy>, EnvError> {
    if !proxied && tap.is_none() {
        return Ok(None);
    }
    Ok(Some(ToxicProxy::start_tapped(target, tap, lifetime).await?))
}

/// The agent's TLS configuration, its secrets on the run's key log when it captures (the
/// cloud's side logs the same sessions; the client's side covers a server that is not the
/// cloud's, such as a redirecting front end).
fn logging_keys(
    config: std::sync::Arc<rustls::ClientConfig>,
    capture: Option<&crate::world::capture::CaptureSink>,
) -> std::sync::Arc<rustls::ClientConfig> {
    match capture {
        Some(capture) => {
            let mut logging = (*config).clone();
            logging.key_log = capture.key_log.clone();
            std::sync::Arc::new(logging)
        }
        None => config,
    }
}

/// A request target as the client wrote it on the wire: HTTP/2's requests are recorded with
/// scheme and authority, HTTP/1.1's in origin form already.
fn origin_form(target: &str) -> String {
    match target.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or_else(|| "/".to_owned(), |at| rest[at..].to_owned()),
        None => target.to_owned(),
    }
}
