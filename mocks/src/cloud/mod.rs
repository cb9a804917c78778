//! dataminer.services: account login, the connect flow (RFC 8628 device authorization, the
//! DMS proving its key as RFC 7523 says, approved on a page a person opens), the tokens it
//! issues and revokes, the WSS tunnel endpoint the agent dials, and share management. Each
//! published name is its own TLS 1.2 listener, which keeps every client's first flight.
//! What it must keep (accounts, registrations, token families, shares, mail, its log) it
//! keeps in an encrypted store on disk (`store`).

mod accounts;
mod approval;
mod approval_policy;
mod bearer;
mod binding;
mod cipher;
mod client_auth;
mod clients;
mod connection;
mod date;
mod device_flow;
mod device_policy;
mod device_token;
mod dms_removal;
mod dms_text;
mod endpoint;
pub(crate) mod fuzzing;
mod grant_bound;
mod hellos;
mod hold;
mod jose;
mod listener;
mod log;
mod mail_address;
mod mail_limits;
mod oauth;
mod org_admin;
mod outage;
mod outbox;
mod own_pages;
mod pages;
mod presenting;
mod rebuild;
mod recipient;
mod refresh;
mod relay_answer;
mod relay_budget;
mod relay_headers;
mod relay_target;
mod remote_access;
mod requests;
mod restart;
mod roles;
pub mod routes;
mod sessions;
mod share_api;
mod share_keeping;
mod share_mail;
mod share_relay;
mod shares;
mod sharing;
mod sign_in;
mod signup;
pub mod store;
mod streams;
mod tls;
mod tokens;
mod tunnel;
mod vault;
mod viewer;
mod viewer_frame;
mod waits;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::world::net::Traffic;
use crate::world::{Clock, Fault, FaultSet, Lifetime, Pki, PkiError};

pub use accounts::Account;
pub use endpoint::Endpoint;
pub use hellos::{FirstFlight, Hellos};
pub use hold::{AnswerHold, Rendezvous};
pub use log::CloudLog;
pub use outage::{Outage, OutageSwitch};
pub use outbox::{Mail, Outbox};
pub use requests::{CloudRequest, RequestLog};
pub use roles::OrgRole;
pub use routes::{Guard, ROUTES, Route};
pub use shares::{Opening, ShareRecord};
pub use store::{Store, StoreError, StorePaths};
pub use streams::{TunnelBody, TunnelResponse, TunnelSendError, get, next_chunk, post_json};
pub use tls::{CertificateProblem, CloudTls, CloudVersions};
pub use tokens::{Claims, Issued, TokenError};
pub use tunnel::{PING_TIMEOUT, TunnelEvent, TunnelRecord, Tunnels};
pub use vault::{Credential, KekVersions, KeyVault, VaultAccess, VaultError, WrappedKey};
pub use waits::Waits;

