//! The light agents' process (`conform bench light-agents`, see `light_agents`) as the cloud's
//! side drives it: tokens for many DMSs through the public connect flow (RFC 8628), the child
//! spawned with them, its tunnels checked on the cloud, and its resident set asked for. The
//! footprint figure and the soak both hold their idle tunnels this way.

use std::collections::HashSet;
use std::process::Stdio;

use mocks::Environment;
use mocks::cloud::{self, Endpoint};
use scenarios::clients::CloudClient;
use scenarios::steps;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinSet;

use super::light_agents::{Connected, Held, Job};

/// Connect flows under way at once.
const AT_ONCE: usize = 16;

/// The light agents' child process, every tunnel of it up.
#[derive(Debug)]
pub struct Fleet {
    child: Child,
    to_agents: ChildStdin,
    from_agents: Lines<BufReader<ChildStdout>>,
    dms_ids: Vec<String>,
}

impl Fleet {
    /// Spawns the light agents with `tokens` (DMS ID, token) and waits until every one of them
    /// holds its tunnel, as the cloud counts them.
    pub async fn start(env: &Environment, tokens: Vec<(String, String)>) -> anyhow::Result<Self> {
        let (dms_ids, tokens): (Vec<String>, Vec<String>) = tokens.into_iter().unzip();
        let job = Job {
            addr: env.cloud().addr(Endpoint::Tunnel),
            url: env.cloud_url(Endpoint::Tunnel),
            ca_der: env.ca_der().to_vec(),
            clock_unix: env.clock().unix_seconds(),
            tokens,
        };
        let mut child = Command::new(std::env::current_exe()?)
            .args(["bench", "light-agents"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let (Some(to_agents), Some(from_agents)) = (child.stdin.take(), child.stdout.take()) else {
            anyhow::bail!("the light agents' process has no pipes");
        };
        let mut fleet = Self {
            child,
            to_agents,
            from_agents: BufReader::new(from_agents).lines(),
            dms_ids,
        };
        let mut tell = serde_json::to_vec(&job)?;
        tell.push(b'\n');
        fleet.to_agents.write_all(&tell).await?;
        let connected: Connected = serde_json::from_str(&fleet.hear().await?)?;
        let want = fleet.dms_ids.len();
        let live = fleet.live(env);
        anyhow::ensure!(
            connected.tunnels == want && live == want,
            "{live} of {want} light agents' tunnels are up"
        );
        Ok(fleet)
    }

    /// The light agents' tunnels the cloud holds now.
    pub fn live(&self, env: &Environment) -> usize {
        let ours: HashSet<&str> = self.dms_ids.iter().map(String::as_str).collect();
        env.cloud()
            .tunnels()
            .live()
            .iter()
            .filter(|t| ours.contains(t.dms_id.as_str()))
            .count()
    }

    /// One exchange down every tunnel: proves each carries streams end to end.
    pub async fn exchange_on_each(&self, env: &Environment) -> anyhow::Result<()> {
        let cloud = env.cloud();
        for dms_id in &self.dms_ids {
            let answer = cloud.send_through_tunnel(dms_id, cloud::get("/")?).await?;
            let mut body = answer.into_body();
            while cloud::next_chunk(&mut body).await?.is_some() {}
        }
        Ok(())
    }

    /// The light agents' resident set before their tunnels and now.
    pub async fn held(&mut self) -> anyhow::Result<Held> {
        self.to_agents.write_all(b"measure\n").await?;
        Ok(serde_json::from_str(&self.hear().await?)?)
    }

    /// Closes the light agents' stdin, which ends them, and waits for the process.
    pub async fn stop(self) -> anyhow::Result<()> {
        let Self {
            mut child,
            to_agents,
            ..
        } = self;
        drop(to_agents);
        child.wait().await?;
        Ok(())
    }

    async fn hear(&mut self) -> anyhow::Result<String> {
        self.from_agents
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("the light agents' process ended early"))
    }
}

/// `count` DMSs through the connect flow, approved by the cloud's Administrator: their IDs
/// (`{prefix}-0000`, ...) and tokens.
pub async fn register(
    env: &Environment,
    count: usize,
    prefix: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let failed = |e: scenarios::Failure| anyhow::anyhow!("{e}");
    let dms = CloudClient::new(env).map_err(failed)?;
    let browser = CloudClient::new(env).map_err(failed)?;
    let cookie = steps::cloud_login(env, &browser).await.map_err(failed)?;
    let mut tokens = Vec::with_capacity(count);
    let ids: Vec<String> = (0..count).map(|i| format!("{prefix}-{i:04}")).collect();
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
