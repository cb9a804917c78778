//! The DataMiner API of the DMS: users and roles, elements with parameters and alarms, shared
//! dashboards and their share users, behind a JSON API shaped like DataMiner Web Services v1
//! (`POST /API/v1/Json.asmx/<Method>`). The cloud-connection methods hand the request, with the
//! caller's permissions, to the agent.
//!
//! Two listeners serve the API: the public one, which users and applications reach, and the
//! gateway one, which only the WAF forwards to (the Cloud Gateway's channel), and which serves
//! only requests carrying the key the DMS handed its Cloud Gateway. Share users log in and work
//! only on the gateway one.

mod api;
mod dashboard_app;
mod data;
mod error;
mod gateway;
mod passwords;
mod reader;
mod records;
mod rights;
mod share_api;
mod shares;
mod trend;
mod users;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use fixtures::DmaData;
use tokio::net::TcpListener;

use crate::dms::Gateway;
use crate::dms::GatewayKey;
use crate::dms::ShareFirewall;
use crate::world::{Clock, FaultSet, Lifetime, net};

pub use crate::dms::canonical::{CanonicalCall, CanonicalValue};
pub use passwords::ShareKey;
pub use records::{Arrival, Arrivals, Executed, ExecutedCall};
pub use shares::StoredShareUser;
pub use trend::{MAX_TREND_POINTS, TREND_METHOD, TrendAnswer, TrendLog};
pub use users::{Permission, Role, User};

/// What the DMA needs to start.
#[derive(Debug)]
pub struct DmaSetup {
    pub data: DmaData,
    pub users: Vec<User>,
    /// The control channel to the DMS's Cloud Gateway.
    pub gateway: Gateway,
    /// The WAF in front of the gateway channel: shares register their whitelists with it.
    pub waf: Arc<dyn ShareFirewall>,
    /// The key the DMS handed its Cloud Gateway: the gateway channel serves only requests that
    /// carry it.
    pub gateway_key: GatewayKey,
    pub clock: Clock,
    pub faults: FaultSet,
}

/// Which listener a call came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Where DMS users and their applications call.
    Public,
    /// Where only the WAF forwards to, for the Cloud Gateway.
    Gateway,
}

#[derive(Debug)]
pub(crate) struct DmaState {
    pub data: Mutex<DmaData>,
    pub users: users::Directory,
    pub shares: shares::Shares,
    pub cloud_gateway: Gateway,
    pub waf: Arc<dyn ShareFirewall>,
    pub gateway: gateway::GatewayAuth,
    pub rights: rights::UserRights,
    pub faults: FaultSet,
    pub clock: Clock,
    pub trends: TrendLog,
    pub arrivals: Arrivals,
    pub executed: Executed,
}

/// The DMA's reading of a request: the method and the parameters its methods see.
pub(crate) fn read_request(
    head: &http::request::Parts,
    path: &str,
    body: &[u8],
) -> Result<(String, serde_json::Map<String, serde_json::Value>), String> {
    reader::read(head, path, Some(body)).map_err(|e| e.to_string())
}

/// A running mock DataMiner Agent.
#[derive(Debug, Clone)]
pub struct Dma {
    addr: SocketAddr,
    gateway_addr: SocketAddr,
    gateway_key: GatewayKey,
    state: Arc<DmaState>,
}

impl Dma {
    /// Serves the public API on `public` and the gateway channel on `gateway`.
    pub fn start(
        public: TcpListener,
        gateway: TcpListener,
        setup: DmaSetup,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let addr = public.local_addr()?;
        let gateway_addr = gateway.local_addr()?;
        let gateway_key = setup.gateway_key;
        let state = Arc::new(DmaState {
            data: Mutex::new(setup.data),
            users: users::Directory::new(setup.users, setup.clock.clone()),
            shares: shares::Shares::new(
                shares::SharePolicy::from_faults(&setup.faults),
                passwords::PasswordPolicy::from_faults(&setup.faults, &setup.clock),
                setup.waf.clone(),
                setup.clock.clone(),
            ),
            cloud_gateway: setup.gateway,
            waf: setup.waf,
            gateway: gateway::GatewayAuth::from_faults(&setup.faults, setup.gateway_key),
            rights: rights::UserRights::from_faults(&setup.faults),
            faults: setup.faults,
            clock: setup.clock,
            trends: TrendLog::default(),
            arrivals: Arrivals::default(),
            executed: Executed::default(),
        });
        // Expiry does not wait for someone to look: each move of the clock ends what expired.
        let expiring = state.clone();
        let mut ticks = expiring.clock.watch();
        lifetime.spawn(async move {
            while ticks.changed().await.is_ok() {
                expiring.shares.sweep();
            }
        });
        net::serve_http(
            public,
            lifetime,
            api::router(state.clone(), Channel::Public),
        );
        net::serve_http(
            gateway,
            lifetime,
            api::router(state.clone(), Channel::Gateway),
        );
        Ok(Self {
            addr,
            gateway_addr,
            gateway_key,
            state,
        })
    }

    /// The public API's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The gateway channel's address: only the WAF, forwarding the Cloud Gateway's requests,
    /// is served here.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway_addr
    }

    /// The base of the public JSON API: append the method name.
    pub fn api_url(&self) -> String {
        format!("http://{}/API/v1/Json.asmx/", self.addr)
    }

    /// The share users as the user table stores them (passwords as stored).
    pub fn share_users(&self) -> Vec<StoredShareUser> {
        self.state.shares.all()
    }

    /// How many sessions of `share_id`'s user the DMA's session table holds open.
    pub fn open_share_sessions(&self, share_id: &str) -> usize {
        self.state.shares.open_sessions(share_id)
    }

    /// The login and password the DMS hands its Cloud Gateway for `share_id`: what the agent
    /// logs in with on the recipients' behalf. `None` once the share is deleted.
    pub fn gateway_credentials(&self, share_id: &str) -> Option<(String, String)> {
        self.state.shares.credentials(share_id)
    }

    /// The key the DMS hands its Cloud Gateway for the gateway channel, as it hands it the
    /// share users' credentials.
    pub fn gateway_key(&self) -> GatewayKey {
        self.gateway_key
    }

    /// The key share passwords are sealed with, kept apart from the user table.
    pub fn share_key(&self) -> ShareKey {
        self.state.shares.key().clone()
    }

    /// `count` passwords from the generator share users get theirs from, for statistics.
    pub fn sample_share_passwords(&self, count: usize) -> Vec<String> {
        (0..count)
            .map(|_| self.state.shares.generate_password())
            .collect()
    }

    /// Every request that reached either listener, in order.
    pub fn arrivals(&self) -> &Arrivals {
        &self.state.arrivals
    }

    /// Every call the DMA carried out, per session and channel; refused calls are not on it.
    pub fn executed(&self) -> &Executed {
        &self.state.executed
    }

    /// Every trend answer the DMA started, with how far it got.
    pub fn trend_answers(&self) -> &TrendLog {
        &self.state.trends
    }

    /// Whether `login` is a share user's.
    pub fn is_share_login(&self, login: &str) -> bool {
        self.state.shares.is_share_login(login)
    }
}