/// Everything the cloud keeps, shared by its three listeners.
#[derive(Debug)]
pub(crate) struct CloudState {
    pub clock: Clock,
    pub accounts: accounts::Accounts,
    /// The DMSs registered with their keys, and the client assertions seen.
    pub clients: clients::Clients,
    pub devices: device_flow::DeviceFlows,
    pub tokens: tokens::TokenService,
    pub vault: Arc<KeyVault>,
    /// The credential of the cloud's managed identity, as the vault issued it.
    pub identity: Credential,
    /// How the front ends check a bearer token.
    pub front_end: bearer::FrontEnd,
    /// Where a person reaches the connection endpoint, port included: the verification page's
    /// base.
    pub connection_url: String,
    /// Where a person reaches the sharing endpoint, port included: the base of share links.
    pub sharing_url: String,
    /// The shares DMSs announced, their links and viewer sessions.
    pub shares: shares::Shares,
    /// Every mail the cloud sent.
    pub outbox: Outbox,
    /// Sign-ups waiting for their mailed code.
    pub signups: signup::SignUps,
    /// How the sharing front end passes answers on.
    pub relay: recipient::Relay,
    /// What remote access passes on of the headers the DMS's side trusts.
    pub remote_headers: recipient::TrustedHeaders,
    /// What each viewer may hold of the relay at once, and how long it waits for a DMS.
    pub relay_budget: relay_budget::RelayBudget,
    /// Where both relays take the DMS of a request from.
    pub relay_target: relay_target::RelayTarget,
    /// The most header bytes both relays send into a tunnel with one request; `None`
    /// (`cloud.relay-passes-any-header-size`): any.
    pub tunnel_header_budget: Option<usize>,
    /// Which accounts reach which DMS remotely, and whom the organisation's admin API serves.
    pub remote_access: remote_access::RemoteAccess,
    pub org_admin: org_admin::AdminPolicy,
    /// What answers a connection before TLS does.
    pub door: listener::FrontDoor,
    pub log: CloudLog,
    /// What the cloud keeps on disk, sealed.
    pub store: Arc<Store>,
    pub tunnels: Tunnels,
    pub requests: RequestLog,
    pub hellos: Hellos,
    /// What the listeners present when a scenario switched it after start.
    pub presenting: presenting::Presenting,
    /// Where the endpoints' TLS secrets go when the environment captures (`--capture`).
    pub key_log: crate::world::capture::KeyLogSlot,
    pub outage: OutageSwitch,
    /// Holds the refresh grant's answers while a scenario wants a renewal caught mid-way.
    pub renewal_hold: AnswerHold,
    /// Where check-then-spend redemptions meet between their check and their spend.
    pub redemptions: Rendezvous,
    pub faults: FaultSet,
    /// The tasks of the cloud's current run: a restart ends them.
    pub lifetime: restart::Runs,
    /// How long a tunnel's keepalive waits for the agent's pong.
    pub ping_timeout: std::time::Duration,
}

impl CloudState {
    /// Everything the cloud keeps, each part set up with the policy the faults make of it:
    /// one way to build a cloud, for its listeners and for the in-memory fuzzing endpoint.
    pub(crate) fn new(
        clock: Clock,
        faults: FaultSet,
        accounts: accounts::Accounts,
        urls: (String, String),
        lifetime: Lifetime,
        waits: Waits,
        store: Option<StorePaths>,
    ) -> Result<Arc<Self>, StoreError> {
        let (vault, workloads) = KeyVault::provision(
            &vault::VaultPolicy::from_faults(&faults),
            clock.unix_seconds(),
        );
        let vault = Arc::new(vault);
        let store = Arc::new(Store::open(
            store,
            vault.clone(),
            workloads.token_service.clone(),
            clock.clone(),
            &faults,
        )?);
        for account in accounts.records() {
            store.put(&account)?;
        }
        let log = CloudLog::kept_in(clock.clone(), store.clone());
        Ok(Arc::new(CloudState {
            tokens: tokens::TokenService::new(
                clock.clone(),
                tokens::TokenPolicy::from_faults(&faults),
                vault.clone(),
                workloads.token_service.clone(),
                log.clone(),
            )
            .kept_in(store.clone()),
            vault,
            identity: workloads.token_service.clone(),
            front_end: bearer::FrontEnd::from_faults(&faults, &workloads),
            connection_url: urls.0,
            sharing_url: urls.1,
            shares: shares::Shares::new(shares::SharePolicy::from_faults(&faults)),
            outbox: Outbox::new(outbox::MailPolicy::from_faults(&faults))
                .kept_in(store.clone(), log.clone()),
            signups: signup::SignUps::from_faults(&faults),
            relay: recipient::Relay::from_faults(&faults),
            remote_headers: recipient::TrustedHeaders::from_faults(&faults),
            relay_budget: relay_budget::RelayBudget::from_faults(
                &faults,
                waits.relay_answer_within,
            ),
            relay_target: relay_target::RelayTarget::from_faults(&faults),
            tunnel_header_budget: (!faults.is_on(Fault::CloudRelayPassesAnyHeaderSize))
                .then_some(relay_headers::INTO_TUNNEL),
            remote_access: remote_access::RemoteAccess::new(
                remote_access::RemoteAccessPolicy::from_faults(&faults),
            ),
            org_admin: org_admin::AdminPolicy::from_faults(&faults),
            door: listener::FrontDoor::from_faults(&faults),
            log,
            store,
            hellos: Hellos::default(),
            presenting: presenting::Presenting::default(),
            key_log: crate::world::capture::KeyLogSlot::default(),
            outage: OutageSwitch::default(),
            renewal_hold: AnswerHold::default(),
            redemptions: Rendezvous::default(),
            accounts,
            clients: clients::Clients::new(clients::ClientPolicy::from_faults(&faults)),
            devices: device_flow::DeviceFlows::new(device_policy::DeviceFlowPolicy::from_faults(
                &faults,
            )),
            faults,
            tunnels: Tunnels::default(),
            requests: RequestLog::default(),
            lifetime: restart::Runs::within(&lifetime),
            ping_timeout: waits.ping_timeout,
            clock,
        }))
    }
}

