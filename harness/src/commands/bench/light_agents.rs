//! `conform bench light-agents` (hidden): the agents' end of the footprint run, in a process
//! of its own so that each end's memory is measured apart. It reads a [`Job`] line on stdin,
//! opens one tunnel per token, says [`Connected`], and answers every further stdin line with its
//! resident set as [`Held`]; it keeps the tunnels until stdin closes (`fleet` drives it).
//!
//! A light agent is what a tunnel costs without the rest of a gateway: a WSS connection
//! admitted with its own DMS's token, and the HTTP/2 server the real agent runs on it, answering
//! every stream with an empty 204.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mocks::tunnel_io::{WsIo, tunnel_config};
use mocks::world::{Clock, FaultSet};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::task::JoinSet;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Tunnel handshakes under way at once.
const AT_ONCE: usize = 16;

/// What the light agents are to connect to.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub addr: SocketAddr,
    pub url: String,
    /// The environment's CA certificate, DER.
    pub ca_der: Vec<u8>,
    /// The environment's clock, which the certificates' validity follows.
    pub clock_unix: u64,
    pub tokens: Vec<String>,
}

/// Every tunnel is up.
#[derive(Debug, Serialize, Deserialize)]
pub struct Connected {
    pub tunnels: usize,
}

/// The agents' resident set before their tunnels and now.
#[derive(Debug, Serialize, Deserialize)]
pub struct Held {
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

pub fn serve() -> anyhow::Result<ExitCode> {
    super::super::runtime()?.block_on(hold())?;
    Ok(ExitCode::SUCCESS)
}

async fn hold() -> anyhow::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let job: Job = serde_json::from_str(
        &lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no job on stdin"))?,
    )?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(job.ca_der.clone().into())?;
    let clock = Clock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(job.clock_unix));
    let tls = mocks::agent::client_config(Arc::new(roots), &clock, &FaultSet::none())?;

    let rss_before_kib = super::memory::resident_kib()?;
    let mut agents = JoinSet::new();
    for batch in job.tokens.chunks(AT_ONCE) {
        let mut connecting = JoinSet::new();
        for token in batch {
            connecting.spawn(light_agent(
                job.addr,
                job.url.clone(),
                token.clone(),
                tls.clone(),
            ));
        }
        while let Some(connected) = connecting.join_next().await {
            agents.spawn(connected??);
        }
    }
    say(&Connected {
        tunnels: agents.len(),
    })
    .await?;
    // The cloud asks as often as it likes: the footprint once, the soak before and after.
    while lines.next_line().await?.is_some() {
        say(&Held {
            rss_before_kib,
            rss_after_kib: super::memory::resident_kib()?,
        })
        .await?;
    }
    agents.abort_all();
    Ok(())
}

async fn say(message: &impl Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    let mut stdout = tokio::io::stdout();
    stdout.write_all(&line).await?;
    stdout.flush().await?;
    Ok(())
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
        Some(tunnel_config()),
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
