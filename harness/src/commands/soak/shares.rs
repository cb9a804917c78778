//! The DMSs that serve viewers: each a real agent, WAF and DMA of its own, wired to the
//! environment's one cloud the way `mocks::Environment` wires its own DMS, serving data marked
//! with its ID (see `oracle`). Each is connected through the public connect flow, approved by
//! the cloud's Administrator, and shares one fixture dashboard (`ShareDashboard`) with the
//! addresses of its viewers, who open it as recipients (`viewers`).

use std::sync::Arc;
use std::time::Duration;

use fixtures::{Dashboard, DmaData};
use mocks::Environment;
use mocks::agent::{self, Agent, AgentSetup, CloudUrls, CredentialStore};
use mocks::cloud::Endpoint;
use mocks::dma::{Dma, DmaSetup, Role, User};
use mocks::dms::GatewayKey;
use mocks::waf::Waf;
use mocks::world::net::{Network, Resolver, Traffic};
use mocks::world::{FaultSet, Lifetime, random_token};
use scenarios::clients::{CloudClient, exchange};
use scenarios::steps;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::oracle;

/// The RFC 8628 polling interval the cloud announces: the agents fetch their tokens after it.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How long a DMS may take to have its tunnels up once it has its token.
const TUNNELS_BOUND: Duration = Duration::from_secs(20);
/// Connect flows under way at once.
const AT_ONCE: usize = 16;
const API: &str = "/API/v1/Json.asmx/";

/// One share's DMS, running.
#[derive(Debug)]
pub struct ShareDms {
    pub dms_id: String,
    pub dashboard: Dashboard,
    /// What its DMA serves, marked with its ID: what the oracle expects.
    pub data: DmaData,
    /// The share user's login and password, once shared.
    pub share_user: Option<(String, String)>,
    /// A read-only DMS user, for viewers that come through remote access: the DMS's own
    /// rights apply to them (share users are signed in only by the Cloud Gateway).
    pub remote_user: (String, String),
    admin: User,
    dma: Dma,
    agent: Agent,
    waf: Waf,
    /// What the DMS dialled, counted on its own sockets.
    egress: Traffic,
    lifetime: Lifetime,
}

impl ShareDms {
    /// Starts the `index`th share's DMS against `env`'s cloud; it stays disabled until
    /// connected.
    pub async fn start(
        env: &Environment,
        index: usize,
        dashboard: Dashboard,
    ) -> anyhow::Result<Self> {
        let dms_id = oracle::dms_id(index);
        let data = oracle::marked(DmaData::load()?, &dms_id);
        let clock = env.clock().clone();
        let faults = FaultSet::none();
        let lifetime = Lifetime::new();
        let mut resolver = Resolver::new(clock.clone());
        for (name, addr) in env.published() {
            resolver.publish(name, 443, addr);
        }
        let egress = Traffic::new();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(env.ca_der())?;

        let dma_listener = TcpListener::bind("127.0.0.1:0").await?;
        let gateway_listener = TcpListener::bind("127.0.0.1:0").await?;
        let waf_listener = TcpListener::bind("127.0.0.1:0").await?;
        let gateway_key = GatewayKey::generate();
        let agent = Agent::start(
            AgentSetup {
                dms_id: dms_id.clone(),
                dms_name: format!("soak DMS {index}"),
                organization: env.accounts().cloud_admin.organization.clone(),
                urls: CloudUrls {
                    connection: Endpoint::Connection.published_url(),
                    tunnel: Endpoint::Tunnel.published_url(),
                },
                clock: clock.clone(),
                faults: faults.clone(),
                network: Network::new(resolver, egress.clone()),
                tls: agent::client_config(Arc::new(roots), &clock, &faults)?,
                store: CredentialStore::default(),
                network_timeout: agent::NetworkTimeout::new(agent::NETWORK_TIMEOUT),
                ping_timeout: agent::NETWORK_TIMEOUT,
                forward_to: waf_listener.local_addr()?,
                gateway_key,
                proxy: agent::ProxyOptions::default(),
                received: agent::ReceivedStreams::default(),
            },
            &lifetime,
        )?;
        let waf = Waf::start(
            waf_listener,
            gateway_listener.local_addr()?,
            gateway_key,
            clock.clone(),
            faults.clone(),
            &lifetime,
        )?;
        let remote_user = User {
            login: "remote".to_owned(),
            password: random_token(12),
            role: Role::ReadOnly,
        };
        let admin = User {
            login: "admin".to_owned(),
            password: random_token(12),
            role: Role::Administrator,
        };
        let dma = Dma::start(
            dma_listener,
            gateway_listener,
            DmaSetup {
                data: data.clone(),
                users: vec![admin.clone(), remote_user.clone()],
                gateway: agent.serve(clock.clone(), &lifetime),
                waf: std::sync::Arc::new(waf.clone()),
                gateway_key,
                clock,
                faults,
            },
            &lifetime,
        )?;
        Ok(Self {
            dms_id,
            dashboard,
            data,
            share_user: None,
            remote_user: (remote_user.login, remote_user.password),
            admin,
            dma,
            agent,
            waf,
            egress,
            lifetime,
        })
    }