/// A running mock of dataminer.services.
#[derive(Debug, Clone)]
pub struct Cloud {
    state: Arc<CloudState>,
    ingress: Traffic,
    addrs: Vec<(Endpoint, SocketAddr)>,
    /// What each listener presents, kept for the listeners of a restart.
    tls: Arc<Vec<Arc<rustls::ServerConfig>>>,
    persistence: restart::Persistence,
    /// Where every endpoint's TLS secrets go when the run captures.
    key_log: crate::world::capture::KeyLogSlot,
}

/// What the cloud needs to start.
#[derive(Debug)]
pub struct CloudSetup<'a> {
    pub clock: Clock,
    pub faults: FaultSet,
    pub pki: &'a Pki,
    pub accounts: Vec<Account>,
    pub tls: CloudTls,
    pub lifetime: &'a Lifetime,
    pub waits: Waits,
    /// Where the store keeps its files: the environment's own directory.
    pub store: StorePaths,
    /// The port recipients reach the sharing endpoint on, when a front (the recipients' hop)
    /// stands before it: the links the cloud mails point there.
    pub sharing_front: Option<u16>,
}

impl Cloud {
    pub async fn start(setup: CloudSetup<'_>) -> Result<Self, CloudError> {
        let mut listeners = Vec::new();
        for endpoint in Endpoint::ALL {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            listeners.push((endpoint, listener.local_addr()?, listener));
        }
        let addrs: Vec<(Endpoint, SocketAddr)> =
            listeners.iter().map(|(e, a, _)| (*e, *a)).collect();
        let base = |endpoint: Endpoint| {
            let port = addrs
                .iter()
                .find(|(e, _)| *e == endpoint)
                .map_or(443, |(_, a)| a.port());
            let port = match (endpoint, setup.sharing_front) {
                (Endpoint::Sharing, Some(front)) => front,
                _ => port,
            };
            format!("https://{}:{port}/", endpoint.host())
        };
        let roles = roles::RoleSource::from_faults(&setup.faults);
        let sessions = sessions::Sessions::new(
            sessions::SessionPolicy::from_faults(&setup.faults),
            setup.clock.clone(),
        );
        let accounts = accounts::Accounts::new(setup.accounts, roles)
            .with_sessions(sessions)
            .without_host_prefix(setup.faults.is_on(Fault::CloudSessionCookieUnprefixed))
            .guessing_unbounded(setup.faults.is_on(Fault::CloudSignInGuessingUnbounded))
            .sign_in_from_any_site(setup.faults.is_on(Fault::CloudSignInFromAnySite))
            .sign_out_keeps_viewers(setup.faults.is_on(Fault::CloudSignOutKeepsViewers));
        let state = CloudState::new(
            setup.clock,
            setup.faults,
            accounts,
            (base(Endpoint::Connection), base(Endpoint::Sharing)),
            setup.lifetime.clone(),
            setup.waits,
            Some(setup.store),
        )?;
        let tls = presenting::server_configs(setup.pki, setup.tls, &state)?;
        let state_key_log = state.key_log.clone();
        if setup.tls.versions.legacy_only().is_some() {
            state.presenting.set(setup.pki, setup.tls, &state)?;
        }
        let cloud = Self {
            persistence: restart::Persistence::from_faults(&state.faults),
            state,
            ingress: Traffic::new(),
            addrs,
            tls: Arc::new(tls),
            key_log: state_key_log,
        };
        cloud.serve(listeners.into_iter().map(|(_, _, l)| l).collect());
        Ok(cloud)
    }

