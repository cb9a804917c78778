//! `conform bench tunnel`: how fast the tunnel is on loopback, against one plain TLS 1.2
//! stream as the baseline. Figures, not verdicts: targets are printed beside them.

pub(crate) mod fleet;
mod footprint;
pub(crate) mod fullpath;
pub mod light_agents;
pub(crate) mod memory;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mocks::cloud::{self, Cloud};
use mocks::world::{Clock, FaultSet};
use mocks::{Environment, Options};
use scenarios::steps::{self, LARGE, Sink};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the baseline stream carries.
const BASELINE_BYTES: usize = 256 * 1024 * 1024;
/// Large answers the tunnel carries one after the other.
const TUNNEL_ANSWERS: usize = 16;
/// Streams at once through one tunnel.
const CONCURRENT: usize = 64;
/// 1 KiB requests timed one after the other.
const LATENCY_SAMPLES: usize = 1000;
/// Light agents holding one idle tunnel each to one cloud.
const IDLE_TUNNELS: usize = 1000;

/// Every figure of one run; throughputs in MB/s (10^6 bytes per second).
#[derive(Debug, Serialize)]
pub struct Figures {
    pub baseline_tls12_mbps: f64,
    pub tunnel_mbps: f64,
    pub tunnel_ratio: f64,
    pub concurrent_streams: usize,
    pub concurrent_mbps: f64,
    pub concurrent_ratio: f64,
    /// Slowest stream's throughput over the fastest's.
    pub concurrent_fairness: f64,
    pub latency_1kib_p50_us: u64,
    pub latency_1kib_p99_us: u64,
    /// A DataMiner API call (`GetElement`) from the cloud through the tunnel, the agent, the
    /// WAF and the DMA, without a recipient's HTTPS hop in front.
    pub full_path_call_p50_us: u64,
    pub full_path_call_p99_us: u64,
    /// A recipient's HTTPS download of a large trend through the sharing front end, the
    /// tunnel, the agent, the WAF and the DMA: two TLS hops.
    pub full_path_bulk_mbps: f64,
    pub full_path_bulk_ratio: f64,
    pub full_path_bulk_bytes: u64,
    /// A recipient's call answered with about 1 KiB, over the same full path.
    pub full_path_1kib_p50_us: u64,
    pub full_path_1kib_p99_us: u64,
    pub full_path_1kib_bytes: u64,
    /// Light agents connected to one cloud for the footprint figure.
    pub idle_tunnels: usize,
    /// The cloud's resident-memory growth per idle tunnel, in KiB.
    pub idle_tunnel_kib_cloud: f64,
    /// A light agent's resident-memory growth per idle tunnel (its own process), in KiB.
    pub idle_tunnel_kib_agent: f64,
    /// Not measured, with the reason.
    pub not_measured: Vec<(&'static str, String)>,
}

pub fn tunnel(json: bool) -> anyhow::Result<ExitCode> {
    let figures = super::runtime()?.block_on(measure())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print_table(&figures);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(f: &Figures) {
    println!(
        "baseline TLS 1.2 bulk     {:>9.1} MB/s",
        f.baseline_tls12_mbps
    );
    println!(
        "tunnel bulk               {:>9.1} MB/s  {:>5.1} % of baseline (target >= 50 %)",
        f.tunnel_mbps,
        f.tunnel_ratio * 100.0
    );
    println!(
        "{} streams at once        {:>9.1} MB/s  {:>5.1} % of baseline, fairness {:.2} (target >= 0.5)",
        f.concurrent_streams,
        f.concurrent_mbps,
        f.concurrent_ratio * 100.0,
        f.concurrent_fairness
    );
    println!(
        "1 KiB request latency     p50 {} us, p99 {} us (target p99 <= 2000 us)",
        f.latency_1kib_p50_us, f.latency_1kib_p99_us
    );
    println!(
        "full path API call        p50 {} us, p99 {} us (cloud -> tunnel -> agent -> WAF -> DMA)",
        f.full_path_call_p50_us, f.full_path_call_p99_us
    );
    println!(
        "full path bulk            {:>9.1} MB/s  {:>5.1} % of baseline (target >= 33 %; recipient HTTPS -> sharing -> tunnel -> agent -> WAF -> DMA)",
        f.full_path_bulk_mbps,
        f.full_path_bulk_ratio * 100.0
    );
    println!(
        "full path 1 KiB latency   p50 {} us, p99 {} us (target p99 <= 2000 us)",
        f.full_path_1kib_p50_us, f.full_path_1kib_p99_us
    );
    if f.idle_tunnels > 0 {
        println!(
            "footprint per idle tunnel {:>9.1} KiB on the cloud (target <= 64 KiB), {:.1} KiB per light agent, {} tunnels on one cloud",
            f.idle_tunnel_kib_cloud, f.idle_tunnel_kib_agent, f.idle_tunnels
        );
    }
    for (what, why) in &f.not_measured {
        println!("{what}: not measured: {why}");
    }
}

/// A connected DMS whose tunnel streams go to a loopback sink, not the WAF: the tunnel alone.
pub async fn connected_to_sink() -> anyhow::Result<(Environment, Sink)> {
    let sink = Sink::start().await?;
    let env = Environment::start_with(Options {
        tunnel_target: Some(sink.addr),
        ..Options::default()
    })
    .await?;
    steps::connect_dms(&env)
        .await
        .map_err(|e| anyhow::anyhow!("connecting the DMS: {e}"))?;
    Ok((env, sink))
}

/// Runs every measurement once, in order.
pub async fn measure() -> anyhow::Result<Figures> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let baseline = baseline_tls12(BASELINE_BYTES).await?;

    let (env, _sink) = connected_to_sink().await?;
    let dms = env.accounts().dms_id.clone();
    let cloud = env.cloud().clone();

    let started = Instant::now();
    for _ in 0..TUNNEL_ANSWERS {
        fetch(&cloud, &dms, "/large").await?;
    }
    let tunnel = mbps(TUNNEL_ANSWERS * LARGE, started.elapsed());

    let started = Instant::now();
    let streams: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (cloud, dms) = (cloud.clone(), dms.clone());
            tokio::spawn(async move {
                let began = Instant::now();
                fetch(&cloud, &dms, "/large").await.map(|_| began.elapsed())
            })
        })
        .collect();
    let mut durations = Vec::new();
    for stream in streams {
        durations.push(stream.await??);
    }
    let concurrent = mbps(CONCURRENT * LARGE, started.elapsed());
    let slowest = durations.iter().max().copied().unwrap_or_default();
    let fastest = durations.iter().min().copied().unwrap_or_default();
    let fairness = fastest.as_secs_f64() / slowest.as_secs_f64().max(f64::EPSILON);

    let mut latencies = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let began = Instant::now();
        fetch(&cloud, &dms, "/kib").await?;
        latencies.push(began.elapsed());
    }
    env.stop().await;
    let full_path = full_path_calls().await?;
    let recipient = fullpath::measure(LATENCY_SAMPLES).await?;
    let bulk_took: Duration = recipient.bulk_took.iter().sum();
    let bulk = mbps(
        recipient.bulk_bytes as usize * recipient.bulk_took.len(),
        bulk_took,
    );
    let mut kib = recipient.kib_took;
    let mut not_measured = Vec::new();
    // A machine short of file descriptors or memory loses this figure, not the others.
    let footprint = match footprint::measure(IDLE_TUNNELS).await {
        Ok(footprint) => Some(footprint),
        Err(e) => {
            not_measured.push(("footprint per idle tunnel", e.to_string()));
            None
        }
    };

    Ok(Figures {
        baseline_tls12_mbps: baseline,
        tunnel_mbps: tunnel,
        tunnel_ratio: tunnel / baseline,
        concurrent_streams: CONCURRENT,
        concurrent_mbps: concurrent,
        concurrent_ratio: concurrent / baseline,
        concurrent_fairness: fairness,
        latency_1kib_p50_us: percentile(&mut latencies, 50),
        latency_1kib_p99_us: percentile(&mut latencies, 99),
        full_path_call_p50_us: percentile(&mut full_path.clone(), 50),
        full_path_call_p99_us: percentile(&mut full_path.clone(), 99),
        full_path_bulk_mbps: bulk,
        full_path_bulk_ratio: bulk / baseline,
        full_path_bulk_bytes: recipient.bulk_bytes,
        full_path_1kib_p50_us: percentile(&mut kib, 50),
        full_path_1kib_p99_us: percentile(&mut kib, 99),
        full_path_1kib_bytes: recipient.kib_bytes,
        idle_tunnels: footprint.as_ref().map_or(0, |f| f.tunnels),
        idle_tunnel_kib_cloud: footprint
            .as_ref()
            .map_or(0.0, footprint::Footprint::cloud_per_tunnel_kib),
        idle_tunnel_kib_agent: footprint
            .as_ref()
            .map_or(0.0, footprint::Footprint::agent_per_tunnel_kib),
        not_measured,
    })
}