    /// The DMS's Administrator, on the DMA's public API: `ConnectApp`, then `method`.
    async fn as_admin(&self, method: &str, fields: Value) -> anyhow::Result<Value> {
        let connection = dma_call(
            &self.dma,
            "ConnectApp",
            json!({
                "host": "", "login": self.admin.login, "password": self.admin.password,
                "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "soak",
            }),
        )
        .await?;
        let mut body = json!({ "connection": connection });
        if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
            body.extend(fields);
        }
        dma_call(&self.dma, method, body).await
    }

    /// The Administrator shares the DMS's dashboard with `emails`, its viewers' addresses; the
    /// share user is then known.
    async fn share(&mut self, emails: &[String]) -> anyhow::Result<()> {
        anyhow::ensure!(
            !emails.is_empty(),
            "{} has no viewer to share with",
            self.dms_id
        );
        let shared = self
            .as_admin(
                "ShareDashboard",
                json!({ "dashboardID": self.dashboard.id, "emails": emails }),
            )
            .await?;
        let share_id = shared
            .get("ShareID")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("{}: ShareDashboard answered {shared}", self.dms_id))?;
        self.share_user = self.dma.gateway_credentials(share_id);
        anyhow::ensure!(
            self.share_user.is_some(),
            "{}: no share user for share {share_id}",
            self.dms_id
        );
        Ok(())
    }

    /// The tunnels the DMS dialled (counted on its own sockets), once the cloud holds all of
    /// them ready for streams.
    async fn tunnels_up(&self, env: &Environment) -> anyhow::Result<usize> {
        self.agent.settle().await;
        let dialled = usize::try_from(self.egress.to(Endpoint::Tunnel.host()).open)?;
        anyhow::ensure!(dialled > 0, "{} dialled no tunnel", self.dms_id);
        let tunnels = env.cloud().tunnels();
        let up = tunnels
            .wait_live(&self.dms_id, dialled, TUNNELS_BOUND)
            .await
            && tunnels
                .wait_ready(&self.dms_id, dialled, TUNNELS_BOUND)
                .await;
        anyhow::ensure!(
            up,
            "{}'s {dialled} tunnels were not up within {TUNNELS_BOUND:?}",
            self.dms_id
        );
        Ok(dialled)
    }

    /// The text the WAF's decision log holds, in bytes.
    pub fn recorded_bytes(&self) -> usize {
        self.waf
            .decisions()
            .all()
            .iter()
            .map(|d| d.path.len() + d.reason.len() + d.share.as_ref().map_or(0, String::len))
            .sum()
    }

    /// Stops the DMS's agent, WAF and DMA.
    pub async fn stop(self) {
        self.lifetime.stop().await;
    }
}

/// Starts a share DMS per entry of `viewers` (its viewers' addresses), the fixture dashboards
/// taken in turn, connects every one of them to `env`'s cloud and shares its dashboard with
/// those addresses.
pub async fn start_all(
    env: &Environment,
    viewers: &[Vec<String>],
) -> anyhow::Result<Vec<ShareDms>> {
    let count = viewers.len();
    let dashboards = Dashboard::load_all()?;
    anyhow::ensure!(!dashboards.is_empty(), "no fixture dashboard to share");
    let mut shares = Vec::with_capacity(count);
    for index in 0..count {
        let dashboard = dashboards[index % dashboards.len()].clone();
        shares.push(ShareDms::start(env, index, dashboard).await?);
    }
    let failed = |e: scenarios::Failure| anyhow::anyhow!("{e}");
    let browser = CloudClient::new(env).map_err(failed)?;
    let cookie = steps::cloud_login(env, &browser).await.map_err(failed)?;
    for batch in shares.chunks(AT_ONCE) {
        let mut approvals = JoinSet::new();
        for share in batch {
            let pairing = share.as_admin("ConnectToCloud", json!({})).await?;
            let user_code = pairing
                .get("UserCode")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    anyhow::anyhow!("{}: ConnectToCloud answered {pairing}", share.dms_id)
                })?
                .to_owned();
            let (browser, cookie, dms_id) = (browser.clone(), cookie.clone(), share.dms_id.clone());
            // As the Administrator does it: the verification page, its ticket, the DMS's ID typed.
            approvals.spawn(async move {
                steps::approve_on_page(&browser, Some(&cookie), &user_code, &dms_id)
                    .await
                    .map(|approved| approved.answer)
            });
        }
        while let Some(approval) = approvals.join_next().await {
            let approval = approval?.map_err(failed)?;
            anyhow::ensure!(
                approval.status == 200,
                "approving a share's DMS answered {approval:?}"
            );
        }
    }
    // Every agent fetches its token at its next poll, on the one clock they share.
    env.advance(POLL_INTERVAL).await;
    for (share, emails) in shares.iter_mut().zip(viewers) {
        share.tunnels_up(env).await?;
        share.share(emails).await?;
    }
    Ok(shares)
}

/// The share DMSs' tunnels the cloud holds now.
pub fn live_tunnels(env: &Environment, shares: &[ShareDms]) -> usize {
    env.cloud()
        .tunnels()
        .live()
        .iter()
        .filter(|t| shares.iter().any(|s| s.dms_id == t.dms_id))
        .count()
}

/// One call on a DMA's public API; its `d`.
async fn dma_call(dma: &Dma, method: &str, body: Value) -> anyhow::Result<Value> {
    let reply = exchange(
        dma.addr(),
        "POST",
        &format!("{API}{method}"),
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let answer: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    match answer.get("d") {
        Some(d) if reply.status == 200 => Ok(d.clone()),
        _ => anyhow::bail!(
            "{method} on a share's DMA answered HTTP {}: {}",
            reply.status,
            reply.body
        ),
    }
}
