//! Memory per idle tunnel: many light agents hold one tunnel each to one cloud. A light agent
//! is what a tunnel costs without the rest of a gateway: a WSS connection admitted with its own
//! DMS's token, and the HTTP/2 server the real agent runs on it, answering every stream with an
//! empty 204. Tokens come through the public connect flow (RFC 8628), one DMS per agent.
//!
//! The agents and the cloud share this process, so the resident-set growth counts both ends
//! of every tunnel: the cloud's share alone is smaller.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mocks::Environment;
use mocks::agent::WsIo;
use mocks::cloud::{self, Endpoint};
use mocks::world::FaultSet;
use scenarios::clients::CloudClient;
use scenarios::steps;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Connect flows or tunnel handshakes under way at once.
const AT_ONCE: usize = 16;

/// What the footprint run measured.
#[derive(Debug)]
pub struct Footprint {
    pub tunnels: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

impl Footprint {
    /// Resident memory per idle tunnel, both ends, in bytes.
    pub fn per_tunnel_bytes(&self) -> u64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib) * 1024 / (self.tunnels.max(1) as u64)
    }
}

/// Connects `count` light agents to one fresh cloud; the resident set before and after.
pub async fn measure(count: usize) -> anyhow::Result<Footprint> {
    let env = Environment::start(FaultSet::none()).await?;
    let measured = run(&env, count).await;
    env.stop().await;
    measured
}

async fn run(env: &Environment, count: usize) -> anyhow::Result<Footprint> {
    let tokens = tokens(env, count).await?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(env.ca_der())?;
    let tls = mocks::agent::client_config(Arc::new(roots), env.clock(), &FaultSet::none())?;
    let url = env.cloud_url(Endpoint::Tunnel);
    let addr = env.cloud().addr(Endpoint::Tunnel);

    let rss_before_kib = resident_kib()?;
    let mut agents = JoinSet::new();
    for batch in tokens.chunks(AT_ONCE) {
        let mut connecting = JoinSet::new();
        for (_, token) in batch {
            connecting.spawn(light_agent(addr, url.clone(), token.clone(), tls.clone()));
        }
        while let Some(connected) = connecting.join_next().await {
            agents.spawn(connected??);
        }
    }
    // One exchange on each proves every tunnel carries streams end to end; then all are idle.
    let cloud = env.cloud();
    for (dms_id, _) in &tokens {
        let answer = cloud.send_through_tunnel(dms_id, cloud::get("/")?).await?;
        let mut body = answer.into_body();
        while cloud::next_chunk(&mut body).await?.is_some() {}
    }
    let rss_after_kib = resident_kib()?;
    let live = cloud.tunnels().live().len();
    agents.abort_all();
    anyhow::ensure!(
        live == count,
        "{live} of {count} light agents' tunnels are up"
    );
    Ok(Footprint {
        tunnels: count,
        rss_before_kib,
        rss_after_kib,
    })
}

/// Opens one light agent's tunnel; the future that serves it until it closes.
async fn light_agent(
    addr: std::net::SocketAddr,
    url: String,
    token: String,
    tls: Arc<rustls::ClientConfig>,
) -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    let mut request = url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let socket = tokio::net::TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        socket,
        None,
        Some(Connector::Rustls(tls)),
    )
    .await?;
    let (io, _control) = WsIo::new(ws);
    Ok(async move {
        let service = service_fn(|_| async {
            let mut answer = http::Response::new(Empty::<Bytes>::new());
            *answer.status_mut() = http::StatusCode::NO_CONTENT;
            Ok::<_, Infallible>(answer)
        });
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), service)
            .await;
    })
}

/// `count` DMSs through the connect flow, approved by the cloud's Administrator: their IDs and
/// tokens.
async fn tokens(env: &Environment, count: usize) -> anyhow::Result<Vec<(String, String)>> {
    let failed = |e: scenarios::Failure| anyhow::anyhow!("{e}");
    let dms = CloudClient::new(env).map_err(failed)?;
    let browser = CloudClient::new(env).map_err(failed)?;
    let cookie = steps::cloud_login(env, &browser).await.map_err(failed)?;
    let mut tokens = Vec::with_capacity(count);
    let ids: Vec<String> = (0..count).map(|i| format!("light-{i:04}")).collect();
    for batch in ids.chunks(AT_ONCE) {
        let mut flows = JoinSet::new();
        for id in batch {
            let (dms, browser, cookie, id) =
                (dms.clone(), browser.clone(), cookie.clone(), id.clone());
            flows.spawn(async move { connect_flow(&dms, &browser, &cookie, &id).await });
        }
        while let Some(flow) = flows.join_next().await {
            tokens.push(flow?.map_err(failed)?);
        }
    }
    Ok(tokens)
}

async fn connect_flow(
    dms: &CloudClient,
    browser: &CloudClient,
    cookie: &str,
    dms_id: &str,
) -> Result<(String, String), scenarios::Failure> {
    let field = |reply: &scenarios::clients::Reply, name: &str| {
        reply
            .body
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| scenarios::Failure::expectation(name, "in the answer", reply))
    };
    let started = dms
        .post(
            Endpoint::Connection,
            "oauth/device_authorization",
            &json!({ "client_id": "dataminer-cloud-gateway", "dms_id": dms_id }),
            None,
        )
        .await?;
    let (device_code, user_code) = (
        field(&started, "device_code")?,
        field(&started, "user_code")?,
    );
    browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": user_code }),
            Some(cookie),
        )
        .await?;
    let token = dms
        .post(
            Endpoint::Connection,
            "oauth/token",
            &json!({ "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code }),
            None,
        )
        .await?;
    Ok((dms_id.to_owned(), field(&token, "access_token")?))
}

/// This process's resident set, from `/proc/self/status`.
fn resident_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS line in /proc/self/status"))
}