/// The `p`th percentile of `samples`, in microseconds.
pub(crate) fn percentile(samples: &mut [Duration], p: usize) -> u64 {
    samples.sort();
    samples
        .get((samples.len() * p / 100).min(samples.len().saturating_sub(1)))
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `GetElement` calls from the cloud through the tunnel to the DMA, one after the other, in
/// the default deployment (the agent forwards to the WAF); how long each took.
async fn full_path_calls() -> anyhow::Result<Vec<Duration>> {
    const API: &str = "/API/v1/Json.asmx/";
    let env = Environment::start(FaultSet::none()).await?;
    steps::connect_dms(&env)
        .await
        .map_err(|e| anyhow::anyhow!("connecting the DMS: {e}"))?;
    let dms = env.accounts().dms_id.clone();
    let cloud = env.cloud().clone();
    let admin = &env.accounts().dms_admin;
    let login = serde_json::json!({
        "host": "", "login": admin.login, "password": admin.password,
        "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "bench",
    });
    let answer = call(&cloud, &dms, &format!("{API}ConnectApp"), &login).await?;
    let connection = answer
        .get("d")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("ConnectApp through the tunnel answered {answer}"))?
        .to_owned();
    let element =
        serde_json::json!({ "connection": connection, "dmaID": 2000, "elementID": "100" });
    let mut took = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let began = Instant::now();
        let answer = call(&cloud, &dms, &format!("{API}GetElement"), &element).await?;
        took.push(began.elapsed());
        anyhow::ensure!(answer.get("d").is_some(), "GetElement answered {answer}");
    }
    env.stop().await;
    Ok(took)
}