    /// Serves one listener per endpoint, in `Endpoint::ALL`'s order.
    fn serve(&self, listeners: Vec<TcpListener>) {
        for ((endpoint, listener), tls) in Endpoint::ALL
            .into_iter()
            .zip(listeners)
            .zip(self.tls.iter())
        {
            let state = &self.state;
            let router = match endpoint {
                Endpoint::Connection => connection::router(state.clone()),
                Endpoint::Sharing => {
                    store::keeping_answers(sharing::router(state.clone()), state.store.clone())
                }
                Endpoint::Tunnel => tunnel::router(state.clone()),
            };
            let host = endpoint.host();
            listener::serve(
                listener::Endpoint {
                    listener,
                    host,
                    tls: tls.clone(),
                    router: date::dated(
                        requests::recorded(router, state.clone(), host),
                        state.clock.clone(),
                    ),
                },
                state.clone(),
                self.ingress.clone(),
            );
        }
    }

    /// The cloud's processes stop and start again on the same addresses: every connection
    /// (tunnels included) ends and the in-memory tunnel table is lost; what the cloud stored
    /// (accounts, registrations, token families, shares and links, the signing key) is what
    /// it serves from when it is back.
    pub async fn restart(&self) -> Result<(), CloudError> {
        self.stop_serving().await;
        self.serve_again().await
    }

    /// The primary is replaced by the newest backup of the second region and the cloud
    /// restarts on it: it serves the accounts, DMSs, tokens and shares of that backup, and
    /// nothing written after it.
    pub async fn restore_from_backup(&self) -> Result<store::Restored, CloudError> {
        self.stop_serving().await;
        let restored = self.state.store.restore_from_replica();
        self.serve_again().await?;
        Ok(restored?)
    }

    /// The current run ends: its listeners, connections and tunnels.
    async fn stop_serving(&self) {
        self.state.lifetime.end_run().await;
        self.state
            .tunnels
            .forget_all(self.state.clock.unix_seconds());
    }

    /// A new run: rebuilt from the store, on the same addresses.
    async fn serve_again(&self) -> Result<(), CloudError> {
        rebuild::from_store(&self.state, self.persistence)?;
        if !self.persistence.families_stored {
            self.state.tokens.forget_families();
        }
        let mut listeners = Vec::new();
        for (_, addr) in &self.addrs {
            listeners.push(TcpListener::bind(addr).await?);
        }
        self.serve(listeners);
        Ok(())
    }

