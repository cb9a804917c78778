//! Memory per idle tunnel: many light agents (see `light_agents`) hold one tunnel each to one
//! cloud. The agents run in a child process (`conform bench light-agents`), so the cloud's
//! resident-set growth and the agents' are measured apart. Tokens come through the public
//! connect flow (RFC 8628), one DMS per agent.

use std::process::Stdio;

use mocks::Environment;
use mocks::cloud::{self, Endpoint};
use mocks::world::FaultSet;
use scenarios::clients::CloudClient;
use scenarios::steps;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinSet;

use super::light_agents::{Connected, Held, Job};

/// Connect flows under way at once.
const AT_ONCE: usize = 16;

/// What the footprint run measured, in KiB of resident memory.
#[derive(Debug)]
pub struct Footprint {
    pub tunnels: usize,
    pub cloud_before_kib: u64,
    pub cloud_after_kib: u64,
    pub agents: Held,
}

impl Footprint {
    /// The cloud's resident-memory growth per idle tunnel, in KiB.
    pub fn cloud_per_tunnel_kib(&self) -> f64 {
        per_tunnel(self.cloud_before_kib, self.cloud_after_kib, self.tunnels)
    }

    /// A light agent's resident-memory growth per idle tunnel, in KiB.
    pub fn agent_per_tunnel_kib(&self) -> f64 {
        per_tunnel(
            self.agents.rss_before_kib,
            self.agents.rss_after_kib,
            self.tunnels,
        )
    }
}

fn per_tunnel(before: u64, after: u64, tunnels: usize) -> f64 {
    after.saturating_sub(before) as f64 / tunnels.max(1) as f64
}

/// Connects `count` light agents to one fresh cloud and measures both ends.
pub async fn measure(count: usize) -> anyhow::Result<Footprint> {
    let env = Environment::start(FaultSet::none()).await?;
    let measured = run(&env, count).await;
    env.stop().await;
    measured
}

async fn run(env: &Environment, count: usize) -> anyhow::Result<Footprint> {
    let tokens = tokens(env, count).await?;
    let job = Job {
        addr: env.cloud().addr(Endpoint::Tunnel),
        url: env.cloud_url(Endpoint::Tunnel),
        ca_der: env.ca_der().to_vec(),
        clock_unix: env.clock().unix_seconds(),
        tokens: tokens.iter().map(|(_, token)| token.clone()).collect(),
    };
    let cloud_before_kib = resident_kib()?;
    let mut agents = Command::new(std::env::current_exe()?)
        .args(["bench", "light-agents"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(mut to_agents), Some(from_agents)) = (agents.stdin.take(), agents.stdout.take())
    else {
        anyhow::bail!("the light agents' process has no pipes");
    };
    let mut from_agents = BufReader::new(from_agents).lines();
    let mut tell = serde_json::to_vec(&job)?;
    tell.push(b'\n');
    to_agents.write_all(&tell).await?;
    let mut hear = async || -> anyhow::Result<String> {
        from_agents
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("the light agents' process ended early"))
    };
    let connected: Connected = serde_json::from_str(&hear().await?)?;
    let cloud = env.cloud();
    let live = cloud.tunnels().live().len();
    anyhow::ensure!(
        connected.tunnels == count && live == count,
        "{live} of {count} light agents' tunnels are up"
    );
    // One exchange on each proves every tunnel carries streams end to end; then all are idle.
    for (dms_id, _) in &tokens {
        let answer = cloud.send_through_tunnel(dms_id, cloud::get("/")?).await?;
        let mut body = answer.into_body();
        while cloud::next_chunk(&mut body).await?.is_some() {}
    }
    let cloud_after_kib = resident_kib()?;
    to_agents.write_all(b"measure\n").await?;
    let held: Held = serde_json::from_str(&hear().await?)?;
    drop(to_agents);
    agents.wait().await?;
    Ok(Footprint {
        tunnels: count,
        cloud_before_kib,
        cloud_after_kib,
        agents: held,
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
            flows.spawn(async move { steps::register_dms(&dms, &browser, &cookie, &id).await });
        }
        while let Some(flow) = flows.join_next().await {
            tokens.push(flow?.map_err(failed)?);
        }
    }
    Ok(tokens)
}

/// This process's resident set, from `/proc/self/status`.
pub fn resident_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS line in /proc/self/status"))
}