/// One DataMiner API call through the tunnel; the JSON answer.
async fn call(
    cloud: &Cloud,
    dms: &str,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let answer = cloud
        .send_through_tunnel(dms, cloud::post_json(path, body)?)
        .await?;
    let mut body = answer.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = cloud::next_chunk(&mut body).await? {
        bytes.extend_from_slice(&chunk);
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// One GET through the tunnel, its body read to the end; the bytes read.
pub async fn fetch(cloud: &Cloud, dms: &str, path: &str) -> anyhow::Result<usize> {
    let answer = cloud.send_through_tunnel(dms, cloud::get(path)?).await?;
    let mut body = answer.into_body();
    let mut read = 0;
    while let Some(chunk) = cloud::next_chunk(&mut body).await? {
        read += chunk.len();
    }
    Ok(read)
}

fn mbps(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / took.as_secs_f64().max(f64::EPSILON) / 1e6
}

/// One TLS 1.2 stream on loopback, the agent's client configuration against a TLS 1.2-only
/// server: `bytes` from server to client in 256 KiB writes. Returns MB/s.
pub async fn baseline_tls12(bytes: usize) -> anyhow::Result<f64> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert)?;
    let client = mocks::agent::client_config(
        Arc::new(roots),
        &Clock::from_wall_clock(),
        &FaultSet::none(),
    )?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let sending = tokio::spawn(async move {
        let (socket, _) = listener.accept().await?;
        let mut tls = acceptor.accept(socket).await?;
        let chunk = vec![0u8; 256 * 1024];
        let mut sent = 0;
        while sent < bytes {
            let n = chunk.len().min(bytes - sent);
            tls.write_all(&chunk[..n]).await?;
            sent += n;
        }
        tls.shutdown().await?;
        anyhow::Ok(())
    });
    let socket = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let started = Instant::now();
    let mut tls = tokio_rustls::TlsConnector::from(client)
        .connect(name, socket)
        .await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut read = 0;
    loop {
        match tls.read(&mut buf).await? {
            0 => break,
            n => read += n,
        }
    }
    let took = started.elapsed();
    sending.await??;
    anyhow::ensure!(
        read == bytes,
        "the baseline stream ended after {read} of {bytes} bytes"
    );
    Ok(mbps(bytes, took))
}
