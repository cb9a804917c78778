//! A second full DMS site, of the environment's second organisation: its own DMA, WAF and
//! Cloud Gateway (agent), its own network (name service and sockets) and its own credential
//! file, wired to the environment's one cloud as the first site is. It starts disabled; it is
//! connected through the public connect flow, approved by its own organisation's Owner, and
//! shares its own dashboards through its own DMA, as any customer's DMS does. Each component
//! knows only what its real counterpart would: this agent holds this DMS's token and key only.

use fixtures::DmaData;
use tokio::net::TcpListener;

use super::EnvError;
use super::site::Site;
use crate::agent::{
    self, Agent, AgentSetup, CloudUrls, CredentialStore, NetworkTimeout, ReceivedStreams,
};
use crate::cloud::{Cloud, Endpoint};
use crate::dma::{Dma, DmaSetup, Role, User};
use crate::dms::{Gateway, GatewayKey};
use crate::waf::Waf;
use crate::world::net::Traffic;
use crate::world::{Clock, FaultSet, Lifetime, Pki, random_token};

/// Who can log in where on the second site.
#[derive(Debug, Clone)]
pub struct SiteAccounts {
    pub dms_id: String,
    pub dms_name: String,
    /// The organisation the DMS joins: the second organisation.
    pub organization: String,
    pub dms_admin: User,
}

/// What the second site is built on.
pub(super) struct SiteSetup<'a> {
    pub cloud: &'a Cloud,
    pub pki: &'a Pki,
    pub clock: &'a Clock,
    pub faults: &'a FaultSet,
    pub organization: String,
}

/// The second organisation's DMS site, running.
#[derive(Debug)]
pub struct SecondSite {
    accounts: SiteAccounts,
    gateway: Gateway,
    dma: Dma,
    waf: Waf,
    store: CredentialStore,
    egress: Traffic,
    received: ReceivedStreams,
}

impl SecondSite {
    pub(super) async fn start(setup: SiteSetup<'_>, lifetime: &Lifetime) -> Result<Self, EnvError> {
        let SiteSetup {
            cloud,
            pki,
            clock,
            faults,
            organization,
        } = setup;
        let accounts = SiteAccounts {
            dms_id: format!("dms-{}", random_token(4)),
            dms_name: "DMS-Antwerp".to_owned(),
            organization,
            dms_admin: User {
                login: "admin".to_owned(),
                password: random_token(12),
                role: Role::Administrator,
            },
        };
        // A name service and sockets of its own: what this site dialled is counted apart.
        let site = Site::build(cloud, pki, clock, &[], None, None, lifetime).await?;
        let dma_listener = TcpListener::bind("127.0.0.1:0").await?;
        let dma_gateway_listener = TcpListener::bind("127.0.0.1:0").await?;
        let waf_listener = TcpListener::bind("127.0.0.1:0").await?;
        let store = CredentialStore::default();
        let received = ReceivedStreams::default();
        let gateway_key = GatewayKey::generate();
        let agent = Agent::start(
            AgentSetup {
                dms_id: accounts.dms_id.clone(),
                dms_name: accounts.dms_name.clone(),
                organization: accounts.organization.clone(),
                urls: CloudUrls {
                    connection: Endpoint::Connection.published_url(),
                    tunnel: Endpoint::Tunnel.published_url(),
                },
                clock: clock.clone(),
                faults: faults.clone(),
                network: site.network.clone(),
                tls: agent::client_config(pki.roots()?, clock, faults)
                    .map_err(EnvError::AgentTls)?,
                store: store.clone(),
                network_timeout: NetworkTimeout::new(agent::NETWORK_TIMEOUT),
                ping_timeout: agent::NETWORK_TIMEOUT,
                forward_to: waf_listener.local_addr()?,
                gateway_key,
                proxy: site.proxy_options,
                received: received.clone(),
            },
            lifetime,
        )?;
        let gateway = agent.serve(clock.clone(), lifetime);
        let waf = Waf::start(
            waf_listener,
            dma_gateway_listener.local_addr()?,
            gateway_key,
            clock.clone(),
            faults.clone(),
            lifetime,
        )?;
        let dma = Dma::start(
            dma_listener,
            dma_gateway_listener,
            DmaSetup {
                data: DmaData::load()?,
                users: vec![accounts.dms_admin.clone()],
                gateway: gateway.clone(),
                waf: std::sync::Arc::new(waf.clone()),
                gateway_key,
                clock: clock.clone(),
                faults: faults.clone(),
            },
            lifetime,
        )?;
        Ok(Self {
            accounts,
            gateway,
            dma,
            waf,
            store,
            egress: site.network.egress().clone(),
            received,
        })
    }

    pub fn accounts(&self) -> &SiteAccounts {
        &self.accounts
    }

    pub fn dma(&self) -> &Dma {
        &self.dma
    }

    pub fn waf(&self) -> &Waf {
        &self.waf
    }

    /// The site's control channel to its Cloud Gateway.
    pub fn agent(&self) -> &Gateway {
        &self.gateway
    }

    /// Every stream this site's agent received through its tunnels, as it arrived.
    pub fn agent_streams(&self) -> &ReceivedStreams {
        &self.received
    }

    /// Everything this site sent out, per destination name, counted on its sockets.
    pub fn dms_egress(&self) -> &Traffic {
        &self.egress
    }

    /// This site's credential file: its token and key, and no other DMS's.
    pub fn dms_credentials(&self) -> &CredentialStore {
        &self.store
    }
}