    pub fn addr(&self, endpoint: Endpoint) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| unreachable!("every endpoint is bound at start"))
    }

    /// Every connection and byte the cloud's listeners accepted, per published name.
    /// The slot every endpoint's TLS configuration logs its secrets to (nothing until an
    /// environment that captures plugs a key log in).
    pub fn key_log(&self) -> &crate::world::capture::KeyLogSlot {
        &self.key_log
    }

    pub fn ingress(&self) -> &Traffic {
        &self.ingress
    }

    /// Every HTTP request (and WebSocket upgrade) the cloud received.
    pub fn requests(&self) -> &RequestLog {
        &self.state.requests
    }

    pub fn tunnels(&self) -> &Tunnels {
        &self.state.tunnels
    }

    /// Sends `request` to the DMS `dms_id` as one stream through one of its live tunnels;
    /// returns the answer's head as soon as it arrives, its body streaming. A tunnel that
    /// closes fails the request (or its body) with an error.
    pub async fn send_through_tunnel(
        &self,
        dms_id: &str,
        request: http::Request<axum::body::Body>,
    ) -> Result<http::Response<hyper::body::Incoming>, TunnelSendError> {
        self.state.tunnels.streams().send(dms_id, request).await
    }

    /// Every mail the cloud sent (share links, sign-up codes).
    pub fn outbox(&self) -> &Outbox {
        &self.state.outbox
    }

    /// The shares the cloud holds, as its records show them (no link tokens).
    pub fn shares(&self) -> Vec<ShareRecord> {
        self.state.shares.all()
    }

    /// Switches a cloud-wide outage on or off.
    pub fn outage(&self) -> &OutageSwitch {
        &self.state.outage
    }

    /// Where check-then-spend redemptions meet between their check and their spend.
    pub fn redemptions(&self) -> &Rendezvous {
        &self.state.redemptions
    }

    /// Holds the refresh grant's answers (after the renewal is done on the cloud's side).
    pub fn renewal_hold(&self) -> &AnswerHold {
        &self.state.renewal_hold
    }

    /// The first flight of every connection the cloud accepted: what each client offered.
    pub fn hellos(&self) -> &Hellos {
        &self.state.hellos
    }

    /// The Key Vault holding the signing key, with its audit record of reads.
    pub fn vault(&self) -> &KeyVault {
        &self.state.vault
    }

    /// The credential of the cloud's managed identity: what the cloud's own components present
    /// to the vault. Nothing in the simulated world reaches it (the DMS and outsiders have only
    /// the network); this accessor is the environment operator's, for an auditor who checks
    /// which key signed a token and searches for the secret where it must not be.
    pub fn managed_identity(&self) -> &Credential {
        &self.state.identity
    }

    /// The cloud's store: its records, its key versions, its backups.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Runs the cloud's scheduled jobs as the clock stands: shares that expired are ended and
    /// their end kept; key rotation, re-wrap, backups.
    pub fn maintain(&self) {
        let now = self.state.clock.unix_seconds();
        self.state.devices.maintain(now);
        self.state.signups.maintain(now);
        self.state.accounts.maintain();
        share_keeping::keep_ends(&self.state, self.state.clock.unix_seconds());
        self.state.store.maintain();
    }

    /// How many entries the cloud's tables of unauthenticated state hold now: what a flood
    /// would fill (DOS-1), for an operator's dashboard and the scenarios that read it.
    pub fn table_sizes(&self) -> TableSizes {
        let (device_grants, approval_tickets) = self.state.devices.sizes();
        TableSizes {
            device_grants,
            approval_tickets,
            pending_signups: self.state.signups.pending(),
            sessions: self.state.accounts.session_count(),
        }
    }

    /// The cloud's operational log.
    pub fn log(&self) -> &CloudLog {
        &self.state.log
    }

    /// The cloud's published route table: every route of every host it serves, with the
    /// credential each asks for (its routers are built from it).
    pub fn routes(&self) -> &'static [Route] {
        routes::ROUTES
    }

    /// From now on every listener presents `tls` (a certificate problem, other versions) to
    /// new connections, as a misconfigured or impersonated endpoint would; `CloudTls::default()`
    /// puts the cloud's own face back.
    pub fn present(&self, pki: &Pki, tls: CloudTls) -> Result<(), CloudError> {
        if tls == CloudTls::default() {
            self.state.presenting.clear();
            return Ok(());
        }
        self.state.presenting.set(pki, tls, &self.state)
    }

    /// Every token the cloud issued (no token strings), in order.
    pub fn issued(&self) -> Vec<Issued> {
        self.state.tokens.issued()
    }
}

/// The sizes of the cloud's tables of state a request can create before authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableSizes {
    pub device_grants: usize,
    pub approval_tickets: usize,
    pub pending_signups: usize,
    pub sessions: usize,
}

/// The cloud could not start.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// A listener could not be bound on loopback.
    #[error("cannot bind a cloud listener: {0}")]
    Bind(#[from] std::io::Error),
    /// Certificates for the published names could not be made.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The store could not be opened.
    #[error("cannot open the cloud's store: {0}")]
    Store(#[from] StoreError),
}
