//! Memory per idle tunnel: many light agents (see `light_agents`) hold one tunnel each to one
//! cloud. The agents run in a child process (`conform bench light-agents`), so the cloud's
//! resident-set growth and the agents' are measured apart. Tokens come through the public
//! connect flow (RFC 8628), one DMS per agent.

use mocks::Environment;
use mocks::world::FaultSet;

use super::fleet::{self, Fleet};
use super::light_agents::Held;
use super::memory::resident_kib;

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
    let tokens = fleet::register(env, count, "light").await?;
    let cloud_before_kib = resident_kib()?;
    let mut agents = Fleet::start(env, tokens).await?;
    agents.exchange_on_each(env).await?;
    let cloud_after_kib = resident_kib()?;
    let held = agents.held().await?;
    agents.stop().await?;
    Ok(Footprint {
        tunnels: count,
        cloud_before_kib,
        cloud_after_kib,
        agents: held,
    })
}
